import type pg from 'pg';
import type { AlertRule, Severity } from '../domain/alert-rules.ts';
import { CGM_EXPECTED_INTERVAL_MINUTES } from '../domain/statistics.ts';
import { BAND_COUNT, BAND_EDGES, type TargetProfile } from '../domain/targets.ts';
import type { ReportAlertFacts, ReportPatientFacts } from '../domain/team-report.ts';
import { thresholdsOfPatients } from './thresholds.ts';

/**
 * What a team report (core/src/domain/team-report.ts) is assembled from, read for the whole team at
 * once: the patients, one aggregate row per patient over the readings, and the period's alerts.
 * Readings are counted next to the data (per glucose band exactly as `bandOf` sorts them, per
 * source; the CGM's 5-minute slots in a query of their own), never shipped: 1,000 CGM wearers over 28 days are some eight
 * million rows. The raw readings are read rather than the rollups (reading_hourly/daily): those
 * count the consensus ranges but not the pregnancy band's edges nor the sources, and on plain
 * PostgreSQL they lag the maintenance job by up to five minutes, where the report must give the same
 * answer on both backends. The scan is one pass over [from - length, to) by the (patient_id,
 * measured_at) index for the team's patient ids, as the board's counts are; the period before
 * gives the follow-up order its drop of TIR.
 */

type Queryable = pg.Pool | pg.PoolClient;

const PATIENTS = `
select p.id, p.display_name as name, p.labels, p.target_profile as "targetProfile",
       p.responsible_physician_id as "physicianId", u.name as "physicianName",
       exists (select 1 from memberships m where m.team_id = p.team_id and m.user_id = p.responsible_physician_id
               and m.role = 'physician' and u.disabled_at is null) as "teamPhysician",
       exists (select 1 from devices d where d.patient_id = p.id and d.kind = 'cgm' and d.revoked_at is null) as "cgmPaired"
from patients p
left join users u on u.id = p.responsible_physician_id
where p.team_id = $1
order by p.display_name, p.id`;

/** The band of a reading as an index, as `bandOf` (and the board's query) sorts it; $5 holds the edges. */
const BAND_INDEX = `case when r.flag = 'LO' then 0 when r.flag = 'HI' then ${BAND_COUNT - 1}
  ${BAND_EDGES.map((edge, i) => `when r.mmol ${edge.below ? '<' : '<='} ($5::float8[])[${i + 1}] then ${i}`).join(' ')}
  else ${BAND_COUNT - 1} end`;

const bandArray = (cur: boolean) =>
  Array.from(
    { length: BAND_COUNT },
    (_, i) => `count(*) filter (where ${cur ? '' : 'not '}r.cur and r.band = ${i})`,
  ).join(', ');

const COUNTS = `
select r.patient_id as "patientId",
       array[${bandArray(true)}]::int[] as bands,
       array[${bandArray(false)}]::int[] as "previousBands",
       (count(*) filter (where r.cur and r.source = 'device'))::int as device,
       (count(*) filter (where r.cur and r.source = 'manual'))::int as manual,
       (count(*) filter (where r.cur and r.source = 'import'))::int as import,
       coalesce(bool_or(r.kind = 'cgm') filter (where r.cur), false) as "cgmSeen",
       max(r.measured_at) filter (where r.cur) as "lastReadingAt"
from (
  select r.patient_id, r.measured_at, r.kind, r.source, r.measured_at >= $3::timestamptz as cur, ${BAND_INDEX} as band
  from readings r
  where r.patient_id = any($1::uuid[]) and r.measured_at >= $2::timestamptz and r.measured_at < $4::timestamptz and r.kind <> 'control'
) r
group by r.patient_id`;

/**
 * Distinct 5-minute slots (from the period's start) holding a CGM reading, per patient. Apart from
 * COUNTS on purpose: a `count(distinct ...)` there makes PostgreSQL sort every reading of the
 * team, about ten times slower (measured: 17 s against 1.8 s for 1,000 patients' week of CGM on
 * the 2-core test machine); here the distinct is a hash aggregate over the CGM readings alone.
 */
