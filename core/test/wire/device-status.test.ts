import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateDeviceStatus } from '../../src/wire/device-status.ts';

describe('device status', () => {
  it('accepts every battery level 0-100 and printable firmware, or nulls, and ignores other fields', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 0, max: 100 })),
        fc.option(fc.stringMatching(/^[\x20-\x7e]{1,64}$/)),
        fc.dictionary(
          fc.string().filter((k) => k !== 'batteryPercent' && k !== 'firmware'),
          fc.anything(),
        ),
        (batteryPercent, firmware, extra) => {
          const verdict = validateDeviceStatus({ ...extra, batteryPercent, firmware });
          expect(verdict).toEqual({ ok: true, status: { batteryPercent, firmware } });
        },
      ),
    );
    expect(validateDeviceStatus({})).toEqual({ ok: true, status: { batteryPercent: null, firmware: null } });
  });

  it('refuses anything else, naming the field, and never throws', () => {
    for (const battery of [-1, 101, 50.5, '80', true, NaN])
      expect(validateDeviceStatus({ batteryPercent: battery })).toMatchObject({
        ok: false,
        code: 'INVALID_PAYLOAD',
        field: 'batteryPercent',
      });
    for (const firmware of ['', 'x'.repeat(65), 'ünïcode', 42, '\n'])
      expect(validateDeviceStatus({ firmware })).toMatchObject({
        ok: false,
        code: 'INVALID_PAYLOAD',
        field: 'firmware',
      });
    fc.assert(
      fc.property(fc.anything(), (payload) => {
        const verdict = validateDeviceStatus(payload);
        expect(typeof verdict.ok).toBe('boolean');
      }),
    );
  });
});
