import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, storeDeviceReadings, type EvaluationReading } from '@glucoboard/core/storage';
import { BACKENDS, openTestDatabase, patientWithDevice } from '@glucoboard/core/test-support/databases';
import { evaluateBatch, type PatientEvaluation } from '../src/alert-evaluation.ts';
import { openNoDataAlerts } from '../src/no-data.ts';

// The alert worker's database half, on both backends: what a batch does to the stored episodes,
// and that a retried or parallel evaluation cannot count or open anything twice.

const MINUTE = 60_000;

/** One patient's batch through the batch evaluation; the patient's result. */
async function evaluatePatientReadings(
  db: Awaited<ReturnType<typeof openTestDatabase>>,
  batch: { key: string; patientId: string; receivedAt: Date; readings: EvaluationReading[] },
  now: Date,
): Promise<PatientEvaluation | undefined> {
  const results = await evaluateBatch(db, batch, now);
  return results.find((r) => r.patientId === batch.patientId);
}

describe.each(BACKENDS)('alert evaluation on %s', (backend) => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let serial = 0;
  beforeAll(async () => {
    db = await openTestDatabase(backend);
  });
  afterAll(() => db?.dispose());

  async function patient() {
    const deviceId = `EVAL-${backend}-${++serial}`;
    return { deviceId, ...(await patientWithDevice(db, deviceId)) };
  }

  /** CGM readings one minute apart ending `endAgo` ms before now, stored like the ingest path does. */
  async function stored(p: { deviceId: string; patientId: string }, values: number[], endAgo = 0, firstSeq = 0) {
    const end = Date.now() - endAgo;
    const rows = values.map((mmol, i) => ({
      deviceSerial: p.deviceId,
      patientId: p.patientId,
      seq: firstSeq + i,
      measuredAt: new Date(end - (values.length - 1 - i) * MINUTE),
      mmol,
      flag: null,
      kind: 'cgm' as const,
      meal: null,
    }));
    await storeDeviceReadings(db.pool, rows);
    return rows.map(
      (r): EvaluationReading => ({
        patientId: r.patientId,
        deviceId: r.deviceSerial,
        seq: r.seq,
        source: 'device',
        measuredAt: r.measuredAt.toISOString(),
        mmol: r.mmol,
        flag: null,
        kind: 'cgm',
        meal: null,
      }),
    );
  }

  const alertsOf = async (patientId: string) =>
    (
      await db.pool.query(
        `select id, rule, state, reading_count, retrospective, notified_at, worst_mmol
         from alerts where patient_id = $1 order by opened_at, rule`,
        [patientId],
      )
    ).rows;

  it("looks back on each patient's own stored CGM for a rapid fall, whatever else the batch holds", async () => {
    // Two patients in one batch, their readings two hours apart; the 15 minutes before each
    // reading were stored by earlier batches, so only the database can show the fall.
    const [a, b] = [await patient(), await patient()];
    const job: EvaluationReading[] = [];
    for (const [p, endAgo] of [
      [a, 0],
      [b, 2 * 60 * MINUTE],
    ] as const) {
      await stored(p, [12, 12, 12, 12, 12, 10.5, 10.5, 10.5, 10.5, 10.5, 9, 9, 9, 9, 9], endAgo + MINUTE);
      job.push(...(await stored(p, [7], endAgo, 100)));
    }
    const results = await evaluateBatch(db, { key: 'job-rapid', receivedAt: new Date(), readings: job }, new Date());
    expect(results.map((r) => r.patientId).sort()).toEqual([a.patientId, b.patientId].sort());
    for (const p of [a, b]) {
      const rules = (await alertsOf(p.patientId)).map((row: { rule: string }) => row.rule);
      expect(rules).toEqual(['rapid_change']);
    }
  });

  it('opens a paging critical alert for a hypo, and a retried batch changes nothing', async () => {
    const p = await patient();
    const readings = await stored(p, [5.5, 3.6, 2.7, 2.5]);
    const batch = { key: 'job-1', patientId: p.patientId, receivedAt: new Date(), readings };
    const first = await evaluatePatientReadings(db, batch, new Date());
    expect(first!.repeated).toBe(false);
    expect(first!.changes.filter((c) => c.severity === 'critical')).toEqual([
      expect.objectContaining({ change: 'opened', notify: true }),
    ]);
    const again = await evaluatePatientReadings(db, batch, new Date());
    expect(again).toEqual({ ...first, repeated: true });
    expect(again!.patientId).toBe(p.patientId);
    const alerts = await alertsOf(p.patientId);
    expect(alerts.map((a) => [a.rule, a.state, a.reading_count, a.worst_mmol])).toEqual([
      ['low', 'open', 1, 3.6],
      ['urgent_low', 'open', 2, 2.5],
    ]);
    expect(alerts.every((a) => a.notified_at !== null)).toBe(true);
  });

  it('evaluates a group-commit batch of many patients at once, each on its own readings', async () => {
    const fleet = await Promise.all([0, 1, 2, 3, 4].map(() => patient()));
    const readings = (
      await Promise.all(fleet.map((p, i) => stored(p, i === 2 ? [4.4, 2.9] : [5.5, 6.0], 0, 900)))
    ).flat();
    const results = await evaluateBatch(db, { key: 'group', receivedAt: new Date(), readings }, new Date());
    expect(results.map((r) => r.patientId).sort()).toEqual(fleet.map((p) => p.patientId).sort());
    for (const [i, p] of fleet.entries()) {
      const alerts = await alertsOf(p.patientId);
      expect(alerts.map((a) => a.rule)).toEqual(i === 2 ? ['urgent_low'] : []);
      expect(results.find((r) => r.patientId === p.patientId)!.changes).toHaveLength(i === 2 ? 1 : 0);
    }
    const marks = await db.pool.query('select count(*)::int as n from alert_evaluations where batch_key = $1', [
      'group',
    ]);
    expect(marks.rows[0].n).toBe(5);
    const state = await db.pool.query(
      'select count(*)::int as n from patient_reading_state where patient_id = any($1)',
      [fleet.map((p) => p.patientId)],
    );
    expect(state.rows[0].n).toBe(5);
    // The whole batch again (a retried job): every patient recognised, nothing counted twice.
    const again = await evaluateBatch(db, { key: 'group', receivedAt: new Date(), readings }, new Date());
    expect(again.every((r) => r.repeated)).toBe(true);
    expect((await alertsOf(fleet[2]!.patientId))[0]).toMatchObject({ reading_count: 1 });
  });

  it('keeps one live alert per rule when batches of one patient are evaluated in parallel', async () => {
    const p = await patient();
    const batches = await Promise.all(
      [0, 1, 2, 3].map(async (i) => ({
        key: `parallel-${i}`,
        patientId: p.patientId,
        receivedAt: new Date(),
        readings: await stored(p, [2.8 - i * 0.1], (3 - i) * MINUTE, 100 + i),
      })),
    );
    await Promise.all(batches.map((b) => evaluatePatientReadings(db, b, new Date())));
    const alerts = await alertsOf(p.patientId);
    expect(alerts.map((a) => [a.rule, a.state, a.reading_count])).toEqual([['urgent_low', 'open', 4]]);
  });

  it('records a backfilled episode from hours ago as retrospective, without paging', async () => {
    const p = await patient();
    const readings = await stored(p, [6, 2.6, 2.4, 5.9], 3 * 60 * MINUTE);
    const result = await evaluatePatientReadings(
      db,
      { key: 'backfill', patientId: p.patientId, receivedAt: new Date(), readings },
      new Date(),
    );
    expect(result!.changes).toEqual([expect.objectContaining({ change: 'opened', notify: false })]);
    const [alert] = await alertsOf(p.patientId);
    expect(alert).toMatchObject({ rule: 'urgent_low', state: 'resolved', retrospective: true, notified_at: null });
  });

  it('records a snoozed rule without paging', async () => {
    const p = await patient();
    const nurse = await createUser(db.pool, {
      email: `snoozer-${backend}@example.se`,
      name: 'Snoozer',
      passwordHash: 'x',
    });
    await db.pool.query(
      `insert into snoozes (patient_id, rule, until, created_by) values ($1, 'urgent_low', now() + interval '1 hour', $2)`,
      [p.patientId, nurse.id],
    );
    const readings = await stored(p, [2.5]);
    const result = await evaluatePatientReadings(
      db,
      { key: 'snoozed', patientId: p.patientId, receivedAt: new Date(), readings },
      new Date(),
    );
    expect(result!.changes).toEqual([
      expect.objectContaining({ change: 'opened', notify: false, severity: 'critical' }),
    ]);
    expect((await alertsOf(p.patientId))[0]).toMatchObject({ state: 'open', notified_at: null });
  });

  it('opens no_data once when readings are overdue, and data arriving resolves it', async () => {
    const p = await patient();
    const readings = await stored(p, [6.1], 2 * 60 * MINUTE);
    await evaluatePatientReadings(
      db,
      { key: 'last', patientId: p.patientId, receivedAt: new Date(), readings },
      new Date(),
    );
    const opened = await openNoDataAlerts(db, new Date());
    const mine = opened.filter((c) => c.severity === 'warning');
    const ofPatient = (await alertsOf(p.patientId)).filter((a) => a.rule === 'no_data');
    expect(ofPatient).toHaveLength(1);
    expect(mine.map((c) => c.alertId)).toContain(ofPatient[0]!.id);
    // A second scan (or one on another machine) opens nothing more for this patient.
    expect((await openNoDataAlerts(db, new Date())).map((c) => c.alertId)).not.toContain(ofPatient[0]!.id);
    const fresh = await stored(p, [6.4], 0, 500);
    const result = await evaluatePatientReadings(
      db,
      { key: 'fresh', patientId: p.patientId, receivedAt: new Date(), readings: fresh },
      new Date(),
    );
    expect(result!.changes).toEqual([expect.objectContaining({ alertId: ofPatient[0]!.id, change: 'updated' })]);
    expect((await alertsOf(p.patientId)).find((a) => a.rule === 'no_data')).toMatchObject({ state: 'resolved' });
  });

  it('continues the same alert when an episode re-opens within the cooldown, without paging again', async () => {
    const p = await patient();
    const first = await stored(p, [2.6, 4.8], 8 * MINUTE, 0);
    await evaluatePatientReadings(
      db,
      { key: 'dip-1', patientId: p.patientId, receivedAt: new Date(), readings: first },
      new Date(),
    );
    const second = await stored(p, [2.7], 0, 10);
    const result = await evaluatePatientReadings(
      db,
      { key: 'dip-2', patientId: p.patientId, receivedAt: new Date(), readings: second },
      new Date(),
    );
    expect(result!.changes).toEqual([expect.objectContaining({ change: 'updated', notify: false })]);
    const alerts = await alertsOf(p.patientId);
    expect(alerts.map((a) => [a.rule, a.state, a.reading_count])).toEqual([['urgent_low', 'open', 2]]);
  });
});
