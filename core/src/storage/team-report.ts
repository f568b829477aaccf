import type pg from 'pg';
import type { AlertRule, Severity } from '../domain/alert-rules.ts';
import type { TargetProfile } from '../domain/targets.ts';
import type { ReportAlertFacts, ReportPatientFacts } from '../domain/team-report.ts';
import { periodCountsOf } from './reading-buckets.ts';
import { thresholdsOfPatients } from './thresholds.ts';

/**
 * What a team report (core/src/domain/team-report.ts) is assembled from, read for the whole team at
 * once: the patients, their counts over the period and the equally long period before (which gives
 * the follow-up order its drop of TIR), and the period's alerts. Readings are counted next to the
 * data, never shipped: 1,000 CGM wearers over 28 days are some eight million rows, added up from
 * the readings' hour and day buckets as the board's counts are (reading-buckets.ts), the same
 * answer on both backends. The continuous aggregates (reading_hourly/daily) cannot serve: they count
 * the consensus ranges but not the pregnancy band's edges, the sources or the CGM slots.
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

/** Opened in the period, or opened before it and not resolved when it started (still live in it). */
const ALERTS = `
select a.patient_id as "patientId", a.rule, a.severity, a.opened_at as "openedAt",
       a.acknowledged_at as "acknowledgedAt", a.resolved_at as "resolvedAt", a.escalated, a.retrospective
from alerts a
join patients p on p.id = a.patient_id and p.team_id = $1
where a.opened_at < $3 and (a.opened_at >= $2 or a.resolved_at is null or a.resolved_at > $2)`;

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
  const counts = await periodCountsOf(db, ids, [
    period,
    { from: new Date(period.from.getTime() - length), to: period.from },
  ]);
  const alerts = await db.query<ReportAlertFacts & { rule: AlertRule; severity: Severity }>(ALERTS, [
    teamId,
    period.from,
    period.to,
  ]);
  const thresholds = await thresholdsOfPatients(db, ids);
  return {
    patients: patients.rows.map((p) => {
      const [current, previous] = counts.get(p.id)!;
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
        bands: current!.bands,
        previousBands: previous!.bands,
        bySource: current!.bySource,
        cgmSlots: current!.cgmSlots,
        cgmSeen: current!.cgmReadings > 0,
        lastReadingAt: current!.lastReadingAt,
      };
    }),
    alerts: alerts.rows,
  };
}
