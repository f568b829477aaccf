import type pg from 'pg';
import type {
  AlertRule,
  CgmPoint,
  EpisodeState,
  OpenTransition,
  ReopenTransition,
  Severity,
  Snooze,
  UpdateTransition,
} from '../domain/alert-rules.ts';

/**
 * The alert worker's writes of alert episodes (the `alerts` rows the rules open, continue and
 * resolve, and the no-data scan's), next to alerts.ts which serves people's views and actions on
 * the same rows. Each read takes all of a batch's patients at once, so a batch of a hundred
 * meters costs about ten round trips; the caller holds the transaction.
 */

type Queryable = pg.Pool | pg.PoolClient;

/** What an evaluation did to one alert, for the boards (and the pager); stored per evaluated batch. */
export interface AlertChange {
  alertId: string;
  /** 'opened': a new alert (board event `alert`); otherwise `alert:updated`. */
  change: 'opened' | 'updated';
  /** It pages now: fresh, not snoozed, not covered by a worse episode. */
  notify: boolean;
  severity: Severity;
}

/** An episode's alert row, as the rules see it. */
export interface StoredEpisode {
  id: string;
  state: EpisodeState;
}

export interface EvaluatedPatient {
  patientId: string;
  teamId: string;
  escalateAfterMinutes: number;
}

function groupBy<R, V>(rows: readonly R[], key: (r: R) => string, value: (r: R) => V): Map<string, V[]> {
  const groups = new Map<string, V[]>();
  for (const row of rows) {
    const k = key(row);
    const list = groups.get(k);
    if (list) list.push(value(row));
    else groups.set(k, [value(row)]);
  }
  return groups;
}

/**
 * Locks the patients' rows in id order (two jobs cannot deadlock), so two workers with batches of
 * the same patient take turns, each seeing the episodes the other left. Unknown ids are absent.
 */
export async function lockPatientsForEvaluation(
  client: pg.PoolClient,
  patientIds: readonly string[],
): Promise<EvaluatedPatient[]> {
  const found = await client.query<EvaluatedPatient>(
    `select p.id as "patientId", p.team_id as "teamId", t.escalate_after_minutes as "escalateAfterMinutes"
     from patients p join teams t on t.id = p.team_id
     where p.id = any($1::uuid[]) order by p.id for update of p`,
    [patientIds],
  );
  return found.rows;
}

/** The changes of an earlier evaluation of this batch, per patient (a retried job changes nothing). */
export async function earlierEvaluations(
  client: pg.PoolClient,
  batchKey: string,
  patientIds: readonly string[],
): Promise<Map<string, AlertChange[]>> {
  const found = await client.query<{ patient_id: string; changes: AlertChange[] }>(
    'select patient_id, changes from alert_evaluations where batch_key = $1 and patient_id = any($2::uuid[])',
    [batchKey, patientIds],
  );
  return new Map(found.rows.map((r) => [r.patient_id, r.changes]));
}

/** Marks the batch evaluated for these patients, with what it changed. */
export async function recordEvaluations(
  client: pg.PoolClient,
  batchKey: string,
  evaluations: ReadonlyArray<{ patientId: string; changes: readonly AlertChange[] }>,
): Promise<void> {
  if (evaluations.length === 0) return;
  await client.query(
    `insert into alert_evaluations (batch_key, patient_id, changes)
     select $1, * from unnest($2::uuid[], $3::jsonb[])`,
    [batchKey, evaluations.map((e) => e.patientId), evaluations.map((e) => JSON.stringify(e.changes))],
  );
}

/** Live episodes, and those resolved recently enough to continue (cooldown), per patient. */
export async function episodesOf(
  client: pg.PoolClient,
  patientIds: readonly string[],
  resolvedSince: Date,
): Promise<Map<string, StoredEpisode[]>> {
  const found = await client.query<{
    id: string;
    patient_id: string;
    rule: AlertRule;
    state: EpisodeState['state'];
    first_reading_at: Date;
    last_reading_at: Date;
    worst_mmol: number | null;
    worst_reading_at: Date;
    reading_count: number;
    resolved_at: Date | null;
    retrospective: boolean;
  }>(
    `select id, patient_id, rule, state, first_reading_at, last_reading_at, worst_mmol, worst_reading_at,
            reading_count, resolved_at, retrospective
     from alerts
     where patient_id = any($1::uuid[]) and rule <> 'no_data' and first_reading_at is not null
       and (state <> 'resolved' or resolved_at >= $2)`,
    [patientIds, resolvedSince],
  );
  return groupBy(
    found.rows,
    (r) => r.patient_id,
    (r): StoredEpisode => ({
      id: r.id,
      state: {
        rule: r.rule,
        state: r.state,
        firstReadingAt: r.first_reading_at,
        lastReadingAt: r.last_reading_at,
        worstMmol: r.worst_mmol,
        worstReadingAt: r.worst_reading_at,
        readingCount: r.reading_count,
        retrospective: r.retrospective,
        ...(r.resolved_at ? { resolvedAt: r.resolved_at } : {}),
      },
    }),
  );
}

