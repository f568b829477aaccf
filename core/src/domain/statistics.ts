import type { Severity } from './alert-rules.ts';
import { swedishUtcOffsetMinutes } from './swedish-time.ts';
import { glucoseRange, GLUCOSE_RANGES, MGDL_PER_MMOL, type GlucoseRange } from './ranges.ts';
import type { DeviceKind, MeterFlag, ReadingKind } from './reading.ts';
import {
  assessTargets,
  BAND_COUNT,
  bandOf,
  profileTargets,
  type TargetAssessment,
  type TargetProfile,
  type TargetShare,
  type TargetShares,
} from './targets.ts';

/**
 * Glucose statistics of SPEC section 3 (International Consensus on Time in Range, 2019): pure
 * functions over a patient's readings, no I/O and no clock (`now` is a parameter).
 *
 * Decisions, so that every number can be recomputed by hand:
 *  - Period: the `days` × 24 h before `now`, [now - days, now), like the readings API's [from, to).
 *    Readings outside it (or measured after `now` by a fast device clock) are left out.
 *  - Control-solution readings are left out of everything: they test the meter, not the patient.
 *    Fingerstick (bgm) readings of a CGM wearer count like the sensor's (SPEC excludes control only).
 *  - A reading with a meter flag (LO/HI) means what its flag says, whatever number came with it
 *    (see FLAGGED_MMOL_MIN in wire/device-readings.ts). It counts in `count` and in the ranges
 *    (LO very low, HI very high) and so in GRI, but having no number it is left out of mean, SD,
 *    CV, GMI and the AGP percentiles: any stand-in value (say 0.6 or 33.3) would be invented.
 *  - SD is the sample SD (n - 1); it needs two numbers, else null (and so CV).
 *  - Nothing here rounds: numbers are full double precision and the UI rounds for display. Sums run
 *    over values sorted ascending, so the same readings in any order give bit-identical results.
 *  - Empty input (nothing in the period): count 0 and null statistics, never NaN.
 *  - GRI is computed from the counts with integer weights (30, 24, 16, 8 tenths), so a value that is
 *    exactly on a zone boundary is exact. Zones take their upper bound: A [0, 20], B (20, 40],
 *    C (40, 60], D (60, 80], E (80, 100].
 *  - Data sufficiency (CGM): the share of the clock's 5-minute slots the period overlaps that hold
 *    at least one CGM reading. Counting slots rather than readings keeps a sensor that reads every
 *    minute, or two overlapping sensors, from going over 100 %. The slots are the clock's (whole
 *    multiples of 5 minutes since the epoch), not counted from the period's start, so that they tile
 *    hours and days: the board and the team report add up per-day and per-hour counts
 *    (core/src/storage/reading-buckets.ts) and must give the same answer as counting the readings.
 *    For a patient without CGM it is null: a fingerstick meter has no expected rate (the no-data
 *    rule covers it).
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const MINUTES_PER_DAY = 24 * 60;

/** A CGM is expected to give one reading per this many minutes (SPEC: 5 min). */
export const CGM_EXPECTED_INTERVAL_MINUTES = 5;
const CGM_SLOT_MS = CGM_EXPECTED_INTERVAL_MINUTES * MINUTE;

/** The clock's 5-minute CGM slot an instant (ms since the epoch) lies in. */
export const cgmSlotOf = (ms: number): number => Math.floor(ms / CGM_SLOT_MS);

/** How many of the clock's CGM slots [fromMs, toMs) overlaps: the most a period can fill. */
export const expectedCgmSlots = (fromMs: number, toMs: number): number =>
  toMs > fromMs ? cgmSlotOf(toMs - 1) - cgmSlotOf(fromMs) + 1 : 0;

/** Percent of the slots of [fromMs, toMs) holding a CGM reading, given how many do. */
export const cgmSufficiencyOf = (slotsWithCgm: number, fromMs: number, toMs: number): number =>
  (100 * slotsWithCgm) / expectedCgmSlots(fromMs, toMs);

