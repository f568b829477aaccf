import type pg from 'pg';
import {
  ALERT_RULES,
  COOLDOWN_MINUTES,
  currentEpisode,
  evaluate,
  RAPID_CHANGE_LOOKBACK_MINUTES,
  RULE_SEVERITY,
  type AlertReading,
  type AlertRule,
  type CgmPoint,
  type EpisodeState,
  type Severity,
  type Snooze,
  type Thresholds,
  type Transition,
} from '@glucoboard/core/domain';
import { inTransaction, thresholdsOfPatients, type Database, type EvaluationReading } from '@glucoboard/core/storage';

/** What an evaluation did to one alert, for the boards (and the pager). */
export interface AlertChange {
  alertId: string;
  /** 'opened': a new alert (board event `alert`); otherwise `alert:updated`. */
  change: 'opened' | 'updated';
  /** It pages now: fresh, not snoozed, not covered by a worse episode. */
  notify: boolean;
  severity: Severity;
}

export interface PatientEvaluation {
  patientId: string;
  teamId: string;
  escalateAfterMinutes: number;
  changes: AlertChange[];
  /** The batch had been evaluated before for this patient (a retried job): nothing was changed now. */
  repeated: boolean;
}

const MINUTE = 60_000;

/**
 * Applies the alert rules to a committed batch of readings (any number of patients) in one
 * transaction that also records the batch as evaluated per patient. Every query reads or writes
 * all the batch's patients at once, so a batch of a hundred meters costs about ten round trips,
 * not a thousand; only alert transitions are written one by one.
 *
 * The patients' rows are locked first, in id order (so two jobs cannot deadlock): two workers with
 * batches of the same patient take turns, each seeing the episodes the other left. A batch
 * evaluated before is recognised by its key and changes nothing. The partial unique index
 * `alerts_one_live_episode` is the last line: a second live alert per (patient, rule) cannot exist.
 */
