import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REPLACEMENT_REASONS } from '../../src/domain/meter-loans.ts';
import { deviceReplacementsQueryAt, lendDeviceBody, replaceDeviceBody } from '../../src/wire/meter-loans.ts';
import { parseWith } from '../../src/wire/people.ts';

// The loan and replacement bodies and the replacements report's period (docs/follow-up.md, "Meters").

describe('the replacement body', () => {
  const serial = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);

  it('takes every reason; a complaint only with its cause in words', () => {
    fc.assert(
      fc.property(
        serial,
        fc.constantFrom(...REPLACEMENT_REASONS),
        fc.option(fc.string({ maxLength: 1000 })),
        (s, reason, cause) => {
          const parsed = parseWith(replaceDeviceBody, { newSerial: s, reason, cause });
          const words = (cause ?? '').trim();
          if (reason === 'complaint' && words === '') {
            expect(parsed).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', field: 'cause' } });
          } else {
            expect(parsed).toEqual({ ok: true, value: { newSerial: s, reason, cause: words || null } });
          }
        },
      ),
    );
  });

  it('refuses any other reason, a bad serial and unknown fields, naming the field', () => {
    fc.assert(
      fc.property(
        fc.string().filter((r) => !(REPLACEMENT_REASONS as readonly string[]).includes(r)),
        (reason) => {
          expect(parseWith(replaceDeviceBody, { newSerial: 'M-1', reason })).toMatchObject({
            ok: false,
            error: { field: 'reason' },
          });
        },
      ),
    );
    expect(parseWith(replaceDeviceBody, { newSerial: 'bad serial', reason: 'defect' })).toMatchObject({
      ok: false,
      error: { field: 'newSerial' },
    });
    expect(parseWith(replaceDeviceBody, { newSerial: 'M-1', reason: 'defect', extra: 1 })).toMatchObject({
      ok: false,
      error: { field: 'extra' },
    });
    expect(parseWith(replaceDeviceBody, { newSerial: 'M-1', reason: 'other', cause: 'x'.repeat(1001) })).toMatchObject({
      ok: false,
      error: { field: 'cause' },
    });
  });
});

describe('the loan body', () => {
  it('takes a patient id only', () => {
    expect(parseWith(lendDeviceBody, { patientId: '6f1c2f64-3b5e-4c1a-9d7e-2b8f0a4c5d6e' }).ok).toBe(true);
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(parseWith(lendDeviceBody, { patientId: text })).toMatchObject({
          ok: false,
          error: { field: 'patientId' },
        });
      }),
    );
  });
});

describe("the replacements report's period", () => {
  const now = new Date('2026-12-03T10:00:00Z');
  const query = deviceReplacementsQueryAt(() => now);

  it('is this Swedish year until now by default, in JSON', () => {
    expect(parseWith(query, {})).toEqual({
      ok: true,
      value: { from: new Date('2025-12-31T23:00:00Z'), to: now, format: 'json' },
    });
  });

  it('takes any from before to, and refuses the rest on `from`', () => {
    const instant = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 0, 1) });
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        const parsed = parseWith(query, {
          from: new Date(a).toISOString(),
          to: new Date(b).toISOString(),
          format: 'csv',
        });
        if (a < b) expect(parsed).toEqual({ ok: true, value: { from: new Date(a), to: new Date(b), format: 'csv' } });
        else expect(parsed).toMatchObject({ ok: false, error: { field: 'from' } });
      }),
    );
    expect(parseWith(query, { from: 'yesterday' })).toMatchObject({ ok: false, error: { field: 'from' } });
    expect(parseWith(query, { format: 'pdf' })).toMatchObject({ ok: false, error: { field: 'format' } });
  });
});
