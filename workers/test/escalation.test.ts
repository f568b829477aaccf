import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { boardEventStream, createMetricsRegistry, locateRedis } from '@glucoboard/core/platform';
import {
  acknowledgeAlert,
  createPatient,
  createTeam,
  createUser,
  escalateAlerts,
  inTransaction,
  pendingEscalations,
  storeDeviceReadings,
  type Database,
} from '@glucoboard/core/storage';
import { BACKENDS, openTestDatabase, patientWithDevice } from '@glucoboard/core/test-support/databases';
import { dropRedisPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '@glucoboard/core/test-support/redis';
import { evaluateBatch } from '../src/alert-evaluation.ts';
import { startAlerting } from '../src/alerting.ts';

// Issue 18 item 3: the database is the record of when an escalation is due, and a delayed job and
// the sweep that reach an alert at the same time escalate it once, with one audit event and one
// board event.

const MINUTE = 60_000;
const log = pino({ level: 'silent' });
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function database(backend: (typeof BACKENDS)[number]) {
  const db = await openTestDatabase(backend);
  cleanup.push(() => db.dispose());
  return db;
}

/** A hypo through the evaluation path, as the worker does it: the critical alert that paged. */
async function pagedHypo(db: Database, serial: string) {
  const { patientId, teamId } = await patientWithDevice(db, serial);
  const now = Date.now();
  const rows = [3.4, 2.7, 2.5].map((mmol, i) => ({
    deviceSerial: serial,
    patientId,
    seq: i,
    measuredAt: new Date(now - (2 - i) * MINUTE),
    mmol,
    flag: null,
    kind: 'cgm' as const,
    meal: null,
  }));
  await storeDeviceReadings(db.pool, rows);
  const readings = rows.map((r) => ({
    ...r,
    deviceId: serial,
    source: 'device' as const,
    measuredAt: r.measuredAt.toISOString(),
  }));
  const [result] = await evaluateBatch(db, { key: `batch-${serial}`, receivedAt: new Date(), readings }, new Date());
  const change = result!.changes.find((c) => c.severity === 'critical' && c.notify)!;
  return { patientId, teamId, alertId: change.alertId };
}

const dueOf = async (db: Database, alertId: string) =>
  (
    await db.pool.query<{ due: Date | null; notified_at: Date }>(
      'select escalation_due_at as due, notified_at from alerts where id = $1',
      [alertId],
    )
  ).rows[0]!;

const escalationAudits = async (db: Database) =>
  (
    await db.pool.query<{ alert_id: string; n: number }>(
      `select detail->>'alertId' as alert_id, count(*)::int as n from audit_events
       where action = 'alert.escalate' group by 1`,
    )
  ).rows;

/**
 * Critical alerts that paged 20 minutes ago (team default: due after 15), on one team with an
 * escalation target: stored as the evaluation stored them then, so the due time is the database's own.
 */
async function overdueAlerts(db: Database, count: number): Promise<string[]> {
  const target = await createTeam(db.pool, { name: 'On call' });
  const team = await createTeam(db.pool, { name: 'Home care', escalationTeamId: target.id });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const patient = await createPatient(db.pool, { teamId: team.id, name: `Overdue ${i}` });
    const made = await db.pool.query<{ id: string }>(
      `insert into alerts (patient_id, team_id, rule, severity, state, opened_at, notified_at,
                           first_reading_at, last_reading_at, worst_reading_at, worst_mmol, reading_count)
       values ($1, $2, 'urgent_low', 'critical', 'open', now() - interval '20 minutes', now() - interval '20 minutes',
               now() - interval '21 minutes', now() - interval '20 minutes', now() - interval '20 minutes', 2.6, 2)
       returning id`,
      [patient.id, team.id],
    );
    ids.push(made.rows[0]!.id);
  }
  return ids;
}

