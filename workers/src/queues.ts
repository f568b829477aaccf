import type { ConnectionOptions, Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { RedisEndpoint } from '@glucoboard/core/platform';

/**
 * BullMQ keys live under `{prefix}`: the braces make a Redis Cluster hash tag, so every key of a
 * queue lands in one slot, as BullMQ requires on a cluster.
 */
export const queuePrefix = (redisPrefix: string): string => `{${redisPrefix}}`;

export const QUEUES = {
  maintenance: 'maintenance',
  /** One job per committed batch of readings: the alert rules evaluate it. */
  evaluation: 'evaluation',
  /** A delayed job per critical alert that paged: escalates it if nobody took it in time. */
  escalation: 'escalation',
  /** The no-data scan, run by a job scheduler. */
  noData: 'no-data',
} as const;

/**
 * A batch's job id: the outbox row it comes from, so publishing it twice makes one job, and the
 * database's installation id, so a new database's row 1 is not taken for an old one's.
 */
export const evaluationJobId = (installationId: string, outboxId: number): string =>
  `outbox-${installationId}-${outboxId}`;

/** A critical alert's escalation job: one per alert, so paging twice schedules once, and acknowledging can cancel it. */
export const escalationJobId = (alertId: string): string => `escalate-${alertId}`;

/**
 * Jobs that must not be dropped retry with exponential backoff capped at a minute, for about a
 * week: a database outage delays rule evaluation, it never skips it.
 */
export const RETRY_BACKOFF = { attempts: 10_000, backoff: { type: 'capped-exponential' } } as const;
export const retryDelay = (attemptsMade: number): number => Math.min(60_000, 1000 * 2 ** Math.max(0, attemptsMade - 1));

/** Workers block on Redis and must wait out a restart rather than fail their commands. */
export const workerConnection = (redis: RedisEndpoint): ConnectionOptions => ({
  ...redis.options,
  maxRetriesPerRequest: null,
});

/** Producers fail fast: a caller gets an error to act on instead of a command queued forever. */
export const producerConnection = (redis: RedisEndpoint): ConnectionOptions => ({
  ...redis.options,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
});

/** Finished jobs are evidence for a while, not forever: bounded so Redis memory stays flat. */
export const JOB_RETENTION = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 86_400, count: 5000 },
} as const;

/**
 * worker.close() waits for the jobs in hand, which is what a graceful stop wants, but it can also
 * wait forever on a connection that is still reconnecting after a Redis restart (BullMQ issues
 * #4656, #2430). Bounded here: after `timeoutMs` the stop goes on. Nothing is lost by that: a job
 * cut off is retried from its lock's expiry, and every alert job is safe to run twice.
 */
export async function closeWithin(
  closable: { close(): Promise<void> },
  timeoutMs: number,
  onTimeout: () => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), timeoutMs);
  });
  const outcome = await Promise.race([closable.close().then(() => 'closed' as const), expired]);
  clearTimeout(timer);
  if (outcome === 'expired') onTimeout();
}

/** A job scheduler: its id (also the name of the jobs it makes) and how often it makes one. */
export interface JobSchedule {
  id: string;
  every: number;
}

/** Creates the schedulers, or updates them to the configured period (at start). */
export async function upsertSchedules(queue: Queue, schedules: readonly JobSchedule[]): Promise<void> {
  for (const { id, every } of schedules)
    await queue.upsertJobScheduler(id, { every }, { name: id, opts: JOB_RETENTION });
}

/**
 * Job schedulers live only in Redis: one restarted without its data (or flushed) has none, and
 * their jobs would never run again. Re-creates the missing ones and returns their ids; those
 * still there are left alone (an upsert would replace their next job for nothing).
 */
export async function restoreSchedules(queue: Queue, schedules: readonly JobSchedule[]): Promise<string[]> {
  const missing: JobSchedule[] = [];
  for (const schedule of schedules) if (!(await queue.getJobScheduler(schedule.id))) missing.push(schedule);
  await upsertSchedules(queue, missing);
  return missing.map((s) => s.id);
}

/**
 * Creates the schedulers now and keeps them: every `checkMs` those Redis lost are made again, and
 * `onRestored` repairs what else went with them. Stop it before closing the queue.
 */
export async function keepSchedules(
  queue: Queue,
  schedules: readonly JobSchedule[],
  options: { checkMs: number; log: Logger; onRestored?: () => Promise<void> },
): Promise<{ stop(): Promise<void> }> {
  const { log } = options;
  await upsertSchedules(queue, schedules);
  return everyInProcess(
    options.checkMs,
    async () => {
      const restored = await restoreSchedules(queue, schedules);
      if (restored.length === 0) return;
      log.warn({ queue: queue.name, schedulers: restored }, 'Redis had lost job schedulers; made again');
      await options.onRestored?.();
    },
    (err) => log.warn({ queue: queue.name, err: err.message }, 'scheduler check failed; the next one retries'),
  );
}

/**
 * Runs `pass` every `everyMs` in this process, one pass at a time, on a plain timer: the passes
 * that repair what a Redis without its data lost must not themselves live in Redis.
 */
export function everyInProcess(
  everyMs: number,
  pass: () => Promise<void>,
  onError: (err: Error) => void,
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const next = () => {
    timer = setTimeout(() => {
      running = pass()
        .catch((err: unknown) => onError(err instanceof Error ? err : new Error(String(err))))
        .finally(() => {
          if (!stopped) next();
        });
    }, everyMs);
  };
  next();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
