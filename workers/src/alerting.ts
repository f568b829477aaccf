import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import {
  BOARD_EVENTS,
  queuePrefix,
  QUEUES,
  type EscalationJob,
  type EvaluationJob,
  type QueueName,
} from '@glucoboard/core/wire';
import {
  producerQueue,
  publishToBoards,
  redisClient,
  type BoardMessage,
  type RedisEndpoint,
} from '@glucoboard/core/platform';
import { alertViews, removeEvaluations, type Database } from '@glucoboard/core/storage';
import { evaluateBatch, type AlertChange } from './alert-evaluation.ts';
import { escalationJob, Escalator, rescheduleEscalations } from './escalation.ts';
import { openNoDataAlerts } from './no-data.ts';
import { closeWithin, everyInProcess, keepSchedules, retryDelay, workerConnection } from './queues.ts';

const CLOSE_TIMEOUT_MS = 10_000;

export interface AlertingOptions {
  db: Database;
  redis: RedisEndpoint;
  redisPrefix: string;
  log: Logger;
  metrics: Registry;
  /** How often the no-data scan runs (default each minute). */
  noDataScanMs?: number;
  /** How often the sweep escalates what the database has due and checks the schedulers (default 30 s). */
  escalationSweepMs?: number;
  /** Parallel evaluation jobs per process (the embedded database has one connection: 1). */
  concurrency?: number;
  /** BullMQ lock and stall check; shorter in fault tests so a killed worker's job returns sooner. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export interface Alerting {
  close(): Promise<void>;
}

/**
 * The alert workers: rule evaluation of every committed batch, escalation of critical alerts nobody
 * took in time (a delayed job each), and the no-data scan (a job scheduler). Each job is safe to run
 * twice: evaluations are recorded per batch, escalation and the scan are conditional updates.
 * After its database work a job publishes the alerts it changed to the boards; if that fails the
 * job fails and its retry publishes them again (boards take alert events by id).
 *
 * Redis may lose its data (a restart without persistence): the delayed escalation jobs and the
 * scheduler go with it. In-process timers escalate every alert the database has due, and
 * re-create a missing scheduler and then the pending escalation jobs.
 */
export async function startAlerting(options: AlertingOptions): Promise<Alerting> {
  const { db, redis, log } = options;
  const prefix = queuePrefix(options.redisPrefix);
  const latency = new Histogram({
    name: 'glucoboard_alert_latency_seconds',
    help: 'From receipt of the reading that opened or re-sounded an alert to its publication to the boards',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [options.metrics],
  });
  const published = new Counter({
    name: 'glucoboard_alerts_published_total',
    help: 'Alert events published to boards, by event and severity',
    labelNames: ['event', 'severity'],
    registers: [options.metrics],
  });
  const jobSeconds = new Histogram({
    name: 'glucoboard_alert_job_seconds',
    help: 'Duration of alert jobs (evaluation, escalation, no-data scan)',
    labelNames: ['queue', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [options.metrics],
  });

  // Publishing fails fast while Redis is away: the job fails and is retried, nothing hangs.
  const boards = redisClient(redis, 'producer', log);
  const escalations = producerQueue(QUEUES.escalation, redis, options.redisPrefix, log);
  const noDataQueue = producerQueue(QUEUES.noData, redis, options.redisPrefix, log);

  async function publish(changes: readonly AlertChange[], receivedAt?: Date): Promise<void> {
    const views = await alertViews(
      db.pool,
      changes.map((c) => c.alertId),
    );
    const byId = new Map(views.map((v) => [v.id, v]));
    const messages: BoardMessage[] = [];
    for (const change of changes) {
      const view = byId.get(change.alertId);
      if (!view) continue;
      const teamIds = view.escalated && view.escalationTeamId ? [view.teamId, view.escalationTeamId] : [view.teamId];
      const event = change.change === 'opened' ? BOARD_EVENTS.alert : BOARD_EVENTS.alertUpdated;
      messages.push({ teamIds, event, payload: view });
    }
    await publishToBoards(boards, options.redisPrefix, messages);
    const at = Date.now();
    for (const change of changes) {
      published.inc({ event: change.change === 'opened' ? 'alert' : 'alert:updated', severity: change.severity });
      if (change.notify && receivedAt) latency.observe((at - receivedAt.getTime()) / 1000);
    }
  }

  const timed =
    <Data, T>(queue: QueueName, fn: (job: Job<Data>) => Promise<T>) =>
    async (job: Job<Data>): Promise<T> => {
      const stop = jobSeconds.startTimer({ queue });
      try {
        const result = await fn(job);
        stop({ outcome: 'ok' });
        return result;
      } catch (err) {
        stop({ outcome: 'error' });
        throw err;
      }
    };

  const workerOptions = {
    connection: workerConnection(redis),
    prefix,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    // A job whose worker died is put back this many times before it counts as failed.
    maxStalledCount: 5,
    settings: { backoffStrategy: retryDelay },
  };

  const evaluation = new Worker(
    QUEUES.evaluation,
    timed(QUEUES.evaluation, async (job: Job<EvaluationJob>) => {
      const receivedAt = new Date(job.data.receivedAt);
      const evaluated = await evaluateBatch(db, { key: job.id!, receivedAt, readings: job.data.readings }, new Date());
      const fresh: AlertChange[] = [];
      const repeated: AlertChange[] = [];
      const pages: Array<{ change: AlertChange; escalateAfterMinutes: number }> = [];
      for (const result of evaluated) {
        (result.repeated ? repeated : fresh).push(...result.changes);
        for (const change of result.changes)
          if (change.notify && change.severity === 'critical')
            pages.push({ change, escalateAfterMinutes: result.escalateAfterMinutes });
      }
      await publish(fresh, receivedAt);
      await publish(repeated);
      // The same job id for the same alert: a retry or a second page does not schedule twice.
      if (pages.length > 0)
        await escalations.addBulk(
          pages.map(({ change, escalateAfterMinutes }) => escalationJob(change.alertId, escalateAfterMinutes * 60_000)),
        );
      // Done: the batch leaves the outbox (a retry of this job after here finds every patient evaluated).
      if (job.data.outboxId !== undefined) await removeEvaluations(db.pool, [job.data.outboxId]);
      return { patients: evaluated.length, changes: fresh.length + repeated.length };
    }),
    { ...workerOptions, concurrency: options.concurrency ?? 1 },
  );

  const escalator = new Escalator(db, (changes) => publish(changes), log);
  const escalation = new Worker(
    QUEUES.escalation,
    timed(QUEUES.escalation, async (job: Job<EscalationJob>) => ({
      escalated: (await escalator.escalate({ alertId: job.data.alertId })) > 0,
    })),
    { ...workerOptions, concurrency: 1 },
  );

  const noData = new Worker(
    QUEUES.noData,
    timed(QUEUES.noData, async () => {
      const opened = await openNoDataAlerts(db, new Date());
      await publish(opened);
      return { opened: opened.length };
    }),
    { ...workerOptions, concurrency: 1 },
  );

  const workers = [evaluation, escalation, noData];
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  for (const w of workers) {
    w.on('failed', (job, err) =>
      log.error({ queue: w.name, job: job?.id, attempts: job?.attemptsMade, err: err.message }, 'alert job failed'),
    );
    w.on('error', (err) => log.warn({ queue: w.name, err: err.message }, 'alert worker error'));
  }

  // Jobs Redis lost while no worker ran (or before this start) are made again from the database,
  // and again whenever the scheduler's loss shows Redis lost its data while running.
  const sweepMs = options.escalationSweepMs ?? 30_000;
  const reschedule = async () => {
    const rescheduled = await rescheduleEscalations(db, escalations);
    if (rescheduled > 0) log.info({ escalations: rescheduled }, 'pending escalation jobs made from the database');
  };
  await reschedule();
  const schedules = await keepSchedules(noDataQueue, [{ id: 'scan-no-data', every: options.noDataScanMs ?? 60_000 }], {
    checkMs: sweepMs,
    log,
    onRestored: reschedule,
  });
  // The safety net needs only the database: it escalates on time while Redis is away.
  const sweep = everyInProcess(
    sweepMs,
    async () => void (await escalator.escalate('due')),
    (err) => log.warn({ err: err.message }, 'escalation sweep failed; the next pass retries'),
  );
  return {
    async close() {
      await sweep.stop();
      await schedules.stop();
      // worker.close() waits for jobs in progress, so none is cut off half done.
      await Promise.all(
        [...workers, escalations, noDataQueue].map((closable) =>
          closeWithin(closable, CLOSE_TIMEOUT_MS, () =>
            log.warn({ queue: closable.name }, 'alert queue did not close in time; its jobs will be retried'),
          ),
        ),
      );
      boards.disconnect();
    },
  };
}
