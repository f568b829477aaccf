import type pg from 'pg';
import {
  ALERT_RULES,
  COOLDOWN_MINUTES,
  currentEpisode,
  DEFAULT_THRESHOLDS,
  effectiveThresholds,
  evaluate,
  RAPID_CHANGE_LOOKBACK_MINUTES,
  RULE_SEVERITY,
  type AlertReading,
  type AlertRule,
  type EpisodeState,
  type Severity,
  type TeamThresholds,
  type ThresholdOverrides,
  type Transition,
} from '@glucoboard/core/domain';
import { inTransaction, type Database, type EvaluationReading } from '@glucoboard/core/storage';

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
  teamId: string;
  escalateAfterMinutes: number;
  changes: AlertChange[];
  /** The batch had been evaluated before (a retried job): nothing was changed now. */
  repeated: boolean;
}

const MINUTE = 60_000;

/**
 * Applies the alert rules to one patient's newly stored readings, in one transaction that also
 * records the batch as evaluated. The patient row is locked first, so two workers evaluating the
 * same patient take turns (the rules need the episode state the other one leaves), and a batch
 * evaluated before is recognised by its key and changes nothing. The partial unique index
 * `alerts_one_live_episode` is the last line: a second live alert per (patient, rule) cannot exist.
 */
export async function evaluatePatientReadings(
  db: Database,
  batch: { key: string; patientId: string; receivedAt: Date; readings: readonly EvaluationReading[] },
  now: Date,
): Promise<PatientEvaluation | undefined> {
  return inTransaction(db.pool, async (client) => {
    const patient = await client.query<{ team_id: string; escalate_after_minutes: number }>(
      `select p.team_id, t.escalate_after_minutes from patients p join teams t on t.id = p.team_id
       where p.id = $1 for update of p`,
      [batch.patientId],
    );
    if (patient.rowCount === 0) return undefined; // the patient was removed since
    const { team_id: teamId, escalate_after_minutes: escalateAfterMinutes } = patient.rows[0]!;
    const earlier = await client.query<{ changes: AlertChange[] }>(
      'select changes from alert_evaluations where batch_key = $1 and patient_id = $2',
      [batch.key, batch.patientId],
    );
    if (earlier.rowCount === 1)
      return { teamId, escalateAfterMinutes, changes: earlier.rows[0]!.changes, repeated: true };

    const readings: AlertReading[] = batch.readings.map((r) => ({
      measuredAt: new Date(r.measuredAt),
      mmol: r.mmol,
      flag: r.flag,
      kind: r.kind,
      receivedAt: batch.receivedAt,
    }));
    const glucose = readings.filter((r) => r.kind !== 'control');
    const changes = new Changes();
    if (glucose.length > 0) {
      const times = glucose.map((r) => r.measuredAt.getTime());
      const earliest = new Date(Math.min(...times));
      const latest = new Date(Math.max(...times));
      const thresholds = await thresholdsOf(client, batch.patientId, teamId, glucose);
      const episodes = await episodesOf(client, batch.patientId, earliest);
      const snoozes = await client.query<{ rule: AlertRule; until: Date }>(
        `select rule, until from snoozes where patient_id = $1 and cancelled_at is null and until > $2`,
        [batch.patientId, now],
      );
      const recentCgm = glucose.some((r) => r.kind === 'cgm')
        ? (
            await client.query<{ measuredAt: Date; mmol: number }>(
              `select measured_at as "measuredAt", mmol from readings
               where patient_id = $1 and kind = 'cgm' and mmol is not null and measured_at between $2 and $3`,
              [batch.patientId, new Date(earliest.getTime() - RAPID_CHANGE_LOOKBACK_MINUTES * MINUTE), latest],
            )
          ).rows
        : [];
      const transitions = evaluate({
        thresholds,
        readings: glucose,
        episodes: episodes.map((e) => e.state),
        recentCgm,
        snoozes: snoozes.rows,
        now,
      });
      await applyTransitions(client, { patientId: batch.patientId, teamId }, episodes, transitions, glucose, changes);
      // Data arriving ends a no-data episode.
      const noData = await client.query<{ id: string }>(
        `update alerts set state = 'resolved', resolved_at = $2, updated_at = now()
         where patient_id = $1 and rule = 'no_data' and state <> 'resolved' returning id`,
        [batch.patientId, latest],
      );
      for (const row of noData.rows)
        changes.add({ alertId: row.id, change: 'updated', notify: false, severity: 'warning' });
      await client.query(
        `insert into patient_reading_state (patient_id, last_reading_at) values ($1, $2)
         on conflict (patient_id) do update
           set last_reading_at = greatest(patient_reading_state.last_reading_at, excluded.last_reading_at)`,
        [batch.patientId, latest],
      );
    }
    const list = changes.list();
    await client.query('insert into alert_evaluations (batch_key, patient_id, changes) values ($1, $2, $3::jsonb)', [
      batch.key,
      batch.patientId,
      JSON.stringify(list),
    ]);
    return { teamId, escalateAfterMinutes, changes: list, repeated: false };
  });
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

async function thresholdsOf(
  client: pg.PoolClient,
  patientId: string,
  teamId: string,
  readings: readonly AlertReading[],
) {
  const found = await client.query<{
    urgent_low: number | null;
    low: number | null;
    high: number | null;
    urgent_high: number | null;
    no_data_minutes_bgm: number | null;
    no_data_minutes_cgm: number | null;
    rapid_change_mmol_per_min: number | null;
    p_urgent_low: number | null;
    p_low: number | null;
    p_high: number | null;
    p_urgent_high: number | null;
    p_no_data_minutes: number | null;
  }>(
    `select t.urgent_low, t.low, t.high, t.urgent_high, t.no_data_minutes_bgm, t.no_data_minutes_cgm,
            t.rapid_change_mmol_per_min,
            p.urgent_low as p_urgent_low, p.low as p_low, p.high as p_high, p.urgent_high as p_urgent_high,
            p.no_data_minutes as p_no_data_minutes
     from (select $2::uuid as team_id) x
     left join team_thresholds t on t.team_id = x.team_id
     left join patient_thresholds p on p.patient_id = $1`,
    [patientId, teamId],
  );
  const row = found.rows[0]!;
  const team: TeamThresholds = {
    urgentLow: row.urgent_low ?? DEFAULT_THRESHOLDS.urgentLow,
    low: row.low ?? DEFAULT_THRESHOLDS.low,
    high: row.high ?? DEFAULT_THRESHOLDS.high,
    urgentHigh: row.urgent_high ?? DEFAULT_THRESHOLDS.urgentHigh,
    noDataMinutes: {
      bgm: row.no_data_minutes_bgm ?? DEFAULT_THRESHOLDS.noDataMinutes.bgm,
      cgm: row.no_data_minutes_cgm ?? DEFAULT_THRESHOLDS.noDataMinutes.cgm,
    },
    rapidChangeMmolPerMin: row.rapid_change_mmol_per_min ?? DEFAULT_THRESHOLDS.rapidChangeMmolPerMin,
  };
  const overrides: ThresholdOverrides = {
    urgentLow: row.p_urgent_low,
    low: row.p_low,
    high: row.p_high,
    urgentHigh: row.p_urgent_high,
    noDataMinutes: row.p_no_data_minutes,
  };
  return effectiveThresholds(team, overrides, readings.some((r) => r.kind === 'cgm') ? 'cgm' : 'bgm');
}

interface StoredEpisode {
  id: string;
  state: EpisodeState;
}

/** Live episodes, and those resolved recently enough to continue (cooldown) for this batch. */
async function episodesOf(client: pg.PoolClient, patientId: string, earliest: Date): Promise<StoredEpisode[]> {
  const found = await client.query<{
    id: string;
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
    `select id, rule, state, first_reading_at, last_reading_at, worst_mmol, worst_reading_at, reading_count,
            resolved_at, retrospective
     from alerts
     where patient_id = $1 and rule <> 'no_data' and first_reading_at is not null
       and (state <> 'resolved' or resolved_at >= $2)`,
    [patientId, new Date(earliest.getTime() - COOLDOWN_MINUTES * MINUTE)],
  );
  return found.rows.map((r) => ({
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
  }));
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
