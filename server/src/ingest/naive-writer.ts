import type { ProducerQueue } from '@glucoboard/core/platform';
import {
  storeDeviceReadings,
  type Database,
  type DeviceReadingToStore,
  type StoreOutcome,
} from '@glucoboard/core/storage';
import { JOB_RETENTION, RETRY_BACKOFF } from '@glucoboard/core/wire';
import { toEvaluation, UnavailableError } from './batch-writer.ts';

/**
 * The benchmark's naive baseline (INGEST_MODE=naive): one INSERT and one BullMQ job per reading,
 * as a first version would do it. Same answers as the group-commit writer, so the two can be
 * compared on the same wire; never the default.
 */
export class NaiveWriter {
  #queuedRows = 0;
  constructor(
    private readonly db: Pick<Database, 'pool'>,
    private readonly queue: ProducerQueue<'evaluation'>,
  ) {}

  get queuedRows(): number {
    return this.#queuedRows;
  }

  async submit(readings: readonly DeviceReadingToStore[]): Promise<StoreOutcome[]> {
    const outcomes: StoreOutcome[] = [];
    this.#queuedRows += readings.length;
    try {
      for (const reading of readings) {
        const [outcome] = await storeDeviceReadings(this.db.pool, [reading]);
        outcomes.push(outcome!);
        if (outcome === 'stored') {
          await this.queue.add(
            'evaluate-reading',
            { receivedAt: new Date().toISOString(), readings: [toEvaluation(reading)] },
            { ...JOB_RETENTION, ...RETRY_BACKOFF },
          );
        }
      }
      return outcomes;
    } catch (err) {
      // Readings before the failure may be stored; the device's resend makes them duplicates.
      throw new UnavailableError('readings could not be stored', { cause: err });
    } finally {
      this.#queuedRows -= readings.length;
    }
  }

  async close(): Promise<void> {}
}
