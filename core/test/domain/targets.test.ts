import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { glucoseRange, GLUCOSE_RANGES } from '../../src/domain/ranges.ts';
import {
  assessTargets,
  BAND_COUNT,
  bandCounts,
  bandOf,
  rangeCountsOfBands,
  targetShares,
  TARGET_PROFILES,
} from '../../src/domain/targets.ts';

const oneHot = (band: number) => Array.from({ length: BAND_COUNT }, (_, i) => (i === band ? 1 : 0));
/** Meter values as they arrive: 0.6-33.3 with up to two decimals (CGM), or a LO/HI flag. */
const reading = fc.oneof(
  fc.integer({ min: 60, max: 3330 }).map((n) => ({ mmol: n / 100, flag: null })),
  fc.constantFrom({ mmol: null, flag: 'LO' as const }, { mmol: null, flag: 'HI' as const }),
);

describe('glucose bands and target profiles', () => {
  it('sorts the consensus edges and pregnancy edges as written: lower strict, upper inclusive', () => {
    expect([2.9, 3.0, 3.4, 3.5, 3.8, 3.9, 7.8, 7.9, 10.0, 10.1, 13.9, 14.0].map((v) => bandOf(v))).toEqual([
      0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
    ]);
    expect(bandOf(12, 'LO')).toBe(0);
    expect(bandOf(2, 'HI')).toBe(6);
    expect(() => bandOf(null)).toThrow(RangeError);
  });

  it('adds bands up to exactly the consensus range of every reading (property)', () => {
    fc.assert(
      fc.property(reading, (r) => {
        const ranges = rangeCountsOfBands(oneHot(bandOf(r.mmol, r.flag)));
        const expected = glucoseRange(r.mmol, r.flag);
        for (const range of GLUCOSE_RANGES) expect(ranges[range]).toBe(range === expected ? 1 : 0);
      }),
    );
  });

  it("gives each profile's shares as sums of the same readings, within 0-100, in band plus either side 100 % (property)", () => {
    fc.assert(
      fc.property(fc.array(reading, { minLength: 1, maxLength: 60 }), fc.constantFrom(...TARGET_PROFILES), (rs, p) => {
        const shares = targetShares(bandCounts(rs), p);
        expect(shares.belowRange! + shares.inRange! + shares.aboveRange!).toBeCloseTo(100, 9);
        expect(shares.veryLow!).toBeLessThanOrEqual(shares.belowRange! + 1e-9);
        expect(shares.veryHigh!).toBeLessThanOrEqual(shares.aboveRange! + 1e-9);
      }),
    );
  });

  it('counts a one-decimal value in band exactly when the displayed band holds it, both ends included (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 6, max: 333 }), fc.constantFrom(...TARGET_PROFILES), (tenths, p) => {
        const mmol = tenths / 10;
        const { band, shares } = assessTargets(bandCounts([{ mmol, flag: null }]), p);
        expect(shares.inRange === 100).toBe(mmol >= band.low && mmol <= band.high);
      }),
    );
  });

  it('judges a pregnancy at 3.5-7.8 over 70 %, and does not judge > 13.9 there', () => {
    // 8 of 10 in 3.5-7.8, one at 3.4, one at 8.0.
    const counts = bandCounts([3.4, 3.5, 4, 5, 6, 7, 7.8, 3.6, 6.5, 8.0].map((mmol) => ({ mmol, flag: null })));
    const pregnancy = assessTargets(counts, 'pregnancy');
    expect(pregnancy.shares).toEqual({ veryLow: 0, belowRange: 10, inRange: 80, aboveRange: 10, veryHigh: 0 });
    expect(pregnancy.within).toEqual({
      veryLow: true,
      belowRange: false,
      inRange: true,
      aboveRange: true,
      veryHigh: null,
    });
    expect(pregnancy.met).toBe(false);
    // The same readings under the standard profile: 3.4 is below 3.9 with 3.5 and 3.6.
    expect(assessTargets(counts, 'standard').shares.belowRange).toBeCloseTo(30, 10);
    expect(assessTargets(new Array(BAND_COUNT).fill(0), 'older_high_risk').met).toBeNull();
  });
});
