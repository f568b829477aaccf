import { ALERT_RULES, SEVERITIES, type AlertRule, type Severity } from './alert-rules.ts';
import { READING_SOURCES, type ReadingSource } from './reading.ts';
import {
  cgmSufficiencyOf,
  compareTriage,
  tooLittleData,
  triage,
  TRIAGE_LIMITS,
  type TriageCategory,
} from './statistics.ts';
import { swedishLocalTime } from './swedish-time.ts';
import {
  profileTargets,
  targetShares,
  withinLimit,
  type BandCounts,
  type TargetProfile,
  type TargetShare,
  type TargetShares,
} from './targets.ts';

/**
 * A care team's follow-up report over a period (issue 15, section 1): pure assembly of what storage
 * counted per patient (core/src/storage/team-report.ts) into counts of patients, so that anyone can
 * compute shares (the SÄBO physician share against the national 80 % target, the share meeting the
 * consensus targets). No I/O, no clock: the period is resolved against a `now` the caller passes.
 *
 * Decisions, so that every number can be recomputed by hand:
 *  - The team's patients are those it is responsible for (not those granted to it).
 *  - Readings: those measured in [from, to), control solution left out (as in the statistics).
 *  - Targets judge each patient by their own consensus profile (targets.ts). `tirMet`: the in-band
 *    share over its limit; `belowMet`: every limit below the band the profile sets (< 3.0 and below
 *    the band); `aboveMet`: every limit above it (above the band and > 13.9). `evaluated`: patients
 *    with any reading in the period.
 *  - `sufficientData`: CGM wearers with at least 70 % of the clock's 5-minute slots the period
 *    overlaps holding a CGM reading (the consensus rule, as `summarize`'s data sufficiency). A fingerstick meter has no
 *    expected rate, so a patient without CGM never counts; `targets.cgm` is the denominator.
 *  - A responsible physician counts (`withPhysician`) only while that user is a physician of the
 *    team: a physician who left the team no longer follows the patient up.
 *  - Alerts: those opened in [from, to). Acknowledged: acknowledged at any time since (an alert opened
 *    just before `to` may be taken after it). Minutes to acknowledge leave out retrospective alerts
 *    (a backfilled episode is recorded, never paged, so nobody was asked to respond).
 *  - Follow-up: the board's triage (SPEC section 3) over the period: alerts not resolved at `to`,
 *    then range flags by the period's shares, a drop of TIR against the equally long period before,
 *    too little data at `to`, then the rest; ties keep the caller's order (by name).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const REPORT_DEFAULT_DAYS = 28;
/** A year, leap day included; a longer period is refused (PERIOD_TOO_LONG). */
export const REPORT_MAX_DAYS = 366;
/** The national target for patients in special housing (SÄBO) with a fixed physician (seed 004). */
export const SABO_PHYSICIAN_TARGET_PERCENT = 80;

// --- Period ---------------------------------------------------------------------------------------

export type ReportPeriodError = {
  code: 'PERIOD_REVERSED' | 'PERIOD_TOO_LONG';
  field: 'from' | 'to';
  message: string;
};

/** A bound as given: an instant, or a Swedish calendar day (`YYYY-MM-DD`). */
export type PeriodBound = { instant: Date } | { day: string };

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Index of a calendar day (days since 1970-01-01), or null when it is no real date. */
export function calendarDayIndex(day: string): number | null {
  const m = DAY_PATTERN.exec(day);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return t / DAY;
}

/**
 * [from, to) of a report. A day as `from` starts at its Swedish midnight; a day as `to` is included
 * whole (the period ends at the next Swedish midnight), as a person picking "1-31 March" means.
 * Defaults: `to` now, `from` 28 days before `to`. A period reaching past now ends now: the hours to
 * come hold no readings yet, and would count against data sufficiency and "too little data" at the
 * end (today, picked as the last day, is then counted up to now). At most 366 days (an hour more
 * across a clock change).
 */