describe.each(BACKENDS)('escalation due times on %s', (backend) => {
  it('a critical alert that pages is due after the team minutes; acknowledging clears it', async () => {
    const db = await database(backend);
    const hypo = await pagedHypo(db, `DUE-${backend}`);
    const row = await dueOf(db, hypo.alertId);
    expect(row.due!.getTime() - row.notified_at.getTime()).toBe(15 * MINUTE);
    expect(await pendingEscalations(db.pool)).toEqual([{ alertId: hypo.alertId, dueAt: row.due }]);
    // Only the paging critical alert waits to escalate (the batch's low episode does not).
    const others = await db.pool.query('select 1 from alerts where id <> $1 and escalation_due_at is not null', [
      hypo.alertId,
    ]);
    expect(others.rowCount).toBe(0);

    const nurse = await createUser(db.pool, { email: `n-${backend}@example.se`, name: 'Nurse', passwordHash: null });
    const taken = await inTransaction(db.pool, (client) =>
      acknowledgeAlert(client, hypo.alertId, nurse.id, { action: 'phone' }),
    );
    expect(taken.ok).toBe(true);
    expect((await dueOf(db, hypo.alertId)).due).toBeNull();
    expect(await pendingEscalations(db.pool)).toEqual([]);
    // Nothing left to escalate: the job firing late does nothing.
    expect(await escalateAlerts(db.pool, { alertId: hypo.alertId })).toEqual([]);
  });

  it('escalating clears the due time, writes one audit event, and a second pass does nothing', async () => {
    const db = await database(backend);
    const [alertId] = await overdueAlerts(db, 1);
    const [escalated] = await escalateAlerts(db.pool, 'due');
    expect(escalated).toMatchObject({ id: alertId, escalated: true });
    expect(escalated!.escalationTeamId).not.toBeNull();
    expect((await dueOf(db, alertId!)).due).toBeNull();
    expect(await escalateAlerts(db.pool, 'due')).toEqual([]);
    expect(await escalateAlerts(db.pool, { alertId: alertId! })).toEqual([]);
    expect(await escalationAudits(db)).toEqual([{ alert_id: alertId, n: 1 }]);
  });
});

describe('a delayed job and the sweep at the same time', () => {
  it('in the database: every alert is escalated by exactly one of the racing passes', async () => {
    const db = await database('postgres');
    const ids = await overdueAlerts(db, 20);
    const passes = await Promise.all([
      ...ids.map((alertId) => escalateAlerts(db.pool, { alertId })),
      escalateAlerts(db.pool, 'due'),
      escalateAlerts(db.pool, 'due'),
    ]);
    const winners = passes.flat().map((a) => a.id);
    expect(winners.sort()).toEqual([...ids].sort());
    const audits = await escalationAudits(db);
    expect(audits).toHaveLength(ids.length);
    for (const audit of audits) expect(audit.n).toBe(1);
  });

  it('in the workers: the rescheduled jobs and the sweep race, each alert gets one board event', async () => {
    const db = await database('postgres');
    const prefix = uniqueRedisPrefix();
    cleanup.push(() => dropRedisPrefix(prefix));
    const ids = await overdueAlerts(db, 10);
    const redis = await locateRedis({ redisUrl: TEST_REDIS_URL, dataDir: '/nonexistent', log });
    // At start the workers make a job (due now) for every pending escalation, and the sweep runs
    // every 20 ms: both reach each alert at about the same moment.
    const alerting = await startAlerting({
      db,
      redis,
      redisPrefix: prefix,
      log,
      metrics: createMetricsRegistry('workers'),
      escalationSweepMs: 20,
    });
    cleanup.push(() => alerting.close());
    await expect
      .poll(async () => (await db.pool.query('select 1 from alerts where escalated')).rowCount, { timeout: 15_000 })
      .toBe(ids.length);

    const stream = new Redis(TEST_REDIS_URL);
    cleanup.push(() => stream.quit());
    const escalationEvents = async () =>
      (await stream.xrange(boardEventStream(prefix), '-', '+'))
        .map(([, fields]) => JSON.parse(fields[1]!) as { event: string; payload: { id: string; escalated: boolean } })
        .filter((m) => m.event === 'alert:updated' && m.payload.escalated)
        .map((m) => m.payload.id);
    await expect.poll(async () => (await escalationEvents()).length, { timeout: 5000 }).toBe(ids.length);
    // A few more sweeps and any late job find nothing left to announce.
    await new Promise((r) => setTimeout(r, 500));
    expect((await escalationEvents()).sort()).toEqual([...ids].sort());
    const audits = await escalationAudits(db);
    expect(audits).toHaveLength(ids.length);
    for (const audit of audits) expect(audit.n).toBe(1);
  });
});
