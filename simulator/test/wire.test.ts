import { describe, expect, it } from 'vitest';
import { instantOf, readAck, swedishTimestamp, toWire } from '../src/wire.ts';

describe('wire format', () => {
  it('writes Swedish wall time with its offset, winter and summer, whole seconds', () => {
    expect(swedishTimestamp(Date.parse('2026-01-15T07:05:09.750Z'))).toBe('2026-01-15T08:05:09+01:00');
    expect(swedishTimestamp(Date.parse('2026-07-01T22:30:00Z'))).toBe('2026-07-02T00:30:00+02:00');
  });

  it('names the same instant it was given (to the second), across the spring clock change', () => {
    const change = Date.parse('2026-03-29T01:00:00Z');
    for (let at = change - 3_600_000; at < change + 3_600_000; at += 60_000 * 7 + 1234) {
      expect(Date.parse(swedishTimestamp(at))).toBe(Math.floor(at / 1000) * 1000);
    }
  });

  it('reads the time off the device clock, skew included', () => {
    const m = { at: Date.parse('2026-01-15T12:00:00Z'), mmol: 6.2, flag: null, kind: 'cgm' as const, meal: null };
    const wire = toWire(m, 9, -90_000);
    expect(wire).toEqual({
      seq: 9,
      measuredAt: '2026-01-15T12:58:30+01:00',
      mmol: 6.2,
      flag: null,
      kind: 'cgm',
      meal: null,
    });
    expect(instantOf(wire)).toBe(m.at - 90_000);
  });

  it('reads acks in the contract shape and nothing else', () => {
    expect(readAck({ ok: true, accepted: 1, duplicates: 0, rejected: [] })).not.toBeNull();
    expect(
      readAck({ ok: true, accepted: 0, duplicates: 0, rejected: [{ index: 0, seq: null, code: 'X', message: '' }] }),
    ).not.toBeNull();
    expect(readAck({ ok: false, code: 'OVERLOADED', message: 'busy', retryAfterMs: 50 })).not.toBeNull();
    for (const bad of [
      null,
      'ok',
      {},
      { ok: true },
      { ok: true, accepted: 1, duplicates: 0, rejected: [{}] },
      { ok: false },
    ]) {
      expect(readAck(bad)).toBeNull();
    }
  });
});
