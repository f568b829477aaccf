import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '@glucoboard/core/config';
import { producerQueue, stopStep, type RedisEndpoint, type StopStep } from '@glucoboard/core/platform';
import { readingsAcceptedFrom, type Database } from '@glucoboard/core/storage';
import { QUEUES, type BoardReading } from '@glucoboard/core/wire';
import type { VerifiedDevice } from '../realtime/device-cache.ts';
import { BatchWriter } from './batch-writer.ts';
import { EvaluationRelay } from './evaluation-relay.ts';
import { ingestReadings, type ReadingsAck } from './ingest.ts';
import { ingestMetrics, type IngestProtocol } from './metrics.ts';
import { NaiveWriter } from './naive-writer.ts';

/**
 * A reading's way through the server, in order:
 *
 *  1. A device hands in a batch: a meter on Socket.IO `/devices`, a gateway on
 *     `POST /api/devices/readings`, a CGM app on the Nightscout API. Each calls `ingest`, naming
 *     its protocol (the ingest metrics' `protocol` label).
 *  2. `ingestReadings` validates the batch (core/src/wire) and gives the accepted readings to the
 *     writer.
 *  3. The writer commits them: group commit, one statement for the idempotency keys, the readings,
 *     the devices seen and the evaluation outbox row. Only then is the device acked.
 *  4. After the commit the evaluation relay is kicked (outbox row -> BullMQ evaluation job: the
 *     workers' alert rules), and the readings go live to the responsible team's boards.
 *
 * INGEST_MODE=naive swaps step 3-4 for the benchmark's baseline: one INSERT and one job per reading.
 */
export interface ReadingPipeline {
  ingest(device: VerifiedDevice, payload: unknown, protocol: IngestProtocol): Promise<ReadingsAck>;
  /** After every commit (manual entry commits its own): evaluate soon, and show on the boards now. */
  committed(readings: readonly BoardReading[]): void;
  /** Where committed readings are shown live; set once Socket.IO is attached to the HTTP server. */
  showOn(boards: { publishReadings(readings: readonly BoardReading[]): void }): void;
  /** Its parts' stops in the order they started (the system stops them in reverse). */
  stops: StopStep[];
}

export function readingPipeline(deps: {
  db: Database;
  redis: RedisEndpoint;
  redisPrefix: string;
  config: Pick<Config, 'ingestMode' | 'alertJobs'>;
  metrics: Registry;
  log: Logger;
}): ReadingPipeline {
  const { db, redis, redisPrefix, config, log } = deps;
  let writer: BatchWriter | NaiveWriter | undefined;
  const metrics = ingestMetrics(deps.metrics, () => ({ queuedRows: writer?.queuedRows ?? 0 }));
  const stops: StopStep[] = [];
  if (config.ingestMode === 'naive') {
    const queue = producerQueue(QUEUES.evaluation, redis, redisPrefix, log);
    stops.push(stopStep('naive evaluation queue', () => queue.close()));
    writer = new NaiveWriter(db, queue);
  } else {
    writer = new BatchWriter(db, {
      concurrency: db.backend === 'embedded' ? 1 : 4,
      onFlush: (ms) => metrics.observeWrite(ms),
    });
  }
  const store = writer;
  stops.push(stopStep('reading writer', () => store.close()));

  // The outbox's other half: committed batches become evaluation jobs (the naive writer enqueues its own).
  const relay =
    config.ingestMode === 'group'
      ? new EvaluationRelay(db, redis, redisPrefix, log, {
          republishAfterMs: config.alertJobs.republishAfterMs,
          sweepMs: Math.min(5000, config.alertJobs.republishAfterMs),
        })
      : undefined;
  if (relay) {
    stops.push(stopStep('evaluation relay', () => relay.close()));
    relay.kick(); // rows a previous run left behind
  }

  let boards: { publishReadings(readings: readonly BoardReading[]): void } | undefined;
  const committed = (readings: readonly BoardReading[]) => {
    relay?.kick();
    boards?.publishReadings(readings);
  };
  return {
    ingest: (device, payload, protocol) =>
      ingestReadings(
        {
          writer: store,
          metrics: metrics.of(protocol),
          publish: committed,
          acceptsReadingsFrom: (serial) => readingsAcceptedFrom(db.pool, serial),
        },
        device,
        payload,
      ),
    committed,
    showOn(target) {
      boards = target;
    },
    stops,
  };
}
