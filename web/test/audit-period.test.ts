import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { periodToRange, presetRange, rangeToPeriod } from '../src/lib/audit/period.ts';

// The audit page's periods are whole calendar days in the browser's time zone: "last month" is
// exactly that month's days, and a period survives the way to the API and back.

describe('audit periods', () => {
  it('makes "last month" the days of the previous calendar month, across a year end', () => {
    expect(presetRange('lastMonth', new Date(2026, 11, 3))).toEqual({ first: '2026-11-01', last: '2026-11-30' });
    expect(presetRange('lastMonth', new Date(2027, 0, 31))).toEqual({ first: '2026-12-01', last: '2026-12-31' });
    expect(presetRange('lastMonth', new Date(2028, 2, 1))).toEqual({ first: '2028-02-01', last: '2028-02-29' });
    expect(presetRange('last7', new Date(2026, 11, 3))).toEqual({ first: '2026-11-27', last: '2026-12-03' });
    expect(presetRange('thisMonth', new Date(2026, 11, 3))).toEqual({ first: '2026-12-01', last: '2026-12-03' });
  });

  it('sends [first midnight, midnight after the last day) and reads it back unchanged (property)', () => {
    const day = fc.date({ min: new Date(2000, 0, 1), max: new Date(2099, 11, 31), noInvalidDate: true });
    fc.assert(
      fc.property(day, fc.integer({ min: 0, max: 92 }), (start, length) => {
        const first = new Date(start.getFullYear(), start.getMonth(), start.getDate());
        const last = new Date(first.getFullYear(), first.getMonth(), first.getDate() + length);
        const range = presetRangeOf(first, last);
        const period = rangeToPeriod(range)!;
        expect(new Date(period.from).getTime()).toBe(first.getTime());
        expect(new Date(period.to).getTime()).toBe(
          new Date(last.getFullYear(), last.getMonth(), last.getDate() + 1).getTime(),
        );
        expect(periodToRange(period)).toEqual(range);
      }),
    );
  });

  it('refuses a reversed or malformed range', () => {
    expect(rangeToPeriod({ first: '2026-11-02', last: '2026-11-01' })).toBe(null);
    expect(rangeToPeriod({ first: '', last: '2026-11-01' })).toBe(null);
    expect(rangeToPeriod({ first: '2026-11-01', last: '2026-11-01' })).not.toBe(null);
  });
});

const pad = (n: number) => String(n).padStart(2, '0');
const iso = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const presetRangeOf = (first: Date, last: Date) => ({ first: iso(first), last: iso(last) });