export async function evaluateBatch(
  db: Database,
  batch: { key: string; receivedAt: Date; readings: readonly EvaluationReading[] },
  now: Date,
): Promise<PatientEvaluation[]> {
  const byPatient = new Map<string, AlertReading[]>();
  for (const r of batch.readings) {
    const reading: AlertReading = {
      measuredAt: new Date(r.measuredAt),
      mmol: r.mmol,
      flag: r.flag,
      kind: r.kind,
      receivedAt: batch.receivedAt,
    };
    const list = byPatient.get(r.patientId);
    if (list) list.push(reading);
    else byPatient.set(r.patientId, [reading]);
  }
  const ids = [...byPatient.keys()].sort();
  if (ids.length === 0) return [];
  return inTransaction(db.pool, async (client) => {
    const patients = await client.query<{ id: string; team_id: string; escalate_after_minutes: number }>(
      `select p.id, p.team_id, t.escalate_after_minutes from patients p join teams t on t.id = p.team_id
       where p.id = any($1::uuid[]) order by p.id for update of p`,
      [ids],
    );
    const earlier = await client.query<{ patient_id: string; changes: AlertChange[] }>(
      'select patient_id, changes from alert_evaluations where batch_key = $1 and patient_id = any($2::uuid[])',
      [batch.key, ids],
    );
    const done = new Map(earlier.rows.map((r) => [r.patient_id, r.changes]));
    const results: PatientEvaluation[] = [];
    const todo: Array<{ id: string; teamId: string; glucose: AlertReading[]; result: PatientEvaluation }> = [];
    for (const p of patients.rows) {
      const previous = done.get(p.id);
      const result: PatientEvaluation = {
        patientId: p.id,
        teamId: p.team_id,
        escalateAfterMinutes: p.escalate_after_minutes,
        changes: previous ?? [],
        repeated: previous !== undefined,
      };
      results.push(result);
      if (previous) continue;
      const glucose = byPatient.get(p.id)!.filter((r) => r.kind !== 'control');
      todo.push({ id: p.id, teamId: p.team_id, glucose, result });
    }
    const measured = todo.filter((t) => t.glucose.length > 0);
    if (measured.length > 0) {
      const context = await loadContext(client, measured, now);
      for (const t of measured) {
        const changes = new Changes();
        const episodes = context.episodes.get(t.id) ?? [];
        const transitions = evaluate({
          thresholds: context.thresholds.get(t.id)!,
          readings: t.glucose,
          episodes: episodes.map((e) => e.state),
          recentCgm: context.recentCgm.get(t.id) ?? [],
          snoozes: context.snoozes.get(t.id) ?? [],
          now,
        });
        await applyTransitions(
          client,
          { patientId: t.id, teamId: t.teamId },
          episodes,
          transitions,
          t.glucose,
          changes,
        );
        t.result.changes = changes.list();
      }
      const latest = measured.map((t) => new Date(Math.max(...t.glucose.map((r) => r.measuredAt.getTime()))));
      // Data arriving ends a no-data episode.
      const resolved = await client.query<{ id: string; patient_id: string }>(
        `update alerts a set state = 'resolved', resolved_at = x.latest, updated_at = now()
         from unnest($1::uuid[], $2::timestamptz[]) as x(patient_id, latest)
         where a.patient_id = x.patient_id and a.rule = 'no_data' and a.state <> 'resolved'
         returning a.id, a.patient_id`,
        [measured.map((t) => t.id), latest],
      );
      for (const row of resolved.rows) {
        const t = measured.find((m) => m.id === row.patient_id)!;
        t.result.changes.push({ alertId: row.id, change: 'updated', notify: false, severity: 'warning' });
      }
      await client.query(
        `insert into patient_reading_state (patient_id, last_reading_at)
         select * from unnest($1::uuid[], $2::timestamptz[])
         on conflict (patient_id) do update
           set last_reading_at = greatest(patient_reading_state.last_reading_at, excluded.last_reading_at)`,
        [measured.map((t) => t.id), latest],
      );
    }
    if (todo.length > 0)
      await client.query(
        `insert into alert_evaluations (batch_key, patient_id, changes)
         select $1, * from unnest($2::uuid[], $3::jsonb[])`,
        [batch.key, todo.map((t) => t.id), todo.map((t) => JSON.stringify(t.result.changes))],
      );
    return results;
  });
}

interface EvaluationContext {
  thresholds: Map<string, Thresholds>;
  episodes: Map<string, StoredEpisode[]>;
  snoozes: Map<string, Snooze[]>;
  recentCgm: Map<string, CgmPoint[]>;
}

