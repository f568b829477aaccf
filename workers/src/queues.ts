import type { ConnectionOptions, Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { RedisEndpoint } from '@glucoboard/core/platform';
import { JOB_RETENTION } from '@glucoboard/core/wire';

/**
 * The worker side of the queues. Names, payloads, job ids and the producers' options are the
 * contract in core (core/src/wire/queues.ts, core/src/platform/queues.ts).
 */

/** The `capped-exponential` backoff of RETRY_BACKOFF: doubling from a second, capped at a minute. */
export const retryDelay = (attemptsMade: number): number => Math.min(60_000, 1000 * 2 ** Math.max(0, attemptsMade - 1));

/** Workers block on Redis and must wait out a restart rather than fail their commands. */
export const workerConnection = (redis: RedisEndpoint): ConnectionOptions => ({
  ...redis.options,
  maxRetriesPerRequest: null,
});

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
