import { Queue, QueueEvents } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { producerConnection, type RedisEndpoint } from '@glucoboard/core/platform';
import { queuePrefix, QUEUES } from '@glucoboard/core/wire';
import { freePort, runEntryPoint, type RunningProcess } from '@glucoboard/core/test-support/processes';
import { TEST_REDIS_URL, throwawayRedis } from '@glucoboard/core/test-support/redis';
import { ADMIN, addPatientsWithMeters, buildTeam, startTestSystem } from './support/clinic.ts';
import { sendReadings, Sockets } from './support/sockets.ts';

// Issue "Alerting", item 7: a worker killed mid-batch, Redis restarted (losing its data), stalled
// jobs: no alert missed, none duplicated, no reading counted twice. Real processes throughout.

const MINUTE = 60_000;
// Processes start and Redis restarts under a full parallel suite: each wait below has its own bound,
// so the test as a whole gets room for them (the waits, not the test, say what is too slow).
const FAULT_TEST_MS = 180_000;
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
});

type System = Awaited<ReturnType<typeof startTestSystem>>;

async function system(env: Record<string, string>) {
  const sys = await startTestSystem('postgres', { RUN_WORKERS: '0', ...env });
  cleanup.push(() => sys.stop());
  const sockets = new Sockets(() => sys.system.url);
  cleanup.push(async () => sockets.closeAll());
  const admin = await sys.client().login(ADMIN.email, ADMIN.password);
  const team = await buildTeam(admin, sys.system.url, `Faults ${Math.random().toString(36).slice(2, 8)}`);
  return { sys, sockets, team };
}

/** The workers as their own process (`npm run workers`), with short BullMQ locks so a dead one's job returns in about a second. */
async function workerProcess(sys: System, redisUrl: string): Promise<RunningProcess> {
  const proc = runEntryPoint('workers/src/main.ts', {
    DATABASE_URL: sys.databaseUrl!,
    DATA_DIR: sys.dataDir,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: sys.prefix,
    ALERT_JOB_LOCK_SECONDS: '1',
    WORKER_HEALTH_PORT: String(await freePort()),
    HOST: '127.0.0.1',
  });
  cleanup.push(async () => {
    proc.child.kill('SIGKILL');
    await proc.exited;
  });
  return proc;
}

let seq = 0;
/** Low CGM values one minute apart, ending `endAgo` ms ago: every one below 3.0. */
function lows(count: number, endAgo: number) {
  const end = Date.now() - endAgo;
  return Array.from({ length: count }, (_, i) => ({
    seq: seq++,
    measuredAt: new Date(end - (count - 1 - i) * MINUTE).toISOString(),
    mmol: 2.9 - (i % 5) / 10,
    kind: 'cgm',
  }));
}

const outbox = async (sys: System, where = 'true') =>
  Number((await sys.system.db.pool.query(`select count(*) as n from evaluation_outbox where ${where}`)).rows[0].n);

async function alertsPerPatient(sys: System, patientIds: string[]) {
  const rows = await sys.system.db.pool.query<{ patient_id: string; n: string; readings: number }>(
    `select patient_id, count(*) as n, sum(reading_count)::int as readings from alerts
     where rule = 'urgent_low' and patient_id = any($1::uuid[]) group by patient_id`,
    [patientIds],
  );
  return new Map(rows.rows.map((r) => [r.patient_id, { alerts: Number(r.n), readings: r.readings }]));
}

