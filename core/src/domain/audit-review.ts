/**
 * The systematic log review (HSLF-FS 2016:40 4:9, Patientdatalagen 4:3): out of a period's
 * accesses to one care team's patients, the ones a reviewer should look at. The rules are plain
 * and few on purpose, so a reviewer can tell why something is on the list:
 *
 *  - granted / escalation / outside_team: the user did not reach the patient as a member of the
 *    patient's responsible team (a team granted read access, an escalated alert, or neither: a
 *    sysadmin, or someone no longer in the team);
 *  - off_hours: the access happened outside 07:00-19:00 Swedish local time;
 *  - high_volume: on one Swedish calendar day a user opened more distinct patients of the team
 *    than the larger of `volumeMinimum` and `volumeFactor` times the team's median for a user-day.
 *    List views (the board, the patient and alert lists) show every patient of the team to every
 *    member each time, and reading the audit trail is the reviewer's own work, so neither counts
 *    towards the volume (both are still checked by the other rules).
 *
 * Pure: the storage layer hands in the accesses grouped by user, patient and UTC hour.
 */
import { swedishDayIndex, swedishUtcOffsetMinutes } from './swedish-time.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface ReviewRules {
  /** The working day in Swedish local time: [start, end) hours. */
  workdayStartHour: number;
  workdayEndHour: number;
  /** A user-day is unusual above max(volumeMinimum, volumeFactor x the median user-day). */
  volumeMinimum: number;
  volumeFactor: number;
}

export const DEFAULT_REVIEW_RULES: Readonly<ReviewRules> = Object.freeze({
  workdayStartHour: 7,
  workdayEndHour: 19,
  volumeMinimum: 10,
  volumeFactor: 3,
});

/** How the user reached the patient for an access. */
export const ACCESS_REACHES = ['responsible', 'granted', 'escalation', 'sysadmin', 'outside'] as const;
export type AccessReach = (typeof ACCESS_REACHES)[number];

export const REVIEW_REASONS = ['granted', 'escalation', 'outside_team', 'off_hours', 'high_volume'] as const;
export type ReviewReason = (typeof REVIEW_REASONS)[number];

/**
 * Actions that show many patients at once (the lists, the board, the team report, which audits
 * every patient it counts), or are the review itself: not counted for volume.
 */
export const VOLUME_EXEMPT_ACTIONS: readonly string[] = [
  'patient.list',
  'board.read',
  'alert.list',
  'report.read',
  'report.export',
];
const exemptFromVolume = (action: string) => VOLUME_EXEMPT_ACTIONS.includes(action) || action.startsWith('audit.');

/** A user's accesses to one patient within one UTC hour (a whole Swedish local hour too). */
export interface AccessHour {
  userId: string;
  patientId: string;
  /** Start of the hour, ms since the epoch (a multiple of one hour). */
  hourStart: number;
  reach: AccessReach;
  /** Events in the hour. */
  events: number;
  /** The distinct actions of the hour (an hour with any non-exempt action counts for volume). */
  actions: readonly string[];
  firstAt: number;
  lastAt: number;
}

/**
 * The reach an event records (`detail.via`, written by the trail since issue 15) or, for events
 * without one, what membership tells: a member of the responsible team, or someone outside it.
 */
export function accessReach(recordedVia: unknown, memberOfResponsibleTeam: boolean): AccessReach {
  if (recordedVia === 'granted' || recordedVia === 'escalation' || recordedVia === 'sysadmin') return recordedVia;
  return memberOfResponsibleTeam ? 'responsible' : 'outside';
}

/** The Swedish local wall-clock hour (0-23) of an instant. */
export function swedishLocalHour(at: number): number {
  const local = at + swedishUtcOffsetMinutes(new Date(at)) * 60_000;
  return Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
}

/** The Swedish local calendar date (YYYY-MM-DD) of an instant. */
export function swedishLocalDate(at: number): string {
  return new Date(swedishDayIndex(at) * DAY_MS).toISOString().slice(0, 10);
}

export function isOffHours(at: number, rules: Pick<ReviewRules, 'workdayStartHour' | 'workdayEndHour'>): boolean {
  const hour = swedishLocalHour(at);
  return hour < rules.workdayStartHour || hour >= rules.workdayEndHour;
}

export interface ReviewFinding {
  reason: ReviewReason;
  userId: string;
  /** null for high_volume, which is about a user's day. */
  patientId: string | null;
  /** Swedish local date. */
  day: string;
  events: number;
  actions: string[];
  firstAt: number;
  lastAt: number;
  /** How the user reached the patient (the most unusual reach of the group). */
  reach: AccessReach | null;
  /** high_volume: distinct patients opened that day, and the threshold it passed. */
  distinctPatients?: number;
  threshold?: number;
}