/** What the statistics need of a stored reading. */
export interface GlucoseReading {
  measuredAt: Date;
  mmol: number | null;
  flag: MeterFlag | null;
  kind: ReadingKind;
}

export interface StatisticsPeriod {
  /** End of the period, exclusive. */
  now: Date;
  /** Length of the period in days of 24 h, counted back from `now`. */
  days: number;
}

export interface SummaryOptions extends StatisticsPeriod {
  /** How the patient is monitored: CGM gets a data sufficiency, fingerstick meters do not. */
  deviceKind: DeviceKind;
  /** The patient's consensus targets; standard when unset. */
  targetProfile?: TargetProfile;
}

/** Percent of readings in each consensus range; null when there are no readings. */
export type RangeShares = Record<GlucoseRange, number | null>;

export const GRI_ZONES = ['A', 'B', 'C', 'D', 'E'] as const;
export type GriZone = (typeof GRI_ZONES)[number];

export interface GlucoseSummary {
  /** Readings in the period, LO/HI included, control solution excluded. */
  count: number;
  /** mmol/L, of the readings with a number. */
  mean: number | null;
  /** Sample SD, mmol/L. */
  sd: number | null;
  /** Coefficient of variation, percent (target <= 36 %). */
  cv: number | null;
  /** Glucose management indicator, percent (DCCT). */
  gmi: number | null;
  /** Glucose management indicator, mmol/mol (IFCC). */
  gmiMmolMol: number | null;
  /** Glycemia risk index, 0-100. */
  gri: number | null;
  griZone: GriZone | null;
  ranges: RangeShares;
  /** The period judged by the patient's target profile (standard unless the options name one). */
  targets: TargetAssessment;
  readingsPerDay: number;
  /** Percent of the period covered by CGM readings; null for patients without CGM. */
  dataSufficiency: number | null;
}

const inPeriod = (r: GlucoseReading, period: StatisticsPeriod): boolean => {
  const t = r.measuredAt.getTime();
  const end = period.now.getTime();
  return t < end && t >= end - period.days * DAY;
};

/** The number a reading carries, or null when the meter showed LO or HI instead. */
const valueOf = (r: GlucoseReading): number | null => (r.flag === null ? r.mmol : null);

function assertPeriod(period: StatisticsPeriod): void {
  if (!(period.days > 0) || !Number.isFinite(period.days)) throw new RangeError('days must be a positive number');
  if (Number.isNaN(period.now.getTime())) throw new RangeError('now must be a valid date');
}

/** The readings statistics are made of: in the period, control solution left out. */
function patientReadings(readings: readonly GlucoseReading[], period: StatisticsPeriod): GlucoseReading[] {
  return readings.filter((r) => r.kind !== 'control' && inPeriod(r, period));
}

const ascending = (a: number, b: number) => a - b;

/** GRI zone of a weighted count `tenths` = 30·veryLow + 24·low + 16·veryHigh + 8·high over n readings. */
function griZoneOf(tenths: number, n: number): GriZone {
  // GRI = tenths · 10 / n, compared in integers: GRI <= 20k  <=>  tenths <= 2k · n.
  for (let k = 1; k < GRI_ZONES.length; k++) if (tenths <= 2 * k * n) return GRI_ZONES[k - 1]!;
  return 'E';
}