describe('alerting under faults', () => {
  it(
    'a worker killed mid-batch (SIGKILL): the stalled job is retried, no alert missed or duplicated',
    async () => {
      const { sys, sockets, team } = await system({});
      const meters = await addPatientsWithMeters(team.admin, team.teamId, 12, `kill-${sys.prefix}`);
      const batches = 8;
      const perBatch = 4;
      // Everything is committed and published first, so the worker has a queue to chew on.
      await Promise.all(
        meters.map(async (m) => {
          const socket = await sockets.meter(m);
          for (let b = 0; b < batches; b++) {
            const ack = await sendReadings(socket, { readings: lows(perBatch, (batches - b) * perBatch * MINUTE) });
            expect(ack).toMatchObject({ ok: true, accepted: perBatch });
          }
        }),
      );
      await expect.poll(() => outbox(sys, 'published_at is null'), { timeout: 15_000 }).toBe(0);

      const redis: RedisEndpoint = sys.system.redis;
      const queue = new Queue(QUEUES.evaluation, {
        connection: producerConnection(redis),
        prefix: queuePrefix(sys.prefix),
      });
      const events = new QueueEvents(QUEUES.evaluation, { connection: redis.options, prefix: queuePrefix(sys.prefix) });
      cleanup.push(
        () => queue.close(),
        () => events.close(),
      );
      let stalled = 0;
      events.on('stalled', () => stalled++);
      await events.waitUntilReady();

      const first = await workerProcess(sys, TEST_REDIS_URL);
      await expect.poll(() => queue.getActiveCount(), { timeout: 30_000, interval: 2 }).toBeGreaterThan(0);
      first.child.kill('SIGKILL');
      await first.exited;
      const killedWith = await queue.getActiveCount();

      await workerProcess(sys, TEST_REDIS_URL);
      await expect.poll(() => outbox(sys), { timeout: 60_000, interval: 200 }).toBe(0);
      const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active');
      // Group commit folds batches of several meters into one job, so jobs <= batches sent.
      expect(counts).toMatchObject({ failed: 0, waiting: 0, active: 0 });
      expect(counts.completed).toBeGreaterThan(1);
      // The job the dead worker held came back through the stall check, not by luck.
      expect(killedWith).toBeGreaterThan(0);
      expect(stalled).toBeGreaterThanOrEqual(1);

      const perPatient = await alertsPerPatient(
        sys,
        meters.map((m) => m.patientId),
      );
      for (const m of meters) expect(perPatient.get(m.patientId)).toEqual({ alerts: 1, readings: batches * perBatch });
    },
    FAULT_TEST_MS,
  );

  it(
    'Redis restarted without its data mid-run: servers and workers reconnect, lost jobs come back, every alert once',
    async () => {
      const port = await freePort();
      let redisServer = await throwawayRedis(port);
      cleanup.push(() => redisServer.stop());
      const redisUrl = `redis://127.0.0.1:${port}`;
      const { sys, sockets, team } = await system({ REDIS_URL: redisUrl, EVALUATION_REPUBLISH_SECONDS: '1' });
      const meters = await addPatientsWithMeters(team.admin, team.teamId, 5, `restart-${sys.prefix}`);
      const board = await sockets.board(team.nurse.cookie!);

      // Committed and published as jobs, but no worker has run them yet ...
      for (const m of meters)
        expect(await sendReadings(await sockets.meter(m), { readings: lows(3, 0) })).toMatchObject({ accepted: 3 });
      await expect.poll(() => outbox(sys, 'published_at is null'), { timeout: 15_000 }).toBe(0);
      expect(await outbox(sys)).toBe(meters.length);

      // ... when Redis goes down and comes back empty.
      await redisServer.stop();
      redisServer = await throwawayRedis(port);
      await workerProcess(sys, redisUrl);

      const alerted = () =>
        new Set(
          ((board.heard.get('alert') ?? []) as Array<{ patientId: string; severity: string }>).map((a) => a.patientId),
        ).size;
      await expect.poll(alerted, { timeout: 60_000, interval: 200 }).toBe(meters.length);
      await expect.poll(() => outbox(sys), { timeout: 15_000 }).toBe(0);
      const critical = (board.heard.get('alert') ?? []) as Array<{ severity: string }>;
      expect(critical.filter((a) => a.severity === 'critical')).toHaveLength(meters.length);

      // The server's own Redis users came back too: a new reading reaches the board live.
      const readingsBefore = (board.heard.get('reading') ?? []).length;
      expect(await sendReadings(await sockets.meter(meters[0]!), { readings: lows(1, 0) })).toMatchObject({
        accepted: 1,
      });
      await expect.poll(() => (board.heard.get('reading') ?? []).length, { timeout: 15_000 }).toBe(readingsBefore + 1);

      const perPatient = await alertsPerPatient(
        sys,
        meters.map((m) => m.patientId),
      );
      await expect.poll(() => outbox(sys), { timeout: 15_000 }).toBe(0);
      for (const m of meters) expect(perPatient.get(m.patientId)?.alerts).toBe(1);
    },
    FAULT_TEST_MS,
  );
});
