import pg from 'pg';
import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@glucoboard/core/test-support/databases';
import { freePort, runEntryPoint, waitForOk, type RunningProcess } from '@glucoboard/core/test-support/processes';
import { dropRedisPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '@glucoboard/core/test-support/redis';
import { ADMIN, addPatientsWithMeters, buildTeam } from './support/clinic.ts';
import { Client } from './support/http.ts';
import { Sockets, type ReadingsAck } from './support/sockets.ts';

// Issue 18, item 1: PostgreSQL dropping connections (every backend of the database terminated
// every 0.25 s for 6 s) during ingest and alerting must fail requests and jobs, never the
// processes. Real server and workers processes, real meters over Socket.IO.

const MINUTE = 60_000;
const METERS = 6;
const READINGS_PER_BATCH = 2;
const BATCH_EVERY_MS = 50;
const KILL_EVERY_MS = 250;
const KILL_FOR_MS = 6_000;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function started(entry: string, env: Record<string, string>): RunningProcess {
  const proc = runEntryPoint(entry, env);
  cleanup.push(async () => {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await proc.exited;
  });
  return proc;
}

/** The server and the workers, each its own process, on a fresh PostgreSQL database. */
async function startProcesses() {
  const target = await createTestDatabase('postgres');
  const prefix = uniqueRedisPrefix();
  cleanup.push(async () => {
    await target.dispose();
    await dropRedisPrefix(prefix);
  });
  const shared = {
    HOST: '127.0.0.1',
    DATA_DIR: target.dataDir,
    DATABASE_URL: target.databaseUrl!,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
  };
  const port = await freePort();
  const server = started('server/src/main.ts', {
    ...shared,
    PORT: String(port),
    RUN_WORKERS: '0',
    DEMO: '0',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForOk(`${url}/healthz`, server, 30_000);
  const healthPort = await freePort();
  const workers = started('workers/src/main.ts', {
    ...shared,
    ALERT_JOB_LOCK_SECONDS: '1',
    WORKER_HEALTH_PORT: String(healthPort),
  });
  await waitForOk(`http://127.0.0.1:${healthPort}/healthz`, workers, 30_000);
  return { server, workers, url, workersUrl: `http://127.0.0.1:${healthPort}`, databaseUrl: target.databaseUrl! };
}

/** Terminates every other backend of the database every KILL_EVERY_MS for KILL_FOR_MS; resolves with how many. */
async function terminateBackendsRepeatedly(databaseUrl: string): Promise<number> {
  const killer = new pg.Client({ connectionString: databaseUrl });
  killer.on('error', () => undefined);
  await killer.connect();
  let terminated = 0;
  try {
    const end = Date.now() + KILL_FOR_MS;
    while (Date.now() < end) {
      const result = await killer.query<{ ok: boolean }>(
        `select pg_terminate_backend(pid) as ok from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid()`,
      );
      terminated += result.rows.filter((r) => r.ok).length;
      await sleep(KILL_EVERY_MS);
    }
  } finally {
    await killer.end();
  }
  return terminated;
}

/** Fails at once when a process has died, with its output (the crash is the finding). */
function assertAlive(procs: Record<string, RunningProcess>): void {
  for (const [name, p] of Object.entries(procs)) {
    if (p.child.exitCode !== null || p.child.signalCode !== null)
      throw new Error(`the ${name} process exited with ${p.child.exitCode ?? p.child.signalCode}:\n${p.output()}`);
  }
}

/**
 * A meter as the contract asks: a batch is resent (same seqs) after `retryAfterMs` until it is
 * answered ok. Returns the seqs acknowledged ok, and how many answers were UNAVAILABLE.
 */
async function meterLoad(socket: Socket, loadUntil: () => boolean, alive: () => void) {
  const acked: number[] = [];
  let unavailable = 0;
  let seq = 0;
  const start = Date.now() - 12 * 60 * MINUTE; // room for 720 readings, all in the past
  while (loadUntil()) {
    const readings = Array.from({ length: READINGS_PER_BATCH }, () => {
      const s = seq++;
      // Below urgentLow (3.0), one minute apart: one urgent_low episode per patient.
      return { seq: s, measuredAt: new Date(start + s * MINUTE).toISOString(), mmol: 2.9 - (s % 5) / 10, kind: 'cgm' };
    });
    const giveUp = Date.now() + 40_000;
    for (;;) {
      alive();
      if (Date.now() > giveUp) throw new Error(`batch at seq ${readings[0]!.seq} never acknowledged ok`);
      let ack: ReadingsAck;
      try {
        ack = (await socket.timeout(5_000).emitWithAck('readings', { readings })) as ReadingsAck;
      } catch {
        continue; // no answer (server busy or gone): resend
      }
      if (ack.ok) {
        expect(ack).toMatchObject({ accepted: expect.any(Number), duplicates: expect.any(Number), rejected: [] });
        expect(ack.accepted! + ack.duplicates!).toBe(readings.length);
        acked.push(...readings.map((r) => r.seq));
        break;
      }
      expect(['UNAVAILABLE', 'OVERLOADED']).toContain(ack.code);
      expect(ack.retryAfterMs).toBeGreaterThan(0);
      unavailable++;
      await sleep(ack.retryAfterMs!);
    }
    await sleep(BATCH_EVERY_MS);
  }
  return { acked, unavailable };
}

/** A care-team member changing a patient's high threshold back to back (a transaction on a checked-out client). */
async function thresholdChanges(admin: Client, patientId: string, loadUntil: () => boolean, alive: () => void) {
  let ok = 0;
  let failed = 0;
  // Until the kills stop, then until one more change goes through.
  const giveUp = Date.now() + KILL_FOR_MS + 20_000;
  for (let i = 0, okAfter = 0; loadUntil() || okAfter === 0; i++) {
    alive();
    if (Date.now() > giveUp) throw new Error('no thresholds change went through after the kills stopped');
    const last = !loadUntil();
    const answer = await admin
      .request('PUT', `/api/patients/${patientId}/thresholds`, { high: 12 + (i % 10) / 10 })
      .catch((err: unknown) => {
        alive(); // a refused connection is the server gone: say so
        throw err;
      });
    if (answer.status === 200) {
      ok++;
      if (last) okAfter++;
    } else if (answer.status === 503 && answer.body?.error?.code === 'UNAVAILABLE') {
      // A lost database is a moment's outage: 503 with Retry-After, never a 500.
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      failed++;
      await sleep(100);
    } else throw new Error(`thresholds: ${answer.status} ${answer.text}`);
  }
  return { ok, failed };
}

describe('database connections dropped under load', () => {
  it('every backend terminated every 0.25 s for 6 s: server and workers live, nothing lost or doubled', async () => {
    const { server, workers, url, workersUrl, databaseUrl } = await startProcesses();
    const alive = () => assertAlive({ server, workers });
    const admin = await new Client(url).login(ADMIN.email, ADMIN.password);
    const team = await buildTeam(admin, url, `Db faults ${Math.random().toString(36).slice(2, 8)}`);
    const meters = await addPatientsWithMeters(team.admin, team.teamId, METERS, `dbfault-${Date.now()}`);
    const sockets = new Sockets(() => url);
    cleanup.push(async () => sockets.closeAll());
    const connected = await Promise.all(meters.map((m) => sockets.meter(m)));

    let loading = true;
    const loadUntil = () => loading;
    // Settled at once, so a load that fails while the kills go on is reported, not unhandled.
    const load = Promise.allSettled([
      Promise.all(connected.map((socket) => meterLoad(socket, loadUntil, alive))),
      thresholdChanges(team.admin, meters[0]!.patientId, loadUntil, alive),
    ]);
    const terminated = await terminateBackendsRepeatedly(databaseUrl).finally(() => (loading = false));
    const [meterOutcome, thresholdOutcome] = await load;
    alive();
    if (meterOutcome.status === 'rejected') throw meterOutcome.reason;
    if (thresholdOutcome.status === 'rejected') throw thresholdOutcome.reason;
    const meterResults = meterOutcome.value;
    const thresholds = thresholdOutcome.value;
    // The fault really bit: connections of both processes were cut while they worked.
    expect(terminated).toBeGreaterThan(10);
    expect(thresholds.ok).toBeGreaterThan(0);

    const check = new pg.Client({ connectionString: databaseUrl });
    check.on('error', () => undefined);
    await check.connect();
    cleanup.push(() => check.end());
    const outbox = async () => Number((await check.query('select count(*) as n from evaluation_outbox')).rows[0].n);
    // Jobs that failed while the database was away are retried with backoff (1 s, 2 s, 4 s ...).
    await expect.poll(outbox, { timeout: 30_000, interval: 250 }).toBe(0);
    alive();

    for (const [i, m] of meters.entries()) {
      const { acked } = meterResults[i]!;
      const stored = await check.query<{ seq: number; n: number }>(
        'select seq, count(*)::int as n from readings where device_serial = $1 group by seq order by seq',
        [m.deviceId],
      );
      // Every reading acknowledged ok is stored, once; nothing beyond what was sent.
      expect(stored.rows.filter((r) => r.n !== 1)).toEqual([]);
      expect(stored.rows.map((r) => r.seq)).toEqual(acked);
    }
    const alerts = await check.query<{ patient_id: string; n: number; readings: number }>(
      `select patient_id, count(*)::int as n, sum(reading_count)::int as readings from alerts
       where rule = 'urgent_low' and patient_id = any($1::uuid[]) group by patient_id`,
      [meters.map((m) => m.patientId)],
    );
    const perPatient = new Map(alerts.rows.map((r) => [r.patient_id, { alerts: r.n, readings: r.readings }]));
    for (const [i, m] of meters.entries())
      expect(perPatient.get(m.patientId)).toEqual({ alerts: 1, readings: meterResults[i]!.acked.length });

    // Both processes lived through it and still answer.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${workersUrl}/healthz`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
    expect(workers.child.exitCode).toBeNull();
    const unavailable = meterResults.reduce((n, r) => n + r.unavailable, 0);
    // The fault reached the HTTP API too (answered 503, checked above), and it recovered.
    expect(thresholds.failed).toBeGreaterThan(0);
    process.stderr.write(
      `terminated ${terminated} backends; ${unavailable} UNAVAILABLE acks; ` +
        `${meterResults.reduce((n, r) => n + r.acked.length, 0)} readings acked; thresholds ${thresholds.ok} ok, ${thresholds.failed} failed\n`,
    );
  });
});