/** Mean, SD, CV, GMI, GRI, time in ranges, readings per day and data sufficiency (see the module comment). */
export function summarize(readings: readonly GlucoseReading[], options: SummaryOptions): GlucoseSummary {
  assertPeriod(options);
  const kept = patientReadings(readings, options);
  const count = kept.length;

  const counts: Record<GlucoseRange, number> = { veryLow: 0, low: 0, inRange: 0, high: 0, veryHigh: 0 };
  const bands = new Array<number>(BAND_COUNT).fill(0);
  const values: number[] = [];
  for (const r of kept) {
    const value = valueOf(r);
    counts[glucoseRange(value, r.flag)]++;
    bands[bandOf(value, r.flag)]!++;
    if (value !== null) values.push(value);
  }
  values.sort(ascending);

  const mean = values.length > 0 ? values.reduce((s, v) => s + v, 0) / values.length : null;
  // Two passes (mean first, then squared deviations) stay accurate where sum-of-squares would not.
  const sd =
    mean !== null && values.length >= 2
      ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1))
      : null;

  const ranges = Object.fromEntries(
    GLUCOSE_RANGES.map((range) => [range, count > 0 ? (100 * counts[range]) / count : null]),
  ) as RangeShares;
  const griTenths = 30 * counts.veryLow + 24 * counts.low + 16 * counts.veryHigh + 8 * counts.high;

  return {
    count,
    mean,
    sd,
    cv: sd !== null && mean !== null && mean > 0 ? (100 * sd) / mean : null,
    gmi: mean !== null ? 3.31 + 0.02392 * mean * MGDL_PER_MMOL : null,
    gmiMmolMol: mean !== null ? 12.71 + 4.70587 * mean : null,
    gri: count > 0 ? Math.min(100, (griTenths * 10) / count) : null,
    griZone: count > 0 ? griZoneOf(griTenths, count) : null,
    ranges,
    targets: assessTargets(bands, options.targetProfile ?? 'standard'),
    readingsPerDay: count / options.days,
    dataSufficiency: options.deviceKind === 'cgm' ? cgmSufficiency(kept, options) : null,
  };
}

/** Percent of the clock's 5-minute slots overlapping the period that hold a CGM reading. */
function cgmSufficiency(kept: readonly GlucoseReading[], period: StatisticsPeriod): number {
  const covered = new Set<number>();
  for (const r of kept) if (r.kind === 'cgm') covered.add(cgmSlotOf(r.measuredAt.getTime()));
  const to = period.now.getTime();
  return cgmSufficiencyOf(covered.size, to - period.days * DAY, to);
}

/**
 * Days of CGM wear (HL7 CGM IG's "days of wear", LOINC 104636-6): how many of the period's 24-hour
 * days, counted from its start, hold at least one CGM reading.
 */
export function cgmDaysOfWear(readings: readonly GlucoseReading[], period: StatisticsPeriod): number {
  assertPeriod(period);
  const start = period.now.getTime() - period.days * DAY;
  const days = new Set<number>();
  for (const r of patientReadings(readings, period)) {
    if (r.kind === 'cgm') days.add(Math.floor((r.measuredAt.getTime() - start) / DAY));
  }
  return days.size;
}

// --- Ambulatory glucose profile -----------------------------------------------------------------

/** Default AGP bin: 15 minutes, fine enough for a CGM's meal peaks over 14 days (96 bins a day). */
export const AGP_DEFAULT_BIN_MINUTES = 15;

export interface AgpOptions extends StatisticsPeriod {
  /** Width of a time-of-day bin in minutes; must divide a day (5, 10, 15, 20, 30, 60, ...). */
  binMinutes?: number;
}

export interface AgpBin {
  /** Start of the bin, minutes after local (Swedish) midnight. */
  minuteOfDay: number;
  /** Readings with a number in the bin. */
  count: number;
  p5: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  p95: number | null;
}

export interface AmbulatoryProfile {
  binMinutes: number;
  /** Every bin of the day, from midnight, empty ones with null percentiles. */
  bins: AgpBin[];
}

/**
 * Percentile of values sorted ascending, by linear interpolation between closest ranks (Hyndman &
 * Fan type 7, the default of R and of numpy): h = (n - 1)·p, then x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]).
 * Null for no values.
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  if (!(p >= 0 && p <= 1)) throw new RangeError('p must be between 0 and 1');
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const below = sorted[lo]!;
  const above = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  return below + (h - lo) * (above - below);
}

/** Minutes after midnight, Swedish local time (CET/CEST), of an instant. */
export function swedishMinuteOfDay(at: Date): number {
  const local = at.getTime() + swedishUtcOffsetMinutes(at) * MINUTE;
  return Math.floor((((local % DAY) + DAY) % DAY) / MINUTE);
}

