import type { ConnectionOptions } from 'bullmq';
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
