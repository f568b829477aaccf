import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ReadingRejection } from './ingest.ts';

/** How a reading arrived: a meter on Socket.IO `/devices`, a gateway over HTTP, a Nightscout uploader. */
export const INGEST_PROTOCOLS = ['socketio', 'gateway', 'nightscout'] as const;
export type IngestProtocol = (typeof INGEST_PROTOCOLS)[number];

/** One protocol's counts (the pipeline hands ingest the one of the batch's way in). */
export interface IngestMetrics {
  batchRefused(code: string): void;
  batchDone(size: number, accepted: number, duplicates: number, rejected: ReadingRejection[]): void;
}

/** The ingest pipeline in /metrics: outcomes by code and protocol, batch sizes, and the writer's state. */
export function ingestMetrics(
  registry: Registry,
  writer: () => { queuedRows: number },
): { of(protocol: IngestProtocol): IngestMetrics; observeWrite(ms: number): void } {
  const readings = new Counter({
    name: 'glucoboard_readings_total',
    help: 'Readings received from devices, by outcome (accepted, duplicate, rejected), rejection code and protocol',
    labelNames: ['outcome', 'code', 'protocol'],
    registers: [registry],
  });
  const batches = new Counter({
    name: 'glucoboard_reading_batches_total',
    help: 'Reading batches, by result (ok, or the code of a batch refused whole) and protocol',
    labelNames: ['result', 'protocol'],
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
  const of = (protocol: IngestProtocol): IngestMetrics => ({
    batchRefused(code) {
      batches.inc({ result: code, protocol });
    },
    batchDone(size, accepted, duplicates, rejected) {
      batches.inc({ result: 'ok', protocol });
      batchSize.observe(size);
      if (accepted) readings.inc({ outcome: 'accepted', code: '', protocol }, accepted);
      if (duplicates) readings.inc({ outcome: 'duplicate', code: '', protocol }, duplicates);
      for (const r of rejected) readings.inc({ outcome: 'rejected', code: r.code, protocol });
    },
  });
  const byProtocol = new Map(INGEST_PROTOCOLS.map((p) => [p, of(p)]));
  return {
    of: (protocol) => byProtocol.get(protocol)!,
    observeWrite(ms) {
      writeSeconds.observe(ms / 1000);
    },
  };
}
