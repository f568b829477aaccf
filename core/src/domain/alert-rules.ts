/**
 * Alert rules (SPEC section 3): a pure engine from (thresholds, the patient's episode states, a batch
 * of new readings, now) to alert transitions. No I/O and no clock, so the alert worker loads the
 * state, calls `evaluate`, stores the transitions and pages where they say `notify`.
 *
 * Decisions, each one a place where the SPEC leaves room:
 * - Bounds are strict exactly as SPEC writes them: urgent_low < 3.0 or LO, low < 4.0, high > 13.9,
 *   urgent_high > 20.0 or HI. So 3.0 is low (not urgent), 4.0 and 13.9 are in range, 20.0 is high.
 * - Overlap: a reading below urgentLow (or LO) counts for urgent_low only; the low episode neither
 *   updates nor resolves on it (likewise high vs urgent_high). One reading never pages twice. A low
 *   (high) episode that opens while urgent_low (urgent_high) is live or resolved within the cooldown
 *   is recorded but does not page: the team was just paged for the worse condition (recovering from
 *   2.5 to 3.5 must not sound a fresh "low" alarm).
 * - Episode times are clinical times (measuredAt), so results do not depend on queue delays:
 *   first/last/worst reading, resolve `at` (the reading back in range) and the cooldown (a reading
 *   within COOLDOWN_MINUTES after the resolve `reopen`s the same alert without paging).
 * - Out of order: readings are processed in measuredAt order; one not newer than an episode's last
 *   reading (or its resolve) never resolves, reopens or opens it; an old out-of-range reading still
 *   counts into a live episode (count, worst) without moving lastReadingAt.
 * - Backfill: a reading measured more than BACKFILL_GRACE_MINUTES before it reached us (receivedAt,
 *   or now if earlier) is history, not news. An episode whose readings are all such opens
 *   `retrospective: true, notify: false`; if the same batch shows the patient back in range it opens
 *   and resolves in one evaluation (recorded and shown, never sounded). When a fresh reading joins a
 *   retrospective episode it becomes live and pages then (update/reopen with notify), so a device
 *   that backfills 12 h and is still low now does page. Using receipt time rather than `now` keeps a
 *   worker backlog from silencing a reading that arrived on time.
 * - Snooze: a snoozed rule (until > now) still opens and updates its episode, with notify false.
 * - rapid_change (CGM only): at each new CGM reading, the window starts at the newest CGM value at
 *   least 15 min earlier (looking back at most 20 min, at least 3 values in the window); rate =
 *   |last - first| / minutes. Faster than the threshold is out, otherwise in (resolves). Too little
 *   data decides nothing. Its "worst" is the value furthest outside the consensus range 3.9-10.0.
 * - no_data is a scheduled scan elsewhere; `noDataDue` is its predicate.
 * Thresholds are assumed ordered urgentLow <= low < high <= urgentHigh (`effectiveThresholds` checks).
 */
import { RANGE_BOUNDS } from './ranges.ts';
import type { DeviceKind, MeterFlag, ReadingKind } from './reading.ts';

export const ALERT_RULES = ['urgent_low', 'low', 'high', 'urgent_high', 'no_data', 'rapid_change'] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RULE_SEVERITY: Readonly<Record<AlertRule, Severity>> = Object.freeze({
  urgent_low: 'critical',
  low: 'warning',
  high: 'warning',
  urgent_high: 'critical',
  no_data: 'warning',
  rapid_change: 'info',
});

export const COOLDOWN_MINUTES = 15;
export const BACKFILL_GRACE_MINUTES = 30;
export const RAPID_CHANGE_SPAN_MINUTES = 15;
export const RAPID_CHANGE_LOOKBACK_MINUTES = 20;
export const RAPID_CHANGE_MIN_READINGS = 3;

const MINUTE = 60_000;

