import { GLUCOSE_RANGES, type GlucoseRange } from './ranges.ts';
import type { MeterFlag } from './reading.ts';

/**
 * Target profiles of the International Consensus on Time in Range (2019): what share of readings
 * a patient should have in, below and above a target band. A patient has one profile; the
 * statistics, the board's flags and its triage all judge the patient by it.
 *
 * | profile          | target band  | < 3.0 | below band | in band | above band | > 13.9 |
 * |------------------|--------------|-------|------------|---------|------------|--------|
 * | standard         | 3.9-10.0     | < 1 % | < 4 %      | > 70 %  | < 25 %     | < 5 %  |
 * | older_high_risk  | 3.9-10.0     |       | < 1 %      | > 50 %  |            | < 10 % |
 * | pregnancy (T1)   | 3.5-7.8      | < 1 % | < 4 %      | > 70 %  | < 25 %     |        |
 *
 * "Below band" includes < 3.0 and "above band" includes > 13.9, as in the consensus figure.
 */
export const TARGET_PROFILES = ['standard', 'older_high_risk', 'pregnancy'] as const;
export type TargetProfile = (typeof TARGET_PROFILES)[number];

export const TARGET_SHARES = ['veryLow', 'belowRange', 'inRange', 'aboveRange', 'veryHigh'] as const;
export type TargetShare = (typeof TARGET_SHARES)[number];

/**
 * Every profile's edges together cut the glucose scale into seven bands; storage counts readings
 * per band (one pass, whatever the profiles of a team's patients) and the domain adds bands up.
 * Lower edges are strict (a value counts below 3.9 when < 3.9), upper edges include their value
 * (in range up to and with 10.0), as the consensus writes its ranges.
 *
 *   0: < 3.0 or LO   1: 3.0-3.4   2: 3.5-3.8   3: 3.9-7.8   4: 7.9-10.0   5: 10.1-13.9   6: > 13.9 or HI
 */
export const BAND_EDGES = [
  { value: 3.0, below: true },
  { value: 3.5, below: true },
  { value: 3.9, below: true },
  { value: 7.8, below: false },
  { value: 10.0, below: false },
  { value: 13.9, below: false },
] as const;
export const BAND_COUNT = BAND_EDGES.length + 1;

/** Counts of readings per band, BAND_COUNT long. */
export type BandCounts = readonly number[];

/** The band of one reading; a meter's LO is the lowest band and HI the highest, whatever number came with it. */
export function bandOf(mmol: number | null, flag: MeterFlag | null = null): number {
  if (flag === 'LO') return 0;
  if (flag === 'HI') return BAND_COUNT - 1;
  if (mmol === null) throw new RangeError('a reading without a value must carry the flag LO or HI');
  const index = BAND_EDGES.findIndex((edge) => (edge.below ? mmol < edge.value : mmol <= edge.value));
  return index === -1 ? BAND_COUNT - 1 : index;
}

/** The consensus ranges (ranges.ts) as sums of bands: 3.0-3.8 is bands 1 and 2, 3.9-10.0 bands 3 and 4. */
const RANGE_BANDS: Record<GlucoseRange, readonly number[]> = {
  veryLow: [0],
  low: [1, 2],
  inRange: [3, 4],
  high: [5],
  veryHigh: [6],
};

const sumOf = (counts: BandCounts, indexes: readonly number[]) => indexes.reduce((a, i) => a + (counts[i] ?? 0), 0);

export function rangeCountsOfBands(counts: BandCounts): Record<GlucoseRange, number> {
  return Object.fromEntries(GLUCOSE_RANGES.map((range) => [range, sumOf(counts, RANGE_BANDS[range])])) as Record<
    GlucoseRange,
    number
  >;
}

export interface ProfileTargets {
  /** The target band, mmol/L, both ends included as displayed (one decimal). */
  band: { low: number; high: number };
  /** Percent limits: `under` must stay below, `over` must be exceeded; null where the profile sets none. */
  limits: Record<TargetShare, { under: number } | { over: number } | null>;
}

interface ProfileDefinition extends ProfileTargets {
  bands: Record<TargetShare, readonly number[]>;
}

const STANDARD_BANDS = {
  veryLow: [0],
  belowRange: [0, 1, 2],
  inRange: [3, 4],
  aboveRange: [5, 6],
  veryHigh: [6],
} as const;

const PROFILES: Record<TargetProfile, ProfileDefinition> = {
  standard: {
    band: { low: 3.9, high: 10.0 },
    bands: STANDARD_BANDS,
    limits: {
      veryLow: { under: 1 },
      belowRange: { under: 4 },
      inRange: { over: 70 },
      aboveRange: { under: 25 },
      veryHigh: { under: 5 },
    },
  },
  older_high_risk: {
    band: { low: 3.9, high: 10.0 },
    bands: STANDARD_BANDS,
    limits: {
      veryLow: null,
      belowRange: { under: 1 },
      inRange: { over: 50 },
      aboveRange: null,
      veryHigh: { under: 10 },
    },
  },
  pregnancy: {
    band: { low: 3.5, high: 7.8 },
    bands: { veryLow: [0], belowRange: [0, 1], inRange: [2, 3], aboveRange: [4, 5, 6], veryHigh: [6] },
    limits: {
      veryLow: { under: 1 },
      belowRange: { under: 4 },
      inRange: { over: 70 },
      aboveRange: { under: 25 },
      veryHigh: null,
    },
  },
};

export const profileTargets = (profile: TargetProfile): ProfileTargets => {
  const { band, limits } = PROFILES[profile];
  return { band, limits };
};

/** Percent of readings per target share under the profile; null when there are no readings. */
export type TargetShares = Record<TargetShare, number | null>;

export function targetShares(counts: BandCounts, profile: TargetProfile): TargetShares {
  const total = counts.reduce((a, n) => a + n, 0);
  const { bands } = PROFILES[profile];
  const share = (indexes: readonly number[]) => (total === 0 ? null : (sumOf(counts, indexes) / total) * 100);
  return Object.fromEntries(TARGET_SHARES.map((s) => [s, share(bands[s])])) as TargetShares;
}

export function bandCounts(readings: ReadonlyArray<{ mmol: number | null; flag: MeterFlag | null }>): number[] {
  const counts = new Array<number>(BAND_COUNT).fill(0);
  for (const r of readings) counts[bandOf(r.mmol, r.flag)]!++;
  return counts;
}

/** Whether a share is within its limit; null when the profile sets none or there is no share. */
export function withinLimit(share: number | null, limit: { under: number } | { over: number } | null): boolean | null {
  if (share === null || limit === null) return null;
  return 'under' in limit ? share < limit.under : share > limit.over;
}

export interface TargetAssessment extends ProfileTargets {
  profile: TargetProfile;
  shares: TargetShares;
  /** Per share: within the limit, or null where there is none (or no readings). */
  within: Record<TargetShare, boolean | null>;
  /** Every limit of the profile met; null without readings. */
  met: boolean | null;
}

export function assessTargets(counts: BandCounts, profile: TargetProfile): TargetAssessment {
  const { band, limits } = profileTargets(profile);
  const shares = targetShares(counts, profile);
  const within = Object.fromEntries(TARGET_SHARES.map((s) => [s, withinLimit(shares[s], limits[s])])) as Record<
    TargetShare,
    boolean | null
  >;
  const judged = Object.values(within).filter((w): w is boolean => w !== null);
  return {
    profile,
    band,
    limits,
    shares,
    within,
    met: shares.inRange === null ? null : judged.every(Boolean),
  };
}