export function resolveReportPeriod(
  given: { from?: PeriodBound; to?: PeriodBound },
  now: Date,
): { ok: true; from: Date; to: Date } | { ok: false; error: ReportPeriodError } {
  const instantOf = (bound: PeriodBound, end: boolean): Date => {
    if ('instant' in bound) return bound.instant;
    const index = calendarDayIndex(bound.day);
    if (index === null) throw new RangeError(`not a calendar day: ${bound.day}`);
    return new Date(swedishLocalTime(index + (end ? 1 : 0), 0));
  };
  const asked = given.to ? instantOf(given.to, true) : now;
  const to = asked.getTime() > now.getTime() ? now : asked;
  const from = given.from ? instantOf(given.from, false) : new Date(to.getTime() - REPORT_DEFAULT_DAYS * DAY);
  if (from.getTime() >= to.getTime()) {
    const message = from.getTime() >= now.getTime() ? 'from must be before now' : 'to must be after from';
    return { ok: false, error: { code: 'PERIOD_REVERSED', field: 'to', message } };
  }
  if (to.getTime() - from.getTime() > REPORT_MAX_DAYS * DAY + HOUR) {
    return {
      ok: false,
      error: { code: 'PERIOD_TOO_LONG', field: 'from', message: `the period may be at most ${REPORT_MAX_DAYS} days` },
    };
  }
  return { ok: true, from, to };
}

// --- What storage counted -------------------------------------------------------------------------

export interface ReportPatientFacts {
  id: string;
  name: string;
  labels: readonly string[];
  targetProfile: TargetProfile;
  /** The responsible physician; `teamPhysician` while the user is a physician of the team. */
  responsiblePhysician: { id: string; name: string; teamPhysician: boolean } | null;
  cgmPaired: boolean;
  /** The no-data period in effect (minutes), for "too little data" at the period's end. */
  noDataMinutes: number;
  /** Readings per glucose band (targets.ts) in the period, and in the equally long period before. */
  bands: BandCounts;
  previousBands: BandCounts;
  /** Readings of the period by source (control solution left out). */
  bySource: Record<ReadingSource, number>;
  /** Distinct 5-minute slots of the clock (`cgmSlotOf`) in the period holding a CGM reading. */
  cgmSlots: number;
  /** A CGM reading lies in the period. */
  cgmSeen: boolean;
  /** The newest reading of the period. */
  lastReadingAt: Date | null;
}

export interface ReportAlertFacts {
  patientId: string;
  rule: AlertRule;
  severity: Severity;
  openedAt: Date;
  acknowledgedAt: Date | null;
  resolvedAt: Date | null;
  escalated: boolean;
  retrospective: boolean;
}

export interface TeamReportInput {
  from: Date;
  to: Date;
  /** In the order ties keep (storage gives them by name). */
  patients: readonly ReportPatientFacts[];
  /** The team's patients' alerts opened in the period or not resolved at its start. */
  alerts: readonly ReportAlertFacts[];
}

// --- The report -----------------------------------------------------------------------------------

/** Upper bounds (minutes, inclusive) of the acknowledgement-time buckets; the last bucket is open. */
export const ACK_MINUTE_BOUNDS = [5, 15, 30, 60, 240] as const;
/** Width of the TIR distribution's buckets, percent points (the last one includes 100). */
export const TIR_BUCKET_WIDTH = 10;

export interface ReportFollowUpRow {
  id: string;
  name: string;
  labels: string[];
  targetProfile: TargetProfile;
  responsiblePhysician: { id: string; name: string; teamPhysician: boolean } | null;
  monitoring: 'bgm' | 'cgm';
  readings: number;
  /** Percent of the period's readings per share of the patient's profile; null without readings. */
  shares: TargetShares;
  /** TIR of the period before, in the patient's band; null without readings then. */
  previousInRange: number | null;
  /** Limits met (null without readings): TIR, every limit below the band, every limit above it. */
  met: { tir: boolean | null; below: boolean | null; above: boolean | null };
  dataSufficiency: number | null;
  sufficientData: boolean;
  alerts: { opened: number; critical: number; unresolvedAtEnd: number };
  triage: { category: TriageCategory; rank: number; since: string | null; measure: number | null };
}

export interface TeamReport {
  period: { from: string; to: string };
  days: number;
  patients: number;
  withPhysician: number;
  labels: Array<{ label: string; patients: number; withPhysician: number }>;
  targets: {
    evaluated: number;
    tirMet: number;
    belowMet: number;
    aboveMet: number;
    sufficientData: number;
    /** Patients monitored by CGM in the period: those `sufficientData` can count. */
    cgm: number;
    /** Evaluated patients meeting every limit of their profile. */
    allMet: number;
  };
  alerts: {
    opened: number;
    bySeverity: Record<Severity, number>;
    byRule: Record<AlertRule, number>;
    acknowledged: number;
    escalated: number;
    medianMinutesToAck: number | null;
    retrospective: number;
    /** Minutes from opening to the first acknowledgement, retrospective alerts left out. */
    ackTimes: {
      buckets: Array<{ upToMinutes: number | null; alerts: number }>;
      unacknowledged: number;
    };
  };
  readings: { total: number; bySource: Record<ReadingSource, number> };
  /** Evaluated patients by TIR in their own band: [0, 10), [10, 20), ... [90, 100]. */
  tirDistribution: Array<{ from: number; to: number; patients: number }>;
  /** Every patient, most in need of follow-up first. */
  followUp: ReportFollowUpRow[];
}