/** Everything the rules need for these patients, a query per kind of thing. */
async function loadContext(
  client: pg.PoolClient,
  patients: ReadonlyArray<{ id: string; glucose: readonly AlertReading[] }>,
  now: Date,
): Promise<EvaluationContext> {
  const ids = patients.map((p) => p.id);
  const times = patients.flatMap((p) => p.glucose.map((r) => r.measuredAt.getTime()));
  const earliest = Math.min(...times);
  const latest = Math.max(...times);
  const cgmIds = patients.filter((p) => p.glucose.some((r) => r.kind === 'cgm')).map((p) => p.id);
  const [thresholds, episodes, snoozes, recentCgm] = await Promise.all([
    thresholdsOf(client, patients),
    episodesOf(client, ids, new Date(earliest - COOLDOWN_MINUTES * MINUTE)),
    client.query<{ patient_id: string; rule: AlertRule; until: Date }>(
      `select patient_id, rule, until from snoozes
       where patient_id = any($1::uuid[]) and cancelled_at is null and until > $2`,
      [ids, now],
    ),
    cgmIds.length === 0
      ? Promise.resolve({ rows: [] as Array<{ patient_id: string; measuredAt: Date; mmol: number }> })
      : client.query<{ patient_id: string; measuredAt: Date; mmol: number }>(
          `select patient_id, measured_at as "measuredAt", mmol from readings
           where patient_id = any($1::uuid[]) and kind = 'cgm' and mmol is not null and measured_at between $2 and $3`,
          [cgmIds, new Date(earliest - RAPID_CHANGE_LOOKBACK_MINUTES * MINUTE), new Date(latest)],
        ),
  ]);
  return {
    thresholds,
    episodes,
    snoozes: groupBy(
      snoozes.rows,
      (r) => r.patient_id,
      (r) => ({ rule: r.rule, until: r.until }),
    ),
    recentCgm: groupBy(
      recentCgm.rows,
      (r) => r.patient_id,
      (r) => ({ measuredAt: r.measuredAt, mmol: r.mmol }),
    ),
  };
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

/** Per alert, the strongest change: opened beats updated, and a page is never lost in the merge. */
class Changes {
  readonly #byId = new Map<string, AlertChange>();
  add(c: AlertChange): void {
    const prev = this.#byId.get(c.alertId);
    this.#byId.set(
      c.alertId,
      prev ? { ...c, change: prev.change === 'opened' ? 'opened' : c.change, notify: prev.notify || c.notify } : c,
    );
  }
  list(): AlertChange[] {
    return [...this.#byId.values()];
  }
}

/** The thresholds in effect for each patient of the batch (the one definition, in storage). */
async function thresholdsOf(
  client: pg.PoolClient,
  patients: ReadonlyArray<{ id: string }>,
): Promise<Map<string, Thresholds>> {
  const found = await thresholdsOfPatients(
    client,
    patients.map((p) => p.id),
  );
  return new Map([...found].map(([id, t]) => [id, t.effective]));
}

interface StoredEpisode {
  id: string;
  state: EpisodeState;
}

/** Live episodes, and those resolved recently enough to continue (cooldown) for this batch. */
async function episodesOf(
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

/** The alert row of the episode each rule's transitions concern: the engine's own choice. */
function currentIds(episodes: readonly StoredEpisode[]): Map<AlertRule, string> {
  const states = episodes.map((e) => e.state);
  const ids = new Map<AlertRule, string>();
  for (const rule of ALERT_RULES) {
    const current = currentEpisode(states, rule);
    const stored = current && episodes.find((e) => e.state === current);
    if (stored) ids.set(rule, stored.id);
  }
  return ids;
}

async function applyTransitions(
  client: pg.PoolClient,
  patient: { patientId: string; teamId: string },
  episodes: readonly StoredEpisode[],
  transitions: readonly Transition[],
  readings: readonly AlertReading[],
  changes: Changes,
): Promise<void> {
  const ids = currentIds(episodes);
  // The value shown as "last": the reading at the episode's last time (a batch may hold several rules' readings).
  const valueAt = (at: Date) => readings.find((r) => r.measuredAt.getTime() === at.getTime())?.mmol ?? null;
  for (const t of transitions) {
    if (t.type === 'open') {
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
          valueAt(t.firstReadingAt),
          t.lastReadingAt,
          valueAt(t.lastReadingAt),
          t.worstReadingAt,
          t.worstMmol,
          t.readingCount,
        ],
      );
      ids.set(t.rule, opened.rows[0]!.id);
      changes.add({ alertId: opened.rows[0]!.id, change: 'opened', notify: t.notify, severity: t.severity });
      continue;
    }
    const id = ids.get(t.rule);
    if (!id) throw new Error(`no stored episode for ${t.type} of ${t.rule}`);
    if (t.type === 'resolve') {
      await client.query(
        `update alerts set state = 'resolved', resolved_at = $2, resolved_by = null, updated_at = now() where id = $1`,
        [id, t.at],
      );
    } else {
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
          id,
          t.type === 'reopen',
          t.lastReadingAt,
          valueAt(t.lastReadingAt),
          t.worstMmol,
          t.worstReadingAt,
          t.readingCountDelta,
          t.retrospective,
          t.notify,
        ],
      );
    }
    changes.add({
      alertId: id,
      change: 'updated',
      notify: t.type !== 'resolve' && t.notify,
      severity: RULE_SEVERITY[t.rule],
    });
  }
}