const CGM_SLOTS = `
select s.patient_id as "patientId", count(*)::int as slots
from (
  select distinct r.patient_id, date_bin($4::interval, r.measured_at, $2::timestamptz)
  from readings r
  where r.patient_id = any($1::uuid[]) and r.measured_at >= $2::timestamptz and r.measured_at < $3::timestamptz
    and r.kind = 'cgm'
) s
group by s.patient_id`;

/** Opened in the period, or opened before it and not resolved when it started (still live in it). */
const ALERTS = `
select a.patient_id as "patientId", a.rule, a.severity, a.opened_at as "openedAt",
       a.acknowledged_at as "acknowledgedAt", a.resolved_at as "resolvedAt", a.escalated, a.retrospective
from alerts a
join patients p on p.id = a.patient_id and p.team_id = $1
where a.opened_at < $3 and (a.opened_at >= $2 or a.resolved_at is null or a.resolved_at > $2)`;

const zeroBands = (): number[] => new Array<number>(BAND_COUNT).fill(0);

export interface TeamReportFacts {
  patients: ReportPatientFacts[];
  alerts: ReportAlertFacts[];
}

/** The team's patients (by name) with their counts over [from, to) and the period before, and its alerts. */
export async function teamReportFactsOf(
  db: Queryable,
  teamId: string,
  period: { from: Date; to: Date },
): Promise<TeamReportFacts> {
  const patients = await db.query<{
    id: string;
    name: string;
    labels: string[];
    targetProfile: TargetProfile;
    physicianId: string | null;
    physicianName: string | null;
    teamPhysician: boolean;
    cgmPaired: boolean;
  }>(PATIENTS, [teamId]);
  if (patients.rows.length === 0) return { patients: [], alerts: [] };
  const ids = patients.rows.map((p) => p.id);
  const length = period.to.getTime() - period.from.getTime();
  const counts = await db.query<{
    patientId: string;
    bands: number[];
    previousBands: number[];
    device: number;
    manual: number;
    import: number;
    cgmSeen: boolean;
    lastReadingAt: Date | null;
  }>(COUNTS, [
    ids,
    new Date(period.from.getTime() - length),
    period.from,
    period.to,
    BAND_EDGES.map((edge) => edge.value),
  ]);
  const slots = await db.query<{ patientId: string; slots: number }>(CGM_SLOTS, [
    ids,
    period.from,
    period.to,
    `${CGM_EXPECTED_INTERVAL_MINUTES} minutes`,
  ]);
  const alerts = await db.query<ReportAlertFacts & { rule: AlertRule; severity: Severity }>(ALERTS, [
    teamId,
    period.from,
    period.to,
  ]);
  const thresholds = await thresholdsOfPatients(db, ids);
  const countsOf = new Map(counts.rows.map((c) => [c.patientId, c]));
  const slotsOf = new Map(slots.rows.map((c) => [c.patientId, c.slots]));
  return {
    patients: patients.rows.map((p) => {
      const c = countsOf.get(p.id);
      return {
        id: p.id,
        name: p.name,
        labels: p.labels,
        targetProfile: p.targetProfile,
        responsiblePhysician:
          p.physicianId && p.physicianName !== null
            ? { id: p.physicianId, name: p.physicianName, teamPhysician: p.teamPhysician }
            : null,
        cgmPaired: p.cgmPaired,
        noDataMinutes: thresholds.get(p.id)!.effective.noDataMinutes,
        bands: c?.bands ?? zeroBands(),
        previousBands: c?.previousBands ?? zeroBands(),
        bySource: { device: c?.device ?? 0, manual: c?.manual ?? 0, import: c?.import ?? 0 },
        cgmSlots: slotsOf.get(p.id) ?? 0,
        cgmSeen: c?.cgmSeen ?? false,
        lastReadingAt: c?.lastReadingAt ?? null,
      };
    }),
    alerts: alerts.rows,
  };
}
