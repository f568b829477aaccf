import type pg from 'pg';
import {
  storeDeviceReadingsForEvaluation,
  type Database,
  type DeviceReadingToStore,
  type EvaluationReading,
  type StoreOutcome,
} from '@glucoboard/core/storage';
import { RetryPacer } from './retry-pacing.ts';

/** Too many rows are waiting: the caller should answer OVERLOADED and let the device retry. */
export class OverloadedError extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`ingest queue full; retry in ${retryAfterMs} ms`);
    this.name = 'OverloadedError';
  }
}

/** The readings were not committed (database failure, or the writer is closed): UNAVAILABLE. */
export class UnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnavailableError';
  }
}

export interface BatchWriterOptions {
  /** Flush once this many rows are queued (default 2000). */
  maxRows?: number;
  /** Flush at most this long after the first batch was queued (default 5). */
  maxDelayMs?: number;
  /** Flushes in flight at once (default 1; the embedded database allows only 1). */
  concurrency?: number;
  /** Queued rows beyond this are refused with OverloadedError (default 20,000). */
  maxQueuedRows?: number;
  /** Told of each committed flush: its duration and rows (for the write-latency metric). */
  onFlush?: (ms: number, rows: number) => void;
}

interface Queued {
  readings: readonly DeviceReadingToStore[];
  resolve(outcomes: StoreOutcome[]): void;
  reject(err: Error): void;
}

/**
 * Group commit: batches submitted by many callers (one per device message) are coalesced into one
 * transaction per flush, which stores the readings and records the newly stored ones in the
 * evaluation outbox. Each caller is answered with its own outcomes only after COMMIT; a failed
 * flush rolls back whole and every caller in it gets UnavailableError.
 */
export class BatchWriter {
  readonly #pool: pg.Pool;
  readonly #prepared: boolean;
  readonly #maxRows: number;
  readonly #maxDelayMs: number;
  readonly #concurrency: number;
  readonly #maxQueuedRows: number;

  #queue: Queued[] = [];
  #queuedRows = 0;
  /** Set when the oldest queued batch has waited maxDelayMs; cleared when the queue drains. */
  #due = false;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = new Set<Promise<void>>();
  #closed = false;

  #flushes = 0;
  #failedFlushes = 0;
  #rows = 0;
  #lastFlushMs = 0;
  readonly #onFlush: ((ms: number, rows: number) => void) | undefined;
  /**
   * Rows per flush and ms between commits, smoothed: their ratio is the rate of all flushes
   * together (not of one connection), for retryAfterMs.
   */
  #meanRows = 0;
  #meanCommitGapMs = 0;
  /** When the last flush committed (performance.now()). */
  #lastCommitAt = 0;
  readonly #retryPacer: RetryPacer;

  constructor(db: Pick<Database, 'pool' | 'backend'>, options: BatchWriterOptions = {}) {
    this.#pool = db.pool;
    this.#prepared = db.backend === 'postgres';
    this.#maxRows = options.maxRows ?? 2000;
    this.#maxDelayMs = options.maxDelayMs ?? 5;
    this.#concurrency = options.concurrency ?? 1;
    this.#maxQueuedRows = options.maxQueuedRows ?? 20_000;
    this.#onFlush = options.onFlush;
    // Devices told to wait come back while the flushes in flight and the next ones still have rows.
    this.#retryPacer = new RetryPacer({ bufferRows: this.#maxRows * (this.#concurrency + 1) });
    if (db.backend === 'embedded' && this.#concurrency !== 1) {
      throw new Error('the embedded database has one connection: BatchWriter concurrency must be 1');
    }
  }

  /** Committed flushes. */
  get flushes(): number {
    return this.#flushes;
  }
  /** Flushes rolled back. */
  get failedFlushes(): number {
    return this.#failedFlushes;
  }
  /** Rows written by committed flushes (stored, duplicate or conflicting). */
  get rows(): number {
    return this.#rows;
  }
  /** Duration of the last committed flush. */
  get lastFlushMs(): number {
    return this.#lastFlushMs;
  }
  /** Rows waiting for a flush (not counting those in flight). */
  get queuedRows(): number {
    return this.#queuedRows;
  }

