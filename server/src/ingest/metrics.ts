import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ReadingRejection } from './ingest.ts';

export interface IngestMetrics {
  batchRefused(code: string): void;
  batchDone(size: number, accepted: number, duplicates: number, rejected: ReadingRejection[]): void;
}

/** The ingest pipeline in /metrics: outcomes by code, batch sizes, and the writer's state. */
export function ingestMetrics(
  registry: Registry,
  writer: () => { queuedRows: number },
): IngestMetrics & { observeWrite(ms: number): void } {
  const readings = new Counter({
    name: 'glucoboard_readings_total',
    help: 'Readings received from devices, by outcome (accepted, duplicate, rejected) and rejection code',
    labelNames: ['outcome', 'code'],
    registers: [registry],
  });
  const batches = new Counter({
    name: 'glucoboard_reading_batches_total',
    help: 'Reading batches, by result (ok, or the code of a batch refused whole)',
    labelNames: ['result'],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'glucoboard_reading_batch_size',
    help: 'Readings per batch received',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
    registers: [registry],
  });
  const writeSeconds = new Histogram({
    name: 'glucoboard_db_write_seconds',
    help: 'Duration of one group-commit write (transaction) of readings',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'glucoboard_write_queue_rows',
    help: 'Readings waiting for the group-commit writer',
    registers: [registry],
    collect() {
      this.set(writer().queuedRows);
    },
  });
  return {
    batchRefused(code) {
      batches.inc({ result: code });
    },
    batchDone(size, accepted, duplicates, rejected) {
      batches.inc({ result: 'ok' });
      batchSize.observe(size);
      if (accepted) readings.inc({ outcome: 'accepted', code: '' }, accepted);
      if (duplicates) readings.inc({ outcome: 'duplicate', code: '' }, duplicates);
      for (const r of rejected) readings.inc({ outcome: 'rejected', code: r.code });
    },
    observeWrite(ms) {
      writeSeconds.observe(ms / 1000);
    },
  };
}
