import type pg from 'pg';
import type { Severity } from '../domain/alert-rules.ts';
import type { BandCounts, TargetProfile } from '../domain/targets.ts';
import { SparklineMemo, type SparkBin } from './board-sparklines.ts';
import { periodCountsOf } from './reading-buckets.ts';
import { thresholdsOfPatients } from './thresholds.ts';
import type { MeterFlag, ReadingSource } from '../domain/reading.ts';
import type { AlertState } from '../wire/alerts.ts';

/**
 * What a team's live board is made of, read for the whole team at once: a handful of set-based
 * queries whatever the number of patients (one per kind of data, never one per patient). The
 * arithmetic (shares, sufficiency, triage) is the domain's, in the caller; here only counting
 * happens, next to the data: 14 + 14 days of CGM for 1,000 patients is about 8 million rows, too
 * many to ship or even to scan per board, so the counts come from the readings' hour and day
 * buckets (reading-buckets.ts). Every target profile's shares, and the consensus ranges, are sums
 * of bands. Control-solution readings are left out everywhere, as in the statistics.
 */

type Queryable = pg.Pool | pg.PoolClient;

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

export interface BoardPeriod {
  /** End of every period, exclusive: the time of the request. */
  now: Date;
  /** Days of the statistics period; the previous period is as long and ends where it starts. */
  days: number;
  sparklineHours: number;
  /** Bins on the clock's grid of this width (board-sparklines.ts). */
  sparklineBinMinutes: number;
  /** CGM values this far back are the trend arrow's input. */
  trendMinutes: number;
}

export interface BoardPatientBase {
  id: string;
  name: string;
  labels: string[];
  targetProfile: TargetProfile;
  lastReviewedAt: Date | null;
  lastReviewedById: string | null;
  lastReviewedByName: string | null;
  responsiblePhysician: { id: string; name: string } | null;
  cgmPaired: boolean;
  noDataMinutes: number;
  lastReading: {
    measuredAt: Date;
    mmol: number | null;
    flag: MeterFlag | null;
    kind: 'bgm' | 'cgm';
    source: ReadingSource;
  } | null;
}

export interface BoardPatientCounts {
  /** Readings per glucose band (targets.ts), of the current period and the one before. */
  current: BandCounts;
  previous: BandCounts;
  /** Distinct clock 5-minute slots (`cgmSlotOf`) of the current period holding a CGM reading. */
  cgmSlots: number;
  /** A CGM reading lies in the current period. */
  cgmSeen: boolean;
}

export interface BoardAlert {
  severity: Severity;
  state: Exclude<AlertState, 'resolved'>;
  openedAt: Date;
  escalated: boolean;
}

export interface BoardPatientLive extends BoardPatientBase {
  recentCgm: Array<{ measuredAt: Date; mmol: number }>;
  sparkline: SparkBin[];
  alerts: BoardAlert[];
}

const PATIENTS = `
select p.id, p.display_name as name, p.labels, p.target_profile as "targetProfile",
       p.last_reviewed_at as "lastReviewedAt", p.last_reviewed_by as "lastReviewedById", u.name as "lastReviewedByName",
       p.responsible_physician_id as "physicianId", doc.name as "physicianName",
       cgm.paired is not null as "cgmPaired",
       last.measured_at as "lastMeasuredAt", last.mmol as "lastMmol", last.flag as "lastFlag",
       last.kind as "lastKind", last.source as "lastSource"
from patients p
left join users u on u.id = p.last_reviewed_by
left join users doc on doc.id = p.responsible_physician_id
left join lateral (
  select 1 as paired from devices d where d.patient_id = p.id and d.kind = 'cgm' and d.revoked_at is null limit 1
) cgm on true
left join lateral (
  select r.measured_at, r.mmol, r.flag, r.kind, r.source from readings r
  where r.patient_id = p.id and r.kind <> 'control' order by r.measured_at desc limit 1
) last on true
where p.team_id = $1
order by p.display_name, p.id`;

const RECENT_CGM = `
select r.patient_id as "patientId", r.measured_at as "measuredAt", r.mmol
from readings r
where r.patient_id = any($1::uuid[]) and r.measured_at >= $2 and r.kind = 'cgm'
  and r.flag is null and r.mmol is not null
order by r.patient_id, r.measured_at`;

const ALERTS = `
select a.patient_id as "patientId", a.severity, a.state, a.opened_at as "openedAt", a.escalated
from alerts a
where a.patient_id = any($1::uuid[]) and a.state in ('open', 'acknowledged')`;