/**
 * The AGP: 5/25/50/75/95th percentiles of the period's glucose by Swedish local time of day, in
 * bins of `binMinutes` (default 15). Each bin pools its readings over all days of the period (no
 * smoothing); percentiles are type 7 (see `percentile`). Control solution and LO/HI readings (no
 * number) are left out. Returns every bin of the day; an empty bin has count 0 and null percentiles.
 */
export function ambulatoryProfile(readings: readonly GlucoseReading[], options: AgpOptions): AmbulatoryProfile {
  assertPeriod(options);
  const binMinutes = options.binMinutes ?? AGP_DEFAULT_BIN_MINUTES;
  if (!Number.isInteger(binMinutes) || binMinutes < 1 || MINUTES_PER_DAY % binMinutes !== 0) {
    throw new RangeError('binMinutes must be a whole number of minutes that divides a day');
  }
  const pools: number[][] = Array.from({ length: MINUTES_PER_DAY / binMinutes }, () => []);
  for (const r of patientReadings(readings, options)) {
    const value = valueOf(r);
    if (value !== null) pools[Math.floor(swedishMinuteOfDay(r.measuredAt) / binMinutes)]!.push(value);
  }
  const bins = pools.map((pool, i): AgpBin => {
    pool.sort(ascending);
    return {
      minuteOfDay: i * binMinutes,
      count: pool.length,
      p5: percentile(pool, 0.05),
      p25: percentile(pool, 0.25),
      p50: percentile(pool, 0.5),
      p75: percentile(pool, 0.75),
      p95: percentile(pool, 0.95),
    };
  });
  return { binMinutes, bins };
}

// --- Triage: the board's order -------------------------------------------------------------------

/**
 * The board's order (SPEC section 3, "The board's order (triage)"), most urgent first. An
 * acknowledged alert is being handled but its episode is not over: its patient stays with the
 * alerts of that severity, after the unacknowledged ones. The range flags judge each patient by
 * their own target profile (targets.ts): for the standard profile exactly the SPEC's limits
 * (< 3.0 over 1 %, < 3.9 over 4 %, > 13.9 over 5 %, > 10.0 over 25 %); "over" is strict.
 */
export const TRIAGE_CATEGORIES = [
  'critical_alert', // an open critical alert; oldest first
  'critical_acknowledged', // a critical alert acknowledged, its episode not resolved; oldest first
  'warning_alert', // an open warning; oldest first
  'warning_acknowledged', // a warning acknowledged, not resolved; oldest first
  'very_low', // time very low (< 3.0) over the profile's limit
  'low', // time below the target band over the limit
  'very_high', // time very high (> 13.9) over the limit
  'high', // time above the target band over the limit
  'tir_drop', // time in the target band down more than 15 points against the previous 14 days
  'too_little_data', // below 70 % of expected readings, none for the no-data period, or no statistics at all
  'rest',
] as const;
export type TriageCategory = (typeof TRIAGE_CATEGORIES)[number];

export const TRIAGE_LIMITS = {
  inRangeDropOver: 15,
  sufficiencyBelow: 70,
} as const;

/** Days of the period the board triages on (and of the period before it, for the TIR drop). */
export const TRIAGE_DAYS = 14;

/** What a board row shows besides the statistics period: the last 24 h, in bins of 15 minutes. */
export const BOARD_SPARKLINE_HOURS = 24;
export const BOARD_SPARKLINE_BIN_MINUTES = 15;
/** CGM values this recent are the trend arrow's input (the rapid_change rule looks back as far). */
export const BOARD_TREND_MINUTES = 20;