/** The thresholds in force for one patient, mmol/L (and minutes, mmol/L per minute). */
export interface Thresholds {
  urgentLow: number;
  low: number;
  high: number;
  urgentHigh: number;
  noDataMinutes: number;
  rapidChangeMmolPerMin: number;
}

/** A team's defaults: the no-data period differs by device kind (a fingerstick meter is used a few times a day). */
export interface TeamThresholds extends Omit<Thresholds, 'noDataMinutes'> {
  noDataMinutes: Readonly<Record<DeviceKind, number>>;
}

export const DEFAULT_THRESHOLDS: Readonly<TeamThresholds> = Object.freeze({
  urgentLow: 3.0,
  low: 4.0,
  high: 13.9,
  urgentHigh: 20.0,
  noDataMinutes: Object.freeze({ cgm: 30, bgm: 48 * 60 }),
  rapidChangeMmolPerMin: 0.17,
});

/**
 * Which of the team's no-data defaults (and so which "kind" of patient) applies: CGM while a CGM is
 * paired and not revoked, whatever readings a batch holds. One definition for the board, the API,
 * the alert worker and the no-data scan (the summary's `monitoring` also counts CGM readings of the
 * period, for data sufficiency after a sensor was revoked: a different question).
 */
export const thresholdDeviceKind = (cgmPaired: boolean): DeviceKind => (cgmPaired ? 'cgm' : 'bgm');

/** A patient's overrides; null or missing means "the team default". */
export type ThresholdOverrides = { [K in keyof Thresholds]?: Thresholds[K] | null };

export function effectiveThresholds(
  team: TeamThresholds,
  patient: ThresholdOverrides | null | undefined,
  deviceKind: DeviceKind,
): Thresholds {
  const o = patient ?? {};
  const t: Thresholds = {
    urgentLow: o.urgentLow ?? team.urgentLow,
    low: o.low ?? team.low,
    high: o.high ?? team.high,
    urgentHigh: o.urgentHigh ?? team.urgentHigh,
    noDataMinutes: o.noDataMinutes ?? team.noDataMinutes[deviceKind],
    rapidChangeMmolPerMin: o.rapidChangeMmolPerMin ?? team.rapidChangeMmolPerMin,
  };
  // An override that crosses its neighbour would make the rules contradict each other.
  if (!(t.urgentLow <= t.low && t.low < t.high && t.high <= t.urgentHigh))
    throw new RangeError(`thresholds out of order: ${t.urgentLow} <= ${t.low} < ${t.high} <= ${t.urgentHigh}`);
  if (!(t.noDataMinutes > 0 && t.rapidChangeMmolPerMin > 0))
    throw new RangeError('noDataMinutes and rapidChangeMmolPerMin must be positive');
  return t;
}

/** The no-data scan's predicate. Never due without any reading: pass the pairing time to start the clock. */
export function noDataDue(lastReadingAt: Date | null, noDataMinutes: number, now: Date): boolean {
  return lastReadingAt !== null && now.getTime() - lastReadingAt.getTime() > noDataMinutes * MINUTE;
}

export interface AlertReading {
  measuredAt: Date;
  mmol: number | null;
  flag: MeterFlag | null;
  kind: ReadingKind;
  receivedAt: Date;
}

export interface CgmPoint {
  measuredAt: Date;
  mmol: number;
}

export interface Snooze {
  rule: AlertRule;
  until: Date;
}

export type EpisodePhase = 'open' | 'acknowledged' | 'resolved';

export interface EpisodeState {
  rule: AlertRule;
  state: EpisodePhase;
  firstReadingAt: Date;
  lastReadingAt: Date;
  /** null: the worst was a meter flag (LO/HI), beyond any number. */
  worstMmol: number | null;
  worstReadingAt: Date;
  readingCount: number;
  resolvedAt?: Date;
  retrospective: boolean;
}