/** Median of numbers (the mean of the middle two for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const BELOW: readonly TargetShare[] = ['veryLow', 'belowRange'];
const ABOVE: readonly TargetShare[] = ['aboveRange', 'veryHigh'];

/** Every limit among `shares` the profile sets is met; null without readings or without such a limit. */
function allWithin(shares: TargetShares, profile: TargetProfile, which: readonly TargetShare[]): boolean | null {
  const { limits } = profileTargets(profile);
  const judged = which.map((s) => withinLimit(shares[s], limits[s])).filter((w): w is boolean => w !== null);
  return judged.length === 0 ? null : judged.every(Boolean);
}

const total = (counts: BandCounts) => counts.reduce((a, n) => a + n, 0);
const zeroes = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

function followUpRow(
  p: ReportPatientFacts,
  alerts: readonly ReportAlertFacts[],
  input: TeamReportInput,
): { row: ReportFollowUpRow; key: ReturnType<typeof triage> } {
  const from = input.from.getTime();
  const to = input.to.getTime();
  const readings = total(p.bands);
  const shares = targetShares(p.bands, p.targetProfile);
  const previous = targetShares(p.previousBands, p.targetProfile);
  const monitoring = p.cgmPaired || p.cgmSeen ? 'cgm' : 'bgm';
  const dataSufficiency = monitoring === 'cgm' ? cgmSufficiencyOf(p.cgmSlots, from, to) : null;
  const unresolved = alerts.filter((a) => a.openedAt.getTime() < to && (!a.resolvedAt || a.resolvedAt.getTime() > to));
  const opened = alerts.filter((a) => a.openedAt.getTime() >= from && a.openedAt.getTime() < to);
  const key = triage({
    alerts: unresolved.flatMap((a) =>
      a.severity === 'info'
        ? []
        : [
            {
              severity: a.severity,
              state:
                a.acknowledgedAt && a.acknowledgedAt.getTime() <= to ? ('acknowledged' as const) : ('open' as const),
              openedAt: a.openedAt,
            },
          ],
    ),
    profile: p.targetProfile,
    current: readings > 0 ? shares : null,
    previous: total(p.previousBands) > 0 ? previous : null,
    tooLittleData: tooLittleData({
      dataSufficiency,
      lastReadingAt: p.lastReadingAt,
      noDataMinutes: p.noDataMinutes,
      now: input.to,
    }),
  });
  const limits = profileTargets(p.targetProfile).limits;
  const row: ReportFollowUpRow = {
    id: p.id,
    name: p.name,
    labels: [...p.labels],
    targetProfile: p.targetProfile,
    responsiblePhysician: p.responsiblePhysician,
    monitoring,
    readings,
    shares,
    previousInRange: previous.inRange,
    met: {
      tir: withinLimit(shares.inRange, limits.inRange),
      below: allWithin(shares, p.targetProfile, BELOW),
      above: allWithin(shares, p.targetProfile, ABOVE),
    },
    dataSufficiency,
    sufficientData: dataSufficiency !== null && dataSufficiency >= TRIAGE_LIMITS.sufficiencyBelow,
    alerts: {
      opened: opened.length,
      critical: opened.filter((a) => a.severity === 'critical').length,
      unresolvedAtEnd: unresolved.length,
    },
    triage: { category: key.category, rank: key.rank, since: key.since?.toISOString() ?? null, measure: key.measure },
  };
  return { row, key };
}

function ackBuckets(minutes: readonly number[]): Array<{ upToMinutes: number | null; alerts: number }> {
  const bounds: Array<number | null> = [...ACK_MINUTE_BOUNDS, null];
  const counts = bounds.map(() => 0);
  for (const m of minutes) {
    const i = bounds.findIndex((b) => b === null || m <= b);
    counts[i]!++;
  }
  return bounds.map((upToMinutes, i) => ({ upToMinutes, alerts: counts[i]! }));
}

