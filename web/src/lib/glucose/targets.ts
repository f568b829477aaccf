/**
 * A patient's time in ranges judged by her target profile (core/src/domain/targets.ts): the target
 * band the charts draw, and the rows of the range table with the profile's own bounds and limits
 * (pregnancy: in range 3.5-7.8 mmol/L). Pure, so the table is tested without a browser.
 */
import type { GlucoseSummaryView } from '@glucoboard/core/wire';
import {
  profileTargets,
  RANGE_BOUNDS,
  type GlucoseRange,
  type ProfileTargets,
  type TargetProfile,
  type TargetShares,
} from '@glucoboard/core/domain';
import { boundsText, type GlucoseUnit } from './units';

export const targetBand = (profile: TargetProfile): ProfileTargets['band'] => profileTargets(profile).band;

export interface RangeRow {
  range: GlucoseRange;
  /** "3,9–10,0" or "70–180" in the unit. */
  bounds: string;
  share: number | null;
  /** "< 4 %", "> 70 %"; null where the profile sets no limit. */
  target: string | null;
}

const limitText = (limit: { under: number } | { over: number } | null) =>
  limit === null ? null : 'under' in limit ? `< ${limit.under} %` : `> ${limit.over} %`;

const minus = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.max(0, a - b));

/**
 * The five rows, very high first (as the AGP report stacks them). Shares come from the summary's
 * assessment by the profile; a summary without one (an older server) falls back to the consensus
 * ranges where the profile's band is the consensus one, and shows no shares otherwise.
 */
export function rangeRows(
  profile: TargetProfile,
  summary: Pick<GlucoseSummaryView, 'ranges'> & { targets?: { shares: TargetShares } | null },
  unit: GlucoseUnit,
  locale: string,
): RangeRow[] {
  const { band, limits } = profileTargets(profile);
  const s = summary.targets?.shares ?? null;
  const consensus = band.low === RANGE_BOUNDS.lowBelow && band.high === RANGE_BOUNDS.inRangeUpTo;
  const none = { veryLow: null, low: null, inRange: null, high: null, veryHigh: null };
  const r = consensus ? summary.ranges : none;
  const { veryLowBelow: veryLow, highUpTo: veryHigh } = RANGE_BOUNDS;
  const text = (low: number | null, high: number | null, options?: { fromAbove?: boolean; upTo?: boolean }) =>
    boundsText(low, high, unit, locale, options);
  return [
    {
      range: 'veryHigh',
      bounds: text(veryHigh, null),
      share: s ? s.veryHigh : r.veryHigh,
      target: limitText(limits.veryHigh),
    },
    {
      range: 'high',
      bounds: text(band.high, veryHigh, { fromAbove: true, upTo: true }),
      share: s ? minus(s.aboveRange, s.veryHigh) : r.high,
      target: limitText(limits.aboveRange),
    },
    {
      range: 'inRange',
      bounds: text(band.low, band.high, { upTo: true }),
      share: s ? s.inRange : r.inRange,
      target: limitText(limits.inRange),
    },
    {
      range: 'low',
      bounds: text(veryLow, band.low),
      share: s ? minus(s.belowRange, s.veryLow) : r.low,
      target: limitText(limits.belowRange),
    },
    {
      range: 'veryLow',
      bounds: text(null, veryLow),
      share: s ? s.veryLow : r.veryLow,
      target: limitText(limits.veryLow),
    },
  ];
}