export interface EvaluationInput {
  thresholds: Thresholds;
  readings: AlertReading[];
  /** Live (open or acknowledged) episodes per rule, plus recently resolved ones within the cooldown. */
  episodes: EpisodeState[];
  /** The last ~20 min of CGM values before this batch, for rapid_change (batch values may repeat here). */
  recentCgm?: CgmPoint[];
  snoozes: Snooze[];
  now: Date;
}

/** The episode's new summary after a reading joined it. */
interface EpisodeProgress {
  rule: AlertRule;
  lastReadingAt: Date;
  worstMmol: number | null;
  worstReadingAt: Date;
  readingCountDelta: number;
  retrospective: boolean;
  /** Page now: a retrospective episode became live (and the rule is not snoozed). */
  notify: boolean;
}

export interface OpenTransition {
  type: 'open';
  rule: AlertRule;
  severity: Severity;
  retrospective: boolean;
  notify: boolean;
  firstReadingAt: Date;
  lastReadingAt: Date;
  worstMmol: number | null;
  worstReadingAt: Date;
  readingCount: number;
}
export interface UpdateTransition extends EpisodeProgress {
  type: 'update';
}
/** A resolved episode continues (within the cooldown): the same alert, open again. */
export interface ReopenTransition extends EpisodeProgress {
  type: 'reopen';
}
export interface ResolveTransition {
  type: 'resolve';
  rule: AlertRule;
  at: Date;
}
export type Transition = OpenTransition | UpdateTransition | ReopenTransition | ResolveTransition;

const isLive = (e: EpisodeState): boolean => e.state !== 'resolved';
const endOf = (e: EpisodeState): number => (e.resolvedAt ?? e.lastReadingAt).getTime();

/** The episode a rule's next reading concerns: the live one, else the most recently resolved. */
export function currentEpisode(episodes: readonly EpisodeState[], rule: AlertRule): EpisodeState | undefined {
  let found: EpisodeState | undefined;
  for (const e of episodes) {
    if (e.rule !== rule) continue;
    if (isLive(e)) return e;
    if (!found || endOf(e) > endOf(found)) found = e;
  }
  return found;
}

/** The episode state after the transitions; throws where they contradict it (e.g. a second live episode). */
export function applyTransitions(
  episodes: readonly EpisodeState[],
  transitions: readonly Transition[],
): EpisodeState[] {
  let result = [...episodes];
  for (const t of transitions) {
    const current = currentEpisode(result, t.rule);
    const replace = (next: EpisodeState) => result.map((e) => (e === current ? next : e));
    if (t.type === 'open') {
      if (current && isLive(current)) throw new Error(`a live ${t.rule} episode is already open`);
      const { type: _type, severity: _severity, notify: _notify, ...fields } = t;
      // The new episode supersedes the resolved ones of its rule.
      result = [...result.filter((e) => e.rule !== t.rule), { ...fields, state: 'open' }];
    } else if (t.type === 'resolve') {
      if (!current || !isLive(current)) throw new Error(`no live ${t.rule} episode to resolve`);
      result = replace({ ...current, state: 'resolved', resolvedAt: t.at });
    } else {
      if (!current || isLive(current) !== (t.type === 'update'))
        throw new Error(`no episode to ${t.type} for ${t.rule}`);
      const { resolvedAt: _resolvedAt, ...rest } = current;
      result = replace({
        ...rest,
        state: t.type === 'reopen' ? 'open' : current.state,
        lastReadingAt: t.lastReadingAt,
        worstMmol: t.worstMmol,
        worstReadingAt: t.worstReadingAt,
        readingCount: current.readingCount + t.readingCountDelta,
        retrospective: t.retrospective,
      });
    }
  }
  return result;
}

type Status = 'out' | 'in' | 'ignore';
type LevelRule = 'urgent_low' | 'low' | 'high' | 'urgent_high';

/** Urgent rules first, so a low/high opening right after its urgent episode resolved sees that. */
const EVALUATION_ORDER = ['urgent_low', 'urgent_high', 'low', 'high', 'rapid_change'] as const;
/** The worse rule whose episode covers a milder one (see the module comment). */
const COVERED_BY: Partial<Record<AlertRule, AlertRule>> = { low: 'urgent_low', high: 'urgent_high' };

