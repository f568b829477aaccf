/**
 * The CGM trend arrow: the rate of change over the last 15 minutes of sensor values (least squares,
 * mmol/L per minute), in the seven directions CGM apps and Nightscout use. The bounds are theirs,
 * 1, 2 and 3 mg/dL per minute, in mmol/L: 0.06, 0.11 and 0.17 (the last one is also the default
 * rapid_change threshold). No arrow without at least three values spanning 10 minutes, or when the
 * newest value is older than 15 minutes: a stale arrow would mislead.
 */

export const TREND_WINDOW_MINUTES = 15;
export const TREND_MIN_POINTS = 3;
export const TREND_MIN_SPAN_MINUTES = 10;

export const TREND_DIRECTIONS = [
  'doubleUp',
  'singleUp',
  'fortyFiveUp',
  'flat',
  'fortyFiveDown',
  'singleDown',
  'doubleDown',
] as const;
export type TrendDirection = (typeof TREND_DIRECTIONS)[number];

export const TREND_ARROWS: Record<TrendDirection, string> = {
  doubleUp: '⇈',
  singleUp: '↑',
  fortyFiveUp: '↗',
  flat: '→',
  fortyFiveDown: '↘',
  singleDown: '↓',
  doubleDown: '⇊',
};

const MINUTE = 60_000;

export interface TrendPoint {
  measuredAt: string;
  mmol: number;
}

/** Slope in mmol/L per minute of the values in the window before the newest, or null. */
export function trendRate(points: readonly TrendPoint[], now: number): number | null {
  const series = points
    .map((p) => ({ t: Date.parse(p.measuredAt), v: p.mmol }))
    .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v))
    .sort((a, b) => a.t - b.t);
  const newest = series.at(-1);
  if (!newest || now - newest.t > TREND_WINDOW_MINUTES * MINUTE) return null;
  const window = series.filter((p) => newest.t - p.t <= TREND_WINDOW_MINUTES * MINUTE);
  if (window.length < TREND_MIN_POINTS) return null;
  if (newest.t - window[0]!.t < TREND_MIN_SPAN_MINUTES * MINUTE) return null;
  const n = window.length;
  const meanT = window.reduce((s, p) => s + p.t, 0) / n;
  const meanV = window.reduce((s, p) => s + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of window) {
    num += (p.t - meanT) * (p.v - meanV);
    den += (p.t - meanT) ** 2;
  }
  return den === 0 ? null : (num / den) * MINUTE;
}

export function trendDirection(rate: number | null): TrendDirection | null {
  if (rate === null) return null;
  const magnitude = Math.abs(rate);
  if (magnitude < 0.06) return 'flat';
  if (magnitude < 0.11) return rate > 0 ? 'fortyFiveUp' : 'fortyFiveDown';
  if (magnitude < 0.17) return rate > 0 ? 'singleUp' : 'singleDown';
  return rate > 0 ? 'doubleUp' : 'doubleDown';
}
