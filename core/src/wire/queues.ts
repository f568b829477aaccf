import type { MealMarker, MeterFlag, ReadingKind } from '../domain/reading.ts';

/**
 * The BullMQ queues between the processes that produce jobs (the server's evaluation relay and
 * acknowledgements, the alert workers themselves) and the workers that run them: names, job
 * names, payloads and job ids. Only data here; the queues themselves are made by
 * `producerQueue` (core/src/platform/queues.ts) and the workers (workers/src).
 */

export const QUEUES = {
  maintenance: 'maintenance',
  /** One job per committed batch of readings: the alert rules evaluate it. */
  evaluation: 'evaluation',
  /** A delayed job per critical alert that paged: escalates it if nobody took it in time. */
  escalation: 'escalation',
  /** The no-data scan, run by a job scheduler. */
  noData: 'no-data',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * BullMQ keys live under `{prefix}`: the braces make a Redis Cluster hash tag, so every key of a
 * queue lands in one slot, as BullMQ requires on a cluster.
 */
export const queuePrefix = (redisPrefix: string): string => `{${redisPrefix}}`;

/** One newly stored reading, as the rule evaluation needs it. */
export interface EvaluationReading {
  patientId: string;
  /** null for a manual entry. */
  deviceId: string | null;
  seq: number | null;
  source: 'device' | 'manual' | 'import';
  measuredAt: string;
  mmol: number | null;
  flag: MeterFlag | null;
  kind: ReadingKind;
  meal: MealMarker | null;
}

/** The readings one write stored (never its duplicates: those were evaluated before). */
export interface EvaluationBatch {
  receivedAt: string;
  readings: EvaluationReading[];
}

/** An evaluation job: a batch, and the outbox row it came from (none from the naive writer). */
export interface EvaluationJob extends EvaluationBatch {
  outboxId?: number;
}
/** A batch from the outbox, or one reading from the naive writer (INGEST_MODE=naive). */
export type EvaluationJobName = 'evaluate-batch' | 'evaluate-reading';

export interface EscalationJob {
  alertId: string;
}
export type EscalationJobName = 'escalate';

/** What each queue's jobs carry, and the names they go by (the scheduled jobs carry nothing). */
export interface QueueJobs {
  maintenance: { data: Record<string, never>; name: string };
  evaluation: { data: EvaluationJob; name: EvaluationJobName };
  escalation: { data: EscalationJob; name: EscalationJobName };
  'no-data': { data: Record<string, never>; name: string };
}

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
 * week: a database outage delays rule evaluation, it never skips it. The workers implement the
 * `capped-exponential` strategy (workers/src/queues.ts, retryDelay).
 */
export const RETRY_BACKOFF = { attempts: 10_000, backoff: { type: 'capped-exponential' } } as const;

/** Finished jobs are evidence for a while, not forever: bounded so Redis memory stays flat. */
export const JOB_RETENTION = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 86_400, count: 5000 },
} as const;