function levelStatus(rule: LevelRule, r: AlertReading, t: Thresholds): Status {
  const urgentLow = r.flag === 'LO' || (r.mmol !== null && r.mmol < t.urgentLow);
  const urgentHigh = r.flag === 'HI' || (r.mmol !== null && r.mmol > t.urgentHigh);
  switch (rule) {
    case 'urgent_low':
      return urgentLow ? 'out' : 'in';
    case 'urgent_high':
      return urgentHigh ? 'out' : 'in';
    case 'low':
      return urgentLow ? 'ignore' : r.mmol !== null && r.mmol < t.low ? 'out' : 'in';
    case 'high':
      return urgentHigh ? 'ignore' : r.mmol !== null && r.mmol > t.high ? 'out' : 'in';
  }
}

/** CGM values by time (the batch's own win over recentCgm), oldest first. */
function cgmSeries(recent: readonly CgmPoint[], batch: readonly AlertReading[]): CgmPoint[] {
  const byTime = new Map<number, CgmPoint>();
  for (const p of recent) byTime.set(p.measuredAt.getTime(), p);
  for (const r of batch)
    if (r.kind === 'cgm' && r.mmol !== null)
      byTime.set(r.measuredAt.getTime(), { measuredAt: r.measuredAt, mmol: r.mmol });
  return [...byTime.values()].sort((a, b) => a.measuredAt.getTime() - b.measuredAt.getTime());
}

function rapidStatus(r: AlertReading, series: readonly CgmPoint[], t: Thresholds): Status {
  if (r.kind !== 'cgm' || r.mmol === null) return 'ignore';
  const end = r.measuredAt.getTime();
  // Walk back from the reading: binary search would do, but the window holds a handful of values.
  let i = series.length - 1;
  while (i >= 0 && series[i]!.measuredAt.getTime() > end) i--;
  let count = 0;
  for (; i >= 0; i--) {
    const p = series[i]!;
    const minutes = (end - p.measuredAt.getTime()) / MINUTE;
    if (minutes > RAPID_CHANGE_LOOKBACK_MINUTES) break;
    count++;
    if (minutes >= RAPID_CHANGE_SPAN_MINUTES) {
      if (count < RAPID_CHANGE_MIN_READINGS) return 'ignore';
      return Math.abs(r.mmol - p.mmol) / minutes > t.rapidChangeMmolPerMin ? 'out' : 'in';
    }
  }
  return 'ignore';
}

/** How bad a value is for a rule; a meter flag (null) is beyond any number. */
function badness(rule: AlertRule, mmol: number | null): number {
  if (mmol === null) return Infinity;
  if (rule === 'urgent_low' || rule === 'low') return -mmol;
  if (rule === 'high' || rule === 'urgent_high') return mmol;
  return Math.max(RANGE_BOUNDS.lowBelow - mmol, mmol - RANGE_BOUNDS.inRangeUpTo);
}

/** A total order, so the result does not depend on the batch's order even for equal times. */
function byMeasuredAt(a: AlertReading, b: AlertReading): number {
  return (
    a.measuredAt.getTime() - b.measuredAt.getTime() ||
    a.receivedAt.getTime() - b.receivedAt.getTime() ||
    (a.mmol ?? -1) - (b.mmol ?? -1) ||
    (a.flag ?? '').localeCompare(b.flag ?? '') ||
    a.kind.localeCompare(b.kind)
  );
}