export interface ReviewOutcome {
  findings: ReviewFinding[];
  /** Every event of the period, of how many users and patients. */
  events: number;
  users: number;
  patients: number;
  volume: { medianPerUserDay: number; threshold: number };
}

/** Median of a list (0 for none); the mean of the two middle values for an even count. */
function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const REACH_REASON: Record<AccessReach, ReviewReason | null> = {
  responsible: null,
  granted: 'granted',
  escalation: 'escalation',
  sysadmin: 'outside_team',
  outside: 'outside_team',
};
const REACH_ORDER: readonly AccessReach[] = ['outside', 'sysadmin', 'escalation', 'granted', 'responsible'];

interface Group {
  finding: ReviewFinding;
  actions: Set<string>;
}

function add(groups: Map<string, Group>, key: string, seed: () => ReviewFinding, hour: AccessHour): void {
  let group = groups.get(key);
  if (!group) {
    group = { finding: { ...seed(), events: 0, firstAt: hour.firstAt, lastAt: hour.lastAt }, actions: new Set() };
    groups.set(key, group);
  }
  const f = group.finding;
  f.events += hour.events;
  f.firstAt = Math.min(f.firstAt, hour.firstAt);
  f.lastAt = Math.max(f.lastAt, hour.lastAt);
  if (f.reach !== null && REACH_ORDER.indexOf(hour.reach) < REACH_ORDER.indexOf(f.reach)) f.reach = hour.reach;
  for (const action of hour.actions) group.actions.add(action);
}

/** The findings of a period, newest first; at most one finding per reason, user, patient and day. */
export function reviewAccesses(hours: readonly AccessHour[], rules: ReviewRules = DEFAULT_REVIEW_RULES): ReviewOutcome {
  const groups = new Map<string, Group>();
  // Distinct patients opened one by one per user and Swedish day.
  const perUserDay = new Map<string, { userId: string; day: string; patients: Set<string>; hours: AccessHour[] }>();
  const users = new Set<string>();
  const patients = new Set<string>();
  let events = 0;

  for (const hour of hours) {
    events += hour.events;
    users.add(hour.userId);
    patients.add(hour.patientId);
    const day = swedishLocalDate(hour.hourStart);
    const seed = (reason: ReviewReason) => () => ({
      reason,
      userId: hour.userId,
      patientId: hour.patientId,
      day,
      events: 0,
      actions: [],
      firstAt: hour.firstAt,
      lastAt: hour.lastAt,
      reach: hour.reach,
    });
    const reachReason = REACH_REASON[hour.reach];
    if (reachReason) add(groups, `${reachReason}|${hour.userId}|${hour.patientId}|${day}`, seed(reachReason), hour);
    if (isOffHours(hour.hourStart, rules))
      add(groups, `off_hours|${hour.userId}|${hour.patientId}|${day}`, seed('off_hours'), hour);
    const counted = hour.actions.filter((a) => !exemptFromVolume(a));
    if (counted.length > 0) {
      const key = `${hour.userId}|${day}`;
      let ud = perUserDay.get(key);
      if (!ud) perUserDay.set(key, (ud = { userId: hour.userId, day, patients: new Set(), hours: [] }));
      ud.patients.add(hour.patientId);
      ud.hours.push(hour);
    }
  }

  const medianPerUserDay = median([...perUserDay.values()].map((ud) => ud.patients.size));
  const threshold = Math.max(rules.volumeMinimum, rules.volumeFactor * medianPerUserDay);
  for (const ud of perUserDay.values()) {
    if (ud.patients.size <= threshold) continue;
    const seed = () => ({
      reason: 'high_volume' as const,
      userId: ud.userId,
      patientId: null,
      day: ud.day,
      events: 0,
      actions: [],
      firstAt: ud.hours[0]!.firstAt,
      lastAt: ud.hours[0]!.lastAt,
      reach: null,
      distinctPatients: ud.patients.size,
      threshold,
    });
    for (const hour of ud.hours) add(groups, `high_volume|${ud.userId}|${ud.day}`, seed, hour);
  }

  const findings = [...groups.values()].map(({ finding, actions }) => ({ ...finding, actions: [...actions].sort() }));
  findings.sort(
    (a, b) =>
      b.lastAt - a.lastAt ||
      REVIEW_REASONS.indexOf(a.reason) - REVIEW_REASONS.indexOf(b.reason) ||
      a.userId.localeCompare(b.userId) ||
      (a.patientId ?? '').localeCompare(b.patientId ?? ''),
  );
  return { findings, events, users: users.size, patients: patients.size, volume: { medianPerUserDay, threshold } };
}