/** The snoozes in force at `now`, per patient. */
export async function snoozesInForce(
  client: pg.PoolClient,
  patientIds: readonly string[],
  now: Date,
): Promise<Map<string, Snooze[]>> {
  const found = await client.query<{ patient_id: string; rule: AlertRule; until: Date }>(
    `select patient_id, rule, until from snoozes
     where patient_id = any($1::uuid[]) and cancelled_at is null and until > $2`,
    [patientIds, now],
  );
  return groupBy(
    found.rows,
    (r) => r.patient_id,
    (r) => ({ rule: r.rule, until: r.until }),
  );
}

/** A patient's span of time whose CGM values the rapid-change rule needs. */
export interface CgmWindow {
  patientId: string;
  from: Date;
  to: Date;
}

/**
 * The CGM values of each patient within that patient's own window. One window per patient, not
 * one span around the whole batch: a storm's batch holds patients whose backlogs lie hours apart,
 * and the span around all of them read three times the rows the rule looks at.
 */
export async function cgmValuesIn(
  client: pg.PoolClient,
  windows: readonly CgmWindow[],
): Promise<Map<string, CgmPoint[]>> {
  if (windows.length === 0) return new Map();
  const found = await client.query<{ patient_id: string; measuredAt: Date; mmol: number }>(
    `select w.patient_id, r.measured_at as "measuredAt", r.mmol
     from unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) as w(patient_id, from_at, to_at)
     cross join lateral (
       select measured_at, mmol from readings
       where patient_id = w.patient_id and kind = 'cgm' and mmol is not null
         and measured_at between w.from_at and w.to_at
       offset 0 -- a fence: each window stays an index range scan (as in reading-buckets.ts)
     ) r`,
    [windows.map((w) => w.patientId), windows.map((w) => w.from), windows.map((w) => w.to)],
  );
  return groupBy(
    found.rows,
    (r) => r.patient_id,
    (r) => ({ measuredAt: r.measuredAt, mmol: r.mmol }),
  );
}

/** The values shown for an episode's first and last reading (null: a meter flag). */
export interface EpisodeValues {
  firstMmol: number | null;
  lastMmol: number | null;
}

/** A new episode's alert row; returns its id. */
export async function openEpisode(
  client: pg.PoolClient,
  patient: { patientId: string; teamId: string },
  t: OpenTransition,
  values: EpisodeValues,
): Promise<string> {
  const opened = await client.query<{ id: string }>(
    `insert into alerts (patient_id, team_id, rule, severity, state, retrospective, notified_at,
                         first_reading_at, first_mmol, last_reading_at, last_mmol, worst_reading_at, worst_mmol,
                         reading_count)
     values ($1, $2, $3, $4, 'open', $5, case when $6 then now() end, $7, $8, $9, $10, $11, $12, $13)
     returning id`,
    [
      patient.patientId,
      patient.teamId,
      t.rule,
      t.severity,
      t.retrospective,
      t.notify,
      t.firstReadingAt,
      values.firstMmol,
      t.lastReadingAt,
      values.lastMmol,
      t.worstReadingAt,
      t.worstMmol,
      t.readingCount,
    ],
  );
  return opened.rows[0]!.id;
}

/** A reading joined the episode (a resolved one within the cooldown opens again). */
export async function continueEpisode(
  client: pg.PoolClient,
  alertId: string,
  t: UpdateTransition | ReopenTransition,
  lastMmol: number | null,
): Promise<void> {
  await client.query(
    `update alerts set
       state = case when $2 then 'open' else state end,
       resolved_at = case when $2 then null else resolved_at end,
       resolved_by = case when $2 then null else resolved_by end,
       last_mmol = case when $3 > last_reading_at then $4 else last_mmol end,
       last_reading_at = $3, worst_mmol = $5, worst_reading_at = $6,
       reading_count = reading_count + $7, retrospective = $8,
       notified_at = case when $9 then now() else notified_at end,
       updated_at = now()
     where id = $1`,
    [
      alertId,
      t.type === 'reopen',
      t.lastReadingAt,
      lastMmol,
      t.worstMmol,
      t.worstReadingAt,
      t.readingCountDelta,
      t.retrospective,
      t.notify,
    ],
  );
}

