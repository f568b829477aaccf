import type { Logger } from 'pino';
import { producerQueue, type ProducerQueue, type RedisEndpoint } from '@glucoboard/core/platform';
import { installationId, markEvaluationsPublished, pendingEvaluations, type Database } from '@glucoboard/core/storage';
import { evaluationJobId, JOB_RETENTION, QUEUES, RETRY_BACKOFF } from '@glucoboard/core/wire';

export interface RelayOptions {
  /** Outbox rows published per round. */
  batchSize?: number;
  /** First retry after a failure; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** A round at least this often, for rows another server left (it crashed, or Redis was down). */
  sweepMs?: number;
  /** A published batch whose job has not finished after this long is published again (default 5 min). */
  republishAfterMs?: number;
}

/**
 * The other half of the transactional outbox: publishes each committed batch of readings as one
 * BullMQ job and marks its outbox row published; the alert worker deletes the row once the batch
 * is evaluated. The job id is the outbox id, so a row published twice (a crash between the two
 * steps, two servers sweeping together) is still one job. While Redis is down the rows wait; a row
 * published long ago and still there lost its job (Redis restarted without its data) and goes
 * out again. Nothing committed is ever skipped.
 */
export class EvaluationRelay {
  readonly queue: ProducerQueue<'evaluation'>;
  readonly #db: Database;
  readonly #log: Logger;
  readonly #batchSize: number;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #republishAfterMs: number;
  #failures = 0;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;
  #installation: Promise<string> | undefined;

  constructor(db: Database, redis: RedisEndpoint, redisPrefix: string, log: Logger, options: RelayOptions = {}) {
    this.#db = db;
    this.#log = log;
    this.#batchSize = options.batchSize ?? 200;
    this.#retryMs = options.retryMs ?? 500;
    this.#maxRetryMs = options.maxRetryMs ?? 30_000;
    this.#republishAfterMs = options.republishAfterMs ?? 5 * 60_000;
    this.queue = producerQueue(QUEUES.evaluation, redis, redisPrefix, log);
    this.#sweep = setInterval(() => this.kick(), options.sweepMs ?? 5000);
    this.#sweep.unref();
  }

  /** Something was committed: publish soon. Calls while a round runs fold into one more round. */
  kick(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#rounds().finally(() => {
      this.#running = undefined;
    });
  }

  /** The job id of an outbox row's batch. */
  async jobId(outboxId: number): Promise<string> {
    // Asked once; a failed ask (database away) is asked again next time, not remembered.
    this.#installation ??= installationId(this.#db.pool).catch((err: unknown) => {
      this.#installation = undefined;
      throw err;
    });
    return evaluationJobId(await this.#installation, outboxId);
  }

  /** Publishes what is pending now; resolves with how many batches went out. Throws if Redis fails. */
  async publishPending(): Promise<number> {
    let published = 0;
    // Fixed for the call: a row this call publishes is never taken again by the same call.
    const republishBefore = new Date(Date.now() - this.#republishAfterMs);
    for (;;) {
      const pending = await pendingEvaluations(this.#db.pool, this.#batchSize, republishBefore);
      if (pending.length === 0) return published;
      const jobIds = await Promise.all(pending.map((row) => this.jobId(row.id)));
      await this.queue.addBulk(
        pending.map((row, i) => ({
          name: 'evaluate-batch',
          data: { outboxId: row.id, ...row.payload },
          opts: { jobId: jobIds[i], ...JOB_RETENTION, ...RETRY_BACKOFF },
        })),
      );
      await markEvaluationsPublished(
        this.#db.pool,
        pending.map((row) => row.id),
      );
      published += pending.length;
    }
  }

  async #rounds(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.publishPending();
        if (this.#failures > 0) this.#log.info({ after: this.#failures }, 'evaluation relay caught up');
        this.#failures = 0;
      } catch (err) {
        this.#failures++;
        const delay = Math.min(this.#retryMs * 2 ** (this.#failures - 1), this.#maxRetryMs);
        this.#log.warn(
          { err: (err as Error).message, retryInMs: delay },
          'evaluation relay could not publish; readings wait in the outbox',
        );
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.kick(), delay);
        this.#timer.unref();
        return;
      }
    } while (this.#again && !this.#closed);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    clearTimeout(this.#timer);
    await this.#running;
    await this.queue.close();
  }
}
