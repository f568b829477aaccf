import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Histogram } from 'prom-client';
import { producerQueue, type ProducerQueue, type RedisEndpoint } from '@glucoboard/core/platform';
import {
  applyRetention,
  compressOldReadings,
  fillReadingBuckets,
  refreshRollups,
  vacuumEmbedded,
  type Database,
} from '@glucoboard/core/storage';
import { TRIAGE_DAYS } from '@glucoboard/core/domain';
import { JOB_RETENTION, queuePrefix, QUEUES } from '@glucoboard/core/wire';
import { closeWithin, keepSchedules, workerConnection } from './queues.ts';

export interface MaintenanceSettings {
  redisPrefix: string;
  readingRetentionDays: number;
  auditRetentionDays: number;
  compressAfterDays: number;
  /** How often to check that Redis still has the schedulers, re-creating any it lost (default 30 s). */
  schedulerCheckMs?: number;
}

/** The jobs and how often they run. Job schedulers (not the removed `repeat` option) keep one each. */
export const MAINTENANCE_SCHEDULE = {
  'refresh-rollups': 5 * 60_000,
  'compress-readings': 60 * 60_000,
  'apply-retention': 60 * 60_000,
  'vacuum-embedded': 60 * 60_000,
  'fill-count-buckets': 60 * 60_000,
} as const;
export type MaintenanceJob = keyof typeof MAINTENANCE_SCHEDULE;
const SCHEDULES = Object.entries(MAINTENANCE_SCHEDULE).map(([id, every]) => ({ id, every }));

export interface MaintenanceWorker {
  queue: ProducerQueue<'maintenance'>;
  worker: Worker;
  close(): Promise<void>;
}

/**
 * Retention, compression, rollup refresh, count buckets and (embedded only) vacuum as scheduled BullMQ jobs. The embedded database has
 * no TimescaleDB background scheduler, and plain PostgreSQL has none either, so these run here
 * for every backend; each job is idempotent, so a retry or an overlap does no harm.
 */
export async function startMaintenance(
  db: Database,
  redis: RedisEndpoint,
  settings: MaintenanceSettings,
  log: Logger,
  metrics: Registry,
): Promise<MaintenanceWorker> {
  const prefix = queuePrefix(settings.redisPrefix);
  const duration = new Histogram({
    name: 'glucoboard_maintenance_job_seconds',
    help: 'Duration of maintenance jobs',
    labelNames: ['job', 'outcome'],
    buckets: [0.01, 0.05, 0.25, 1, 5, 30, 120],
    registers: [metrics],
  });
  const queue = producerQueue(QUEUES.maintenance, redis, settings.redisPrefix, log);
  const worker = new Worker(
    QUEUES.maintenance,
    async (job: Job) => {
      const stop = duration.startTimer({ job: job.name });
      try {
        const result = await runMaintenanceJob(db, job.name as MaintenanceJob, settings);
        stop({ outcome: 'ok' });
        log.info({ job: job.name, result }, 'maintenance job done');
        return result;
      } catch (err) {
        stop({ outcome: 'error' });
        throw err;
      }
    },
    // One at a time: the embedded database has one connection, and these jobs are not urgent.
    { connection: workerConnection(redis), prefix, concurrency: 1 },
  );
  // Closing a worker whose connections are still opening leaves BullMQ promises to reject
  // unhandled; a start that returns only when the worker is ready makes a prompt stop safe.
  await worker.waitUntilReady();
  worker.on('failed', (job, err) => log.error({ job: job?.name, err: err.message }, 'maintenance job failed'));
  worker.on('error', (err) => log.warn({ err: err.message }, 'maintenance worker error'));
  // A Redis restarted without its data has no schedulers: nothing would run again until a restart.
  const schedules = await keepSchedules(queue, SCHEDULES, { checkMs: settings.schedulerCheckMs ?? 30_000, log });
  // A scheduler's first job waits its interval; the count buckets are wanted by the first board.
  // No fixed job id: a failed one is kept for days, and would have made every later start's a no-op.
  await queue.add('fill-count-buckets', {}, JOB_RETENTION);
  return {
    queue,
    worker,
    async close() {
      await schedules.stop();
      for (const closable of [worker, queue])
        await closeWithin(closable, 10_000, () =>
          log.warn({ queue: closable.name }, 'maintenance queue did not close in time; its jobs will be retried'),
        );
    },
  };
}

export async function runMaintenanceJob(
  db: Database,
  job: MaintenanceJob,
  settings: MaintenanceSettings,
): Promise<unknown> {
  switch (job) {
    case 'refresh-rollups':
      await refreshRollups(db);
      return { refreshed: true };
    case 'compress-readings':
      return { compressedChunks: await compressOldReadings(db, settings.compressAfterDays) };
    case 'apply-retention':
      return applyRetention(db, settings);
    case 'vacuum-embedded':
      return { vacuumed: await vacuumEmbedded(db) };
    case 'fill-count-buckets':
      // The board's 14 days and the 14 before them, which also hold the team report's 28.
      return { patients: await fillReadingBuckets(db.pool, { now: new Date(), days: 2 * TRIAGE_DAYS }) };
    default:
      throw new Error(`unknown maintenance job ${String(job)}`);
  }
}