/** Coalesce a rule's consecutive updates into its previous open/update/reopen: one row per batch. */
function push(out: Transition[], t: Transition): void {
  if (t.type === 'update') {
    const i = out.findLastIndex((x) => x.rule === t.rule);
    const prev = out[i];
    if (prev && prev.type !== 'resolve') {
      const merged = {
        lastReadingAt: t.lastReadingAt,
        worstMmol: t.worstMmol,
        worstReadingAt: t.worstReadingAt,
        retrospective: t.retrospective,
        notify: prev.notify || t.notify,
      };
      out[i] =
        prev.type === 'open'
          ? { ...prev, ...merged, readingCount: prev.readingCount + t.readingCountDelta }
          : { ...prev, ...merged, readingCountDelta: prev.readingCountDelta + t.readingCountDelta };
      return;
    }
  }
  out.push(t);
}

export function evaluate(input: EvaluationInput): Transition[] {
  const { thresholds, now } = input;
  const readings = input.readings
    .filter((r) => r.kind !== 'control' && (r.mmol !== null || r.flag !== null))
    .sort(byMeasuredAt);
  const series = cgmSeries(input.recentCgm ?? [], readings);
  const snoozed = new Set(input.snoozes.filter((s) => s.until > now).map((s) => s.rule));
  let episodes: EpisodeState[] = [...input.episodes];
  const out: Transition[] = [];

  for (const r of readings) {
    const at = r.measuredAt.getTime();
    const reference = Math.min(r.receivedAt.getTime(), now.getTime());
    const fresh = at >= reference - BACKFILL_GRACE_MINUTES * MINUTE;
    for (const rule of EVALUATION_ORDER) {
      const status = rule === 'rapid_change' ? rapidStatus(r, series, thresholds) : levelStatus(rule, r, thresholds);
      if (status === 'ignore') continue;
      const e = currentEpisode(episodes, rule);
      const t = step(rule, status, r, e, fresh, () => pages(rule, r, fresh, snoozed, episodes));
      if (!t) continue;
      episodes = applyTransitions(episodes, [t]);
      push(out, t);
    }
  }
  return out;
}

function pages(
  rule: AlertRule,
  r: AlertReading,
  fresh: boolean,
  snoozed: ReadonlySet<AlertRule>,
  episodes: readonly EpisodeState[],
): boolean {
  if (!fresh || snoozed.has(rule)) return false;
  const worse = COVERED_BY[rule];
  const cover = worse && currentEpisode(episodes, worse);
  if (!cover) return true;
  return !isLive(cover) && r.measuredAt.getTime() - endOf(cover) >= COOLDOWN_MINUTES * MINUTE;
}

function step(
  rule: AlertRule,
  status: 'out' | 'in',
  r: AlertReading,
  e: EpisodeState | undefined,
  fresh: boolean,
  notify: () => boolean,
): Transition | undefined {
  const at = r.measuredAt;
  if (status === 'in') {
    // Only a reading newer than the episode's last one says the patient is back in range.
    return e && isLive(e) && at > e.lastReadingAt ? { type: 'resolve', rule, at } : undefined;
  }
  if (e && (isLive(e) || at.getTime() > endOf(e))) {
    const worse = badness(rule, r.mmol) > badness(rule, e.worstMmol);
    const progress = {
      rule,
      lastReadingAt: at > e.lastReadingAt ? at : e.lastReadingAt,
      worstMmol: worse ? r.mmol : e.worstMmol,
      worstReadingAt: worse ? at : e.worstReadingAt,
      readingCountDelta: 1,
      retrospective: e.retrospective && !fresh,
      // An episode that already paged does not page again; one only recorded pages when it turns live.
      notify: e.retrospective && fresh && notify(),
    };
    if (isLive(e)) return { type: 'update', ...progress };
    if (at.getTime() - endOf(e) < COOLDOWN_MINUTES * MINUTE) return { type: 'reopen', ...progress };
  } else if (e) {
    return undefined; // not newer than what closed the episode: history, not news
  }
  return {
    type: 'open',
    rule,
    severity: RULE_SEVERITY[rule],
    retrospective: !fresh,
    notify: fresh && notify(),
    firstReadingAt: at,
    lastReadingAt: at,
    worstMmol: r.mmol,
    worstReadingAt: at,
    readingCount: 1,
  };
}