  /** Queues one device batch; resolves with its outcomes, in its order, once committed. */
  submit(readings: readonly DeviceReadingToStore[]): Promise<StoreOutcome[]> {
    if (this.#closed) return Promise.reject(new UnavailableError('ingest is shutting down'));
    if (readings.length === 0) return Promise.resolve([]);
    if (this.#queuedRows + readings.length > this.#maxQueuedRows) {
      const retryAfterMs = this.#retryPacer.retryAfterMs(
        performance.now(),
        readings.length,
        this.#queuedRows,
        this.#meanCommitGapMs > 0 ? this.#meanRows / this.#meanCommitGapMs : 0,
      );
      return Promise.reject(new OverloadedError(retryAfterMs));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ readings, resolve, reject });
      this.#queuedRows += readings.length;
      this.#pump();
    });
  }

  /** Refuses new batches, flushes those queued and waits for every flush in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#queue.length > 0 || this.#inFlight.size > 0) {
      this.#pump();
      await Promise.race(this.#inFlight);
    }
    clearTimeout(this.#timer);
  }

  /** Starts every flush that is ready and allowed; arms the delay timer for the rest. */
  #pump(): void {
    while (
      this.#inFlight.size < this.#concurrency &&
      this.#queue.length > 0 &&
      (this.#due || this.#closed || this.#queuedRows >= this.#maxRows)
    ) {
      const flush = this.#flush(this.#take()).finally(() => {
        this.#inFlight.delete(flush);
        this.#pump();
      });
      this.#inFlight.add(flush);
    }
    if (this.#queue.length === 0) {
      this.#due = false;
      clearTimeout(this.#timer);
      this.#timer = undefined;
    } else if (!this.#due && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#due = true;
        this.#pump();
      }, this.#maxDelayMs);
    }
  }

  /** Whole batches from the head of the queue, up to maxRows (at least one batch). */
  #take(): Queued[] {
    const batches: Queued[] = [];
    let rows = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      if (batches.length > 0 && rows + next.readings.length > this.#maxRows) break;
      batches.push(this.#queue.shift()!);
      rows += next.readings.length;
    }
    this.#queuedRows -= rows;
    return batches;
  }

  /** One transaction for the batches; settles every caller; never rejects. */
  async #flush(batches: Queued[]): Promise<void> {
    const rows = batches.flatMap((b) => b.readings);
    const started = performance.now();
    let outcomes: StoreOutcome[];
    try {
      outcomes = await this.#write(rows);
    } catch (err) {
      this.#failedFlushes++;
      const failure = new UnavailableError('readings could not be committed', { cause: err });
      for (const b of batches) b.reject(failure);
      return;
    }
    const committedAt = performance.now();
    const ms = committedAt - started;
    this.#flushes++;
    this.#rows += rows.length;
    this.#lastFlushMs = ms;
    this.#onFlush?.(ms, rows.length);
    // With flushes overlapping, this one's rows came in since the one before committed (or since
    // it began, after a pause).
    const gap = Math.max(committedAt - Math.max(this.#lastCommitAt, started), 1);
    this.#lastCommitAt = committedAt;
    const first = this.#meanRows === 0;
    this.#meanRows = first ? rows.length : 0.8 * this.#meanRows + 0.2 * rows.length;
    this.#meanCommitGapMs = first ? gap : 0.8 * this.#meanCommitGapMs + 0.2 * gap;
    let offset = 0;
    for (const b of batches) {
      b.resolve(outcomes.slice(offset, offset + b.readings.length));
      offset += b.readings.length;
    }
  }

  /**
   * One statement: keys, readings, devices seen and the outbox row, committed together or not at
   * all, in one round trip. Through the pool: a failed query's connection is discarded there.
   */
  #write(rows: readonly DeviceReadingToStore[]): Promise<StoreOutcome[]> {
    return storeDeviceReadingsForEvaluation(this.#pool, rows, { prepared: this.#prepared });
  }
}

/** A stored device reading as the outbox records it for rule evaluation. */
export function toEvaluation(r: DeviceReadingToStore): EvaluationReading {
  return {
    patientId: r.patientId,
    deviceId: r.deviceSerial,
    seq: r.seq,
    source: 'device',
    measuredAt: r.measuredAt.toISOString(),
    mmol: r.mmol,
    flag: r.flag,
    kind: r.kind,
    meal: r.meal,
  };
}
