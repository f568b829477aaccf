import { Queue, QueueEvents } from 'bullmq';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry, locateRedis } from '@glucoboard/core/platform';
import { storeDeviceReadings } from '@glucoboard/core/storage';
import { createTestDatabase, openTestDatabase, patientWithDevice } from '@glucoboard/core/test-support/databases';
import { freePort, runEntryPoint, waitForOk } from '@glucoboard/core/test-support/processes';
import { dropRedisPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '@glucoboard/core/test-support/redis';
import { queuePrefix, QUEUES } from '@glucoboard/core/wire';
import { MAINTENANCE_SCHEDULE, startWorkers } from '../src/index.ts';

const log = pino({ level: 'silent' });
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const settings = (redisPrefix: string) => ({
  redisPrefix,
  readingRetentionDays: 3650,
  auditRetentionDays: 3650,
  compressAfterDays: 30,
  alertJobs: { noDataScanMs: 60_000, lockDurationMs: 30_000 },
});

/** A test database and Redis prefix of its own, both dropped after the test. */
async function isolated() {
  const db = await openTestDatabase('postgres');
  const prefix = uniqueRedisPrefix();
  cleanup.push(() => db.dispose());
  cleanup.push(() => dropRedisPrefix(prefix));
  return { db, prefix };
}

type TestDatabase = Awaited<ReturnType<typeof isolated>>['db'];

/** The workers on that database and prefix, stopped after the test; their Redis. */
async function workersOn(db: TestDatabase, prefix: string) {
  const redis = await locateRedis({ redisUrl: TEST_REDIS_URL, dataDir: '/nonexistent', log });
  const workers = await startWorkers({
    db,
    redis,
    settings: settings(prefix),
    log,
    metrics: createMetricsRegistry('workers'),
  });
  cleanup.push(() => workers.close());
  return redis;
}

/** One CGM reading of the device's patient, stored as the device write stores it. */
function oneReading(db: TestDatabase, serial: string, patientId: string, at: Date, mmol: number) {
  return storeDeviceReadings(db.pool, [
    { deviceSerial: serial, patientId, seq: 1, measuredAt: at, mmol, flag: null, kind: 'cgm', meal: null },
  ]);
}

describe('maintenance jobs through BullMQ', () => {
  it('a queued refresh-rollups job runs on the worker and fills the rollups', async () => {
    const { db, prefix } = await isolated();
    const redis = await workersOn(db, prefix);
    const { patientId } = await patientWithDevice(db, 'JOB-1');
    await oneReading(db, 'JOB-1', patientId, new Date(Date.now() - 3_600_000), 2.8);
    const queue = new Queue(QUEUES.maintenance, { connection: redis.options, prefix: queuePrefix(prefix) });
    const events = new QueueEvents(QUEUES.maintenance, { connection: redis.options, prefix: queuePrefix(prefix) });
    cleanup.push(async () => {
      await events.close();
      await queue.close();
    });
    await events.waitUntilReady();
    const job = await queue.add('refresh-rollups', {});
    expect(await job.waitUntilFinished(events, 30_000)).toEqual({ refreshed: true });
    const rollup = await db.pool.query('select n::int, n_very_low::int from reading_hourly where patient_id = $1', [
      patientId,
    ]);
    expect(rollup.rows).toEqual([{ n: 1, n_very_low: 1 }]);
  });
});

describe('count buckets ahead of the boards', () => {
  it('are filled when the workers start, before any board asks', async () => {
    const { db, prefix } = await isolated();
    const { patientId } = await patientWithDevice(db, 'JOB-2');
    await oneReading(db, 'JOB-2', patientId, new Date(Date.now() - 3 * 3_600_000), 6.1);
    const buckets = async () =>
      (
        await db.pool.query<{ n: number }>('select count(*)::int as n from reading_buckets where patient_id = $1', [
          patientId,
        ])
      ).rows[0]!.n;
    expect(await buckets()).toBe(0);
    await workersOn(db, prefix);
    await expect.poll(buckets, { timeout: 30_000, interval: 200 }).toBeGreaterThan(0);
  });
});

describe('the workers process on its own (as in docker compose)', () => {
  it('schedules its jobs, answers /healthz and stops cleanly on SIGTERM', async () => {
    const target = await createTestDatabase('postgres');
    const prefix = uniqueRedisPrefix();
    cleanup.push(() => target.dispose());
    cleanup.push(() => dropRedisPrefix(prefix));
    const port = await freePort();
    const proc = runEntryPoint('workers/src/main.ts', {
      DATABASE_URL: target.databaseUrl!,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      WORKER_HEALTH_PORT: String(port),
      HOST: '127.0.0.1',
    });
    cleanup.push(async () => {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
      await proc.exited;
    });
    await waitForOk(`http://127.0.0.1:${port}/healthz`, proc, 60_000);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('glucoboard_process_resident_memory_bytes{process="workers"}');
    // The Redis the process was given (TEST_REDIS_URL), wherever that is.
    const redis = await locateRedis({ redisUrl: TEST_REDIS_URL, dataDir: '/nonexistent', log });
    const queue = new Queue(QUEUES.maintenance, { connection: redis.options, prefix: queuePrefix(prefix) });
    const schedulers = (await queue.getJobSchedulers()).map((s) => s.key).sort();
    await queue.close();
    expect(schedulers).toEqual(Object.keys(MAINTENANCE_SCHEDULE).sort());
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
});