function tirBuckets(inRange: readonly number[]): Array<{ from: number; to: number; patients: number }> {
  const n = 100 / TIR_BUCKET_WIDTH;
  const buckets = Array.from({ length: n }, (_, i) => ({
    from: i * TIR_BUCKET_WIDTH,
    to: (i + 1) * TIR_BUCKET_WIDTH,
    patients: 0,
  }));
  for (const v of inRange) buckets[Math.min(n - 1, Math.max(0, Math.floor(v / TIR_BUCKET_WIDTH)))]!.patients++;
  return buckets;
}

/** The report of a team over [from, to) from what storage counted (see the module comment). */
export function assembleTeamReport(input: TeamReportInput): TeamReport {
  const from = input.from.getTime();
  const to = input.to.getTime();
  if (!(from < to)) throw new RangeError('the period must end after it starts');
  const alertsOf = new Map<string, ReportAlertFacts[]>();
  for (const a of input.alerts) {
    const list = alertsOf.get(a.patientId);
    if (list) list.push(a);
    else alertsOf.set(a.patientId, [a]);
  }
  const rows = input.patients.map((p) => followUpRow(p, alertsOf.get(p.id) ?? [], input));
  const hasPhysician = (p: ReportPatientFacts) => p.responsiblePhysician?.teamPhysician === true;

  const labelCounts = new Map<string, { patients: number; withPhysician: number }>();
  for (const p of input.patients) {
    for (const label of new Set(p.labels)) {
      const c = labelCounts.get(label) ?? { patients: 0, withPhysician: 0 };
      c.patients++;
      if (hasPhysician(p)) c.withPhysician++;
      labelCounts.set(label, c);
    }
  }

  const evaluated = rows.filter((r) => r.row.readings > 0).map((r) => r.row);
  const bySource = zeroes(READING_SOURCES);
  for (const p of input.patients) for (const s of READING_SOURCES) bySource[s] += p.bySource[s];

  const teamIds = new Set(input.patients.map((p) => p.id));
  const opened = input.alerts.filter(
    (a) => teamIds.has(a.patientId) && a.openedAt.getTime() >= from && a.openedAt.getTime() < to,
  );
  const bySeverity = zeroes(SEVERITIES);
  const byRule = zeroes(ALERT_RULES);
  for (const a of opened) {
    bySeverity[a.severity]++;
    byRule[a.rule]++;
  }
  const paged = opened.filter((a) => !a.retrospective);
  const ackMinutes = paged.flatMap((a) =>
    a.acknowledgedAt ? [Math.max(0, (a.acknowledgedAt.getTime() - a.openedAt.getTime()) / MINUTE)] : [],
  );

  return {
    period: { from: input.from.toISOString(), to: input.to.toISOString() },
    days: (to - from) / DAY,
    patients: input.patients.length,
    withPhysician: input.patients.filter(hasPhysician).length,
    labels: [...labelCounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([label, c]) => ({ label, ...c })),
    targets: {
      evaluated: evaluated.length,
      tirMet: evaluated.filter((r) => r.met.tir === true).length,
      belowMet: evaluated.filter((r) => r.met.below === true).length,
      aboveMet: evaluated.filter((r) => r.met.above === true).length,
      sufficientData: rows.filter((r) => r.row.sufficientData).length,
      cgm: rows.filter((r) => r.row.monitoring === 'cgm').length,
      allMet: evaluated.filter((r) => r.met.tir === true && r.met.below !== false && r.met.above !== false).length,
    },
    alerts: {
      opened: opened.length,
      bySeverity,
      byRule,
      acknowledged: opened.filter((a) => a.acknowledgedAt !== null).length,
      escalated: opened.filter((a) => a.escalated).length,
      medianMinutesToAck: median(ackMinutes),
      retrospective: opened.length - paged.length,
      ackTimes: { buckets: ackBuckets(ackMinutes), unacknowledged: paged.length - ackMinutes.length },
    },
    readings: { total: Object.values(bySource).reduce((a, n) => a + n, 0), bySource },
    tirDistribution: tirBuckets(evaluated.map((r) => r.shares.inRange!)),
    // A stable sort keeps the caller's order (by name) among equal keys.
    followUp: [...rows].sort((a, b) => compareTriage(a.key, b.key)).map((r) => r.row),
  };
}
