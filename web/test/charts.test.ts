import { describe, expect, it } from 'vitest';
import { MGDL_PER_MMOL } from '@glucoboard/core/domain';
import { decimate, glucoseDomain, nearestIndex, segments, valueTicks } from '../src/lib/charts/scales';

describe('chart helpers', () => {
  it('stretch the value axis to the values within the meter range', () => {
    expect(glucoseDomain([])).toEqual([2, 15]);
    expect(glucoseDomain([1.2, 22.5, null])).toEqual([1, 24]);
  });

  it('break lines at gaps and find the nearest point', () => {
    expect(segments([0, 1, 2, 10, 11], (t) => t, 5)).toEqual([
      [0, 1, 2],
      [10, 11],
    ]);
    expect(nearestIndex([0, 10, 20], 14)).toBe(1);
    expect(nearestIndex([0, 10, 20], 16)).toBe(2);
    expect(nearestIndex([], 1)).toBe(-1);
  });

  it('keep the extremes when thinning to two points per pixel', () => {
    const points = Array.from({ length: 1000 }, (_, i) => ({ x: i / 100, v: i === 537 ? 2 : 6 + (i % 3) }));
    const kept = decimate(
      points,
      (p) => p.x,
      (p) => p.v,
      10,
    );
    expect(kept.length).toBeLessThanOrEqual(20);
    expect(kept.some((p) => p.v === 2)).toBe(true);
  });

  it('tick the value axis at round numbers of the unit', () => {
    expect(valueTicks([2, 15], null)).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(valueTicks([2, 15], MGDL_PER_MMOL).map((t) => Math.round(t * MGDL_PER_MMOL))).toEqual([
      50, 100, 150, 200, 250,
    ]);
  });
});
