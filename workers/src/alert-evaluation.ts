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
  type Snooze,
  type Thresholds,
  type Transition,
} from '@glucoboard/core/domain';
import {
  cgmValuesIn,
  continueEpisode,
  earlierEvaluations,
  episodesOf,
  inTransaction,
  lockPatientsForEvaluation,
  openEpisode,
  recordEvaluations,
  recordNewestReadings,
  resolveEpisode,
  resolveNoDataEpisodes,
  snoozesInForce,
  thresholdsOfPatients,
  type AlertChange,
  type CgmWindow,
  type Database,
  type EvaluationReading,
  type StoredEpisode,
} from '@glucoboard/core/storage';

export type { AlertChange };

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
    const patients = await lockPatientsForEvaluation(client, ids);
    const done = await earlierEvaluations(client, batch.key, ids);
    const results: PatientEvaluation[] = [];
    const todo: Array<{ id: string; teamId: string; glucose: AlertReading[]; result: PatientEvaluation }> = [];
    for (const p of patients) {
      const previous = done.get(p.patientId);
      const result: PatientEvaluation = { ...p, changes: previous ?? [], repeated: previous !== undefined };
      results.push(result);
      if (previous) continue;
      const glucose = byPatient.get(p.patientId)!.filter((r) => r.kind !== 'control');
      todo.push({ id: p.patientId, teamId: p.teamId, glucose, result });
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
      const newest = measured.map((t) => ({
        patientId: t.id,
        measuredAt: new Date(Math.max(...t.glucose.map((r) => r.measuredAt.getTime()))),
      }));
      for (const row of await resolveNoDataEpisodes(client, newest)) {
        const t = measured.find((m) => m.id === row.patientId)!;
        t.result.changes.push({ alertId: row.alertId, change: 'updated', notify: false, severity: 'warning' });
      }
      await recordNewestReadings(client, newest);
    }
    await recordEvaluations(
      client,
      batch.key,
      todo.map((t) => ({ patientId: t.id, changes: t.result.changes })),
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
  // Each patient's own span: what the rapid-change rule looks back on from each CGM reading.
  const cgmWindows: CgmWindow[] = [];
  for (const p of patients) {
    const cgm = p.glucose.filter((r) => r.kind === 'cgm').map((r) => r.measuredAt.getTime());
    if (cgm.length === 0) continue;
    cgmWindows.push({
      patientId: p.id,
      from: new Date(Math.min(...cgm) - RAPID_CHANGE_LOOKBACK_MINUTES * MINUTE),
      to: new Date(Math.max(...cgm)),
    });
  }
  const [thresholds, episodes, snoozes, recentCgm] = await Promise.all([
    thresholdsOf(client, patients),
    episodesOf(client, ids, new Date(earliest - COOLDOWN_MINUTES * MINUTE)),
    snoozesInForce(client, ids, now),
    cgmValuesIn(client, cgmWindows),
  ]);
  return { thresholds, episodes, snoozes, recentCgm };
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
      const alertId = await openEpisode(client, patient, t, {
        firstMmol: valueAt(t.firstReadingAt),
        lastMmol: valueAt(t.lastReadingAt),
      });
      ids.set(t.rule, alertId);
      changes.add({ alertId, change: 'opened', notify: t.notify, severity: t.severity });
      continue;
    }
    const id = ids.get(t.rule);
    if (!id) throw new Error(`no stored episode for ${t.type} of ${t.rule}`);
    if (t.type === 'resolve') await resolveEpisode(client, id, t.at);
    else await continueEpisode(client, id, t, valueAt(t.lastReadingAt));
    changes.add({
      alertId: id,
      change: 'updated',
      notify: t.type !== 'resolve' && t.notify,
      severity: RULE_SEVERITY[t.rule],
    });
  }
}
