import { describe, expect, it } from 'vitest';
import { trendDirection, trendRate } from '../src/lib/glucose/trend';

const MINUTE = 60_000;
const now = Date.parse('2025-03-01T12:00:00Z');
const series = (values: number[], stepMinutes = 5, endMinutesAgo = 0) =>
  values.map((mmol, i) => ({
    measuredAt: new Date(now - (endMinutesAgo + (values.length - 1 - i) * stepMinutes) * MINUTE).toISOString(),
    mmol,
  }));

describe('the CGM trend arrow', () => {
  it('is the least-squares slope of the last 15 minutes in mmol/L per minute', () => {
    expect(trendRate(series([6.0, 6.5, 7.0, 7.5]), now)).toBeCloseTo(0.1, 10);
    // An older value outside the window does not count.
    expect(trendRate(series([2.0, 6.0, 6.0, 6.0, 6.0]), now)).toBeCloseTo(0, 10);
  });

  it('uses the seven directions with bounds of 1, 2 and 3 mg/dL per minute', () => {
    expect(trendDirection(0)).toBe('flat');
    expect(trendDirection(0.059)).toBe('flat');
    expect(trendDirection(0.06)).toBe('fortyFiveUp');
    expect(trendDirection(-0.1)).toBe('fortyFiveDown');
    expect(trendDirection(0.11)).toBe('singleUp');
    expect(trendDirection(-0.169)).toBe('singleDown');
    expect(trendDirection(0.17)).toBe('doubleUp');
    expect(trendDirection(-0.3)).toBe('doubleDown');
    expect(trendDirection(null)).toBeNull();
  });

  it('shows no arrow with too few values, too short a span, or a stale newest value', () => {
    expect(trendRate(series([6, 7]), now)).toBeNull();
    expect(trendRate(series([6, 7, 8], 2), now)).toBeNull();
    expect(trendRate(series([6, 7, 8, 9], 5, 16), now)).toBeNull();
    expect(trendRate([], now)).toBeNull();
  });
});
