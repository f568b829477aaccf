import { noDataDue } from '@glucoboard/core/domain';
import { thresholdsOfPatients, type Database } from '@glucoboard/core/storage';
import type { AlertChange } from './alert-evaluation.ts';

/**
 * The no-data scan: patients with a paired meter whose newest reading is older than their no-data
 * period (patient override, else the team's default for a CGM if one is paired, else for a
 * fingerstick meter) get a no_data warning. The clock starts at the newest reading, or at pairing
 * for a meter that never sent one. A snoozed no_data is recorded without paging. The partial unique
 * index makes a second scan (or one on another machine) a no-op for patients already alerted.
 */
export async function openNoDataAlerts(db: Database, now: Date): Promise<AlertChange[]> {
  const candidates = await db.pool.query<{ patient_id: string; team_id: string; since: Date }>(
    `select p.id as patient_id, p.team_id, coalesce(s.last_reading_at, d.paired_at) as since
     from patients p
     join lateral (
       select min(created_at) as paired_at, count(*) as paired
       from devices where patient_id = p.id and revoked_at is null
     ) d on d.paired > 0
     left join patient_reading_state s on s.patient_id = p.id
     where not exists (select 1 from alerts a where a.patient_id = p.id and a.rule = 'no_data' and a.state <> 'resolved')`,
  );
  // The no-data period in effect: the one definition the board and the API show too.
  const thresholds = await thresholdsOfPatients(
    db.pool,
    candidates.rows.map((c) => c.patient_id),
  );
  const due = candidates.rows.filter((c) => {
    const minutes = thresholds.get(c.patient_id)?.effective.noDataMinutes;
    return minutes !== undefined && noDataDue(c.since, minutes, now);
  });
  if (due.length === 0) return [];
  const opened = await db.pool.query<{ id: string; notify: boolean }>(
    `insert into alerts (patient_id, team_id, rule, severity, state, notified_at, last_reading_at)
     select d.patient_id, d.team_id, 'no_data', 'warning', 'open',
            case when exists (select 1 from snoozes s where s.patient_id = d.patient_id and s.rule = 'no_data'
                              and s.cancelled_at is null and s.until > $4) then null else now() end,
            d.since
     from unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) as d(patient_id, team_id, since)
     on conflict (patient_id, rule) where state <> 'resolved' do nothing
     returning id, notified_at is not null as notify`,
    [due.map((d) => d.patient_id), due.map((d) => d.team_id), due.map((d) => d.since), now],
  );
  return opened.rows.map((r) => ({ alertId: r.id, change: 'opened', notify: r.notify, severity: 'warning' }));
}