export interface TriageInput {
  /** The patient's alerts that are not resolved. */
  alerts: ReadonlyArray<{ severity: Severity; state: 'open' | 'acknowledged'; openedAt: Date }>;
  /** The patient's target profile, and the shares under it of the last 14 days and the 14 before. */
  profile: TargetProfile;
  current: TargetShares | null;
  previous: TargetShares | null;
  /** See `tooLittleData`. */
  tooLittleData: boolean;
}

export interface TriageKey {
  category: TriageCategory;
  /** Position of the category in TRIAGE_CATEGORIES: lower is more urgent. */
  rank: number;
  /** For alert categories, when the oldest alert of that severity and state opened. */
  since: Date | null;
  /** For range categories, the share that flagged the patient (percent, or points of TIR lost). */
  measure: number | null;
}

const keyOf = (category: TriageCategory, since: Date | null, measure: number | null): TriageKey => ({
  category,
  rank: TRIAGE_CATEGORIES.indexOf(category),
  since,
  measure,
});

const ALERT_CATEGORIES: ReadonlyArray<[Severity, 'open' | 'acknowledged', TriageCategory]> = [
  ['critical', 'open', 'critical_alert'],
  ['critical', 'acknowledged', 'critical_acknowledged'],
  ['warning', 'open', 'warning_alert'],
  ['warning', 'acknowledged', 'warning_acknowledged'],
];

const RANGE_FLAGS: ReadonlyArray<[TriageCategory, TargetShare]> = [
  ['very_low', 'veryLow'],
  ['low', 'belowRange'],
  ['very_high', 'veryHigh'],
  ['high', 'aboveRange'],
];

/** Where a patient goes on the board; the first matching category wins. */
export function triage(input: TriageInput): TriageKey {
  for (const [severity, state, category] of ALERT_CATEGORIES) {
    const opened = input.alerts
      .filter((a) => a.severity === severity && a.state === state)
      .map((a) => a.openedAt.getTime());
    if (opened.length > 0) return keyOf(category, new Date(Math.min(...opened)), null);
  }
  const now = input.current;
  if (!now) return keyOf('too_little_data', null, null);
  const { limits } = profileTargets(input.profile);
  for (const [category, share] of RANGE_FLAGS) {
    const limit = limits[share];
    const value = now[share];
    if (limit && 'under' in limit && value !== null && value > limit.under) return keyOf(category, null, value);
  }
  const before = input.previous?.inRange ?? null;
  if (now.inRange !== null && before !== null && before - now.inRange > TRIAGE_LIMITS.inRangeDropOver) {
    return keyOf('tir_drop', null, before - now.inRange);
  }
  return keyOf(input.tooLittleData ? 'too_little_data' : 'rest', null, null);
}

/**
 * Comparator for Array.prototype.sort: category first; within alerts the oldest first; within range
 * flags the larger share (or TIR drop) first. Equal keys compare 0, so a stable sort keeps the
 * caller's order (e.g. by name) among them.
 */
export function compareTriage(a: TriageKey, b: TriageKey): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.since && b.since && a.since.getTime() !== b.since.getTime()) return a.since.getTime() - b.since.getTime();
  if (a.measure !== null && b.measure !== null && a.measure !== b.measure) return b.measure - a.measure;
  return 0;
}

/**
 * "Too little data" for triage: a CGM wearer below 70 % of expected readings over the 14 days, or
 * anyone without a reading for the no-data period (BGM default 48 h; SPEC's no_data rule).
 */
export function tooLittleData(input: {
  dataSufficiency: number | null;
  lastReadingAt: Date | null;
  noDataMinutes: number;
  now: Date;
}): boolean {
  if (input.dataSufficiency !== null && input.dataSufficiency < TRIAGE_LIMITS.sufficiencyBelow) return true;
  if (input.lastReadingAt === null) return true;
  return input.now.getTime() - input.lastReadingAt.getTime() > input.noDataMinutes * MINUTE;
}