/** The readings showed the episode over. */
export async function resolveEpisode(client: pg.PoolClient, alertId: string, at: Date): Promise<void> {
  await client.query(
    `update alerts set state = 'resolved', resolved_at = $2, resolved_by = null, updated_at = now() where id = $1`,
    [alertId, at],
  );
}

/** A patient's newest reading time in a batch. */
export interface NewestReading {
  patientId: string;
  measuredAt: Date;
}

/** Data arriving ends a no-data episode; returns the alerts it resolved. */
export async function resolveNoDataEpisodes(
  client: pg.PoolClient,
  newest: readonly NewestReading[],
): Promise<Array<{ alertId: string; patientId: string }>> {
  const resolved = await client.query<{ alertId: string; patientId: string }>(
    `update alerts a set state = 'resolved', resolved_at = x.latest, updated_at = now()
     from unnest($1::uuid[], $2::timestamptz[]) as x(patient_id, latest)
     where a.patient_id = x.patient_id and a.rule = 'no_data' and a.state <> 'resolved'
     returning a.id as "alertId", a.patient_id as "patientId"`,
    [newest.map((n) => n.patientId), newest.map((n) => n.measuredAt)],
  );
  return resolved.rows;
}

/** Moves each patient's no-data clock to its newest reading (never back). */
export async function recordNewestReadings(client: pg.PoolClient, newest: readonly NewestReading[]): Promise<void> {
  await client.query(
    `insert into patient_reading_state (patient_id, last_reading_at)
     select * from unnest($1::uuid[], $2::timestamptz[])
     on conflict (patient_id) do update
       set last_reading_at = greatest(patient_reading_state.last_reading_at, excluded.last_reading_at)`,
    [newest.map((n) => n.patientId), newest.map((n) => n.measuredAt)],
  );
}

/** A patient with a paired meter whose no-data clock runs, and no live no_data alert. */
export interface NoDataCandidate {
  patientId: string;
  teamId: string;
  /**
   * The newest reading, or the first pairing for a meter that never sent one. A lent meter counts
   * from when this patient got it (its open assignment, migration 016), not from its first pairing,
   * so a loan does not raise no_data on the new patient at once.
   */
  since: Date;
}

export async function noDataCandidates(db: Queryable): Promise<NoDataCandidate[]> {
  const found = await db.query<NoDataCandidate>(
    `select p.id as "patientId", p.team_id as "teamId", coalesce(s.last_reading_at, d.paired_at) as since
     from patients p
     join lateral (
       select min(coalesce(
                (select a.started_at from device_assignments a where a.serial = dv.serial and a.ended_at is null),
                dv.created_at)) as paired_at,
              count(*) as paired
       from devices dv where dv.patient_id = p.id and dv.revoked_at is null
     ) d on d.paired > 0
     left join patient_reading_state s on s.patient_id = p.id
     where not exists (select 1 from alerts a where a.patient_id = p.id and a.rule = 'no_data' and a.state <> 'resolved')`,
  );
  return found.rows;
}

/**
 * Opens no_data warnings for these patients; a snoozed no_data is recorded without paging. The
 * partial unique index makes a patient already alerted (another scan, another machine) a no-op.
 */
export async function openNoDataEpisodes(
  db: Queryable,
  due: readonly NoDataCandidate[],
  now: Date,
): Promise<Array<{ alertId: string; notify: boolean }>> {
  const opened = await db.query<{ alertId: string; notify: boolean }>(
    `insert into alerts (patient_id, team_id, rule, severity, state, notified_at, last_reading_at)
     select d.patient_id, d.team_id, 'no_data', 'warning', 'open',
            case when exists (select 1 from snoozes s where s.patient_id = d.patient_id and s.rule = 'no_data'
                              and s.cancelled_at is null and s.until > $4) then null else now() end,
            d.since
     from unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) as d(patient_id, team_id, since)
     on conflict (patient_id, rule) where state <> 'resolved' do nothing
     returning id as "alertId", notified_at is not null as notify`,
    [due.map((d) => d.patientId), due.map((d) => d.teamId), due.map((d) => d.since), now],
  );
  return opened.rows;
}
