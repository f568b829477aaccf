/**
 * Shared pieces of the glucose charts: the value axis, gaps in a series, and finding the point
 * nearest to the pointer. Pure, so the charts' arithmetic is tested without a browser.
 */
import { RANGE_BOUNDS } from '@glucoboard/core/domain';

/** The target range drawn as a band (consensus: 3.9-10.0 mmol/L). */
export const TARGET_BAND = { low: RANGE_BOUNDS.lowBelow, high: RANGE_BOUNDS.inRangeUpTo } as const;

/** Meter limits: values beyond them are LO/HI. */
export const METER_MIN = 0.6;
export const METER_MAX = 33.3;

/**
 * The value axis for the values shown: at least 2-15 mmol/L so that charts of different patients
 * look alike, stretched to hold every value, within the meter's limits.
 */
export function glucoseDomain(values: Iterable<number | null | undefined>): [number, number] {
  let low = 2;
  let high = 15;
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    low = Math.min(low, Math.floor(v));
    high = Math.max(high, Math.ceil(v) + 1);
  }
  return [Math.max(0, low), Math.min(METER_MAX + 1, high)];
}

/** Runs of points with no gap longer than `maxGapMs`: a line is drawn within a run, not across gaps. */
export function segments<T>(points: readonly T[], time: (p: T) => number, maxGapMs: number): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let previous: number | undefined;
  for (const p of points) {
    const t = time(p);
    if (previous !== undefined && t - previous > maxGapMs) {
      runs.push(run);
      run = [];
    }
    run.push(p);
    previous = t;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Index of the time nearest to `t` in ascending `times`; -1 for none. */
export function nearestIndex(times: readonly number[], t: number): number {
  if (times.length === 0) return -1;
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(times[lo - 1]! - t) <= Math.abs(times[lo]! - t)) return lo - 1;
  return lo;
}

/** Value-axis ticks at round numbers of the unit, placed in mmol/L (the charts' own scale). */
export function valueTicks(domain: readonly [number, number], mgdlPerMmol: number | null, count = 6): number[] {
  const [low, high] = domain;
  const factor = mgdlPerMmol ?? 1;
  const span = (high - low) * factor;
  const rough = span / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  // Steps of 1, 2 or 5 (not 2.5: nobody reads glucose in quarters), a little denser than asked.
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough * 0.85) ?? 10 * power;
  const first = Math.ceil((low * factor) / step - 1e-9);
  const last = Math.floor((high * factor) / step + 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push((k * step) / factor);
  return ticks;
}

/**
 * At most two points per pixel column (the lowest and the highest, in time order): 90 days of CGM is
 * 26,000 values for a chart a thousand pixels wide, and the extremes are what must stay visible.
 */
export function decimate<T>(points: readonly T[], x: (p: T) => number, value: (p: T) => number, width: number): T[] {
  if (points.length <= 2 * width) return [...points];
  const out: T[] = [];
  let column = Number.NaN;
  let low: T | undefined;
  let high: T | undefined;
  const flush = () => {
    if (!low || !high) return;
    if (low === high) out.push(low);
    else if (x(low) <= x(high)) out.push(low, high);
    else out.push(high, low);
  };
  for (const p of points) {
    const c = Math.floor(x(p));
    if (c !== column) {
      flush();
      column = c;
      low = high = p;
    } else {
      if (value(p) < value(low!)) low = p;
      if (value(p) > value(high!)) high = p;
    }
  }
  flush();
  return out;
}