function groupBy<T extends { patientId: string }>(rows: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(row.patientId);
    if (group) group.push(row);
    else groups.set(row.patientId, [row]);
  }
  return groups;
}

/**
 * The team's patients (the responsible team's, by name) with what their rows show of the present:
 * last reading, sparkline, trend input and live alerts. A handful of queries for the whole team;
 * the sparklines come from `sparklines`, which keeps the team's settled bins between calls.
 */
export async function boardPatientsOf(
  db: Queryable,
  teamId: string,
  period: Omit<BoardPeriod, 'days'>,
  sparklines: SparklineMemo = new SparklineMemo(),
): Promise<BoardPatientLive[]> {
  const now = period.now.getTime();
  const trendFrom = new Date(now - period.trendMinutes * MINUTE_MS);

  const patients = await db.query<{
    id: string;
    name: string;
    labels: string[];
    targetProfile: BoardPatientBase['targetProfile'];
    lastReviewedAt: Date | null;
    lastReviewedById: string | null;
    lastReviewedByName: string | null;
    physicianId: string | null;
    physicianName: string | null;
    cgmPaired: boolean;
    lastMeasuredAt: Date | null;
    lastMmol: number | null;
    lastFlag: MeterFlag | null;
    lastKind: 'bgm' | 'cgm' | null;
    lastSource: ReadingSource | null;
  }>(PATIENTS, [teamId]);
  const ids = patients.rows.map((p) => p.id);
  if (ids.length === 0) return [];
  const thresholds = await thresholdsOfPatients(db, ids);

  const sparkOf = await sparklines.sparklinesOf(db, teamId, ids, {
    now: period.now,
    hours: period.sparklineHours,
    binMinutes: period.sparklineBinMinutes,
  });
  const recent = await db.query<{ patientId: string; measuredAt: Date; mmol: number }>(RECENT_CGM, [ids, trendFrom]);
  const alerts = await db.query<BoardAlert & { patientId: string }>(ALERTS, [ids]);
  const recentOf = groupBy(recent.rows);
  const alertsOf = groupBy(alerts.rows);

  return patients.rows.map((p) => ({
    id: p.id,
    name: p.name,
    labels: p.labels,
    targetProfile: p.targetProfile,
    lastReviewedAt: p.lastReviewedAt,
    lastReviewedById: p.lastReviewedById,
    lastReviewedByName: p.lastReviewedByName,
    responsiblePhysician:
      p.physicianId && p.physicianName !== null ? { id: p.physicianId, name: p.physicianName } : null,
    cgmPaired: p.cgmPaired,
    noDataMinutes: thresholds.get(p.id)!.effective.noDataMinutes,
    lastReading:
      p.lastMeasuredAt && p.lastKind && p.lastSource
        ? { measuredAt: p.lastMeasuredAt, mmol: p.lastMmol, flag: p.lastFlag, kind: p.lastKind, source: p.lastSource }
        : null,
    recentCgm: (recentOf.get(p.id) ?? []).map(({ measuredAt, mmol }) => ({ measuredAt, mmol })),
    sparkline: sparkOf.get(p.id) ?? [],
    alerts: (alertsOf.get(p.id) ?? []).map(({ severity, state, openedAt, escalated }) => ({
      severity,
      state,
      openedAt,
      escalated,
    })),
  }));
}

/**
 * Band counts of the statistics period and the one before it, and the CGM slots of the current
 * one, for each patient (zero counts for a patient without readings): added up from the
 * readings' hour and day buckets (reading-buckets.ts), in one statement.
 */
export async function boardCountsOf(
  db: Queryable,
  patientIds: readonly string[],
  period: Pick<BoardPeriod, 'now' | 'days'>,
): Promise<Map<string, BoardPatientCounts>> {
  const now = period.now.getTime();
  const split = new Date(now - period.days * DAY_MS);
  const periods = await periodCountsOf(db, patientIds, [
    { from: split, to: period.now },
    { from: new Date(now - 2 * period.days * DAY_MS), to: split },
  ]);
  const counts = new Map<string, BoardPatientCounts>();
  for (const [id, [current, previous]] of periods) {
    counts.set(id, {
      current: current!.bands,
      previous: previous!.bands,
      cgmSlots: current!.cgmSlots,
      cgmSeen: current!.cgmReadings > 0,
    });
  }
  return counts;
}
