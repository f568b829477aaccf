import { MAX_BATCH_READINGS } from '@glucoboard/core/wire';
import type { WireReading } from './wire.ts';

/**
 * A meter's store-and-forward queue: everything it measured (or was told to send) and has not yet
 * had an answer for, oldest first. Items leave only when an ack settles them, so a lost ack, a
 * dropped connection or a refused batch simply means the same items go out again.
 */
export type Outgoing = ReadingItem | BatchItem;

export interface ReadingItem {
  type: 'reading';
  /** What goes in the batch's list (a WireReading, or something malformed). */
  payload: unknown;
  /** The seq as sent, if it is a valid one. */
  seq: number | null;
  /** The valid reading this is, for the ledger; absent for malformed input. */
  reading?: WireReading;
  /** 'stored' for a valid reading, else the rejection code the server must answer. */
  expect: 'stored' | string;
  /** A SEQ_CONFLICT probe to send once this reading is known to be stored. */
  conflict?: WireReading;
  /** Times sent; above 1 it was a resend. */
  sends: number;
  settled: boolean;
}

/** A batch-level probe (INVALID_PAYLOAD, BATCH_TOO_LARGE), sent on its own. */
export interface BatchItem {
  type: 'batch';
  payload: unknown;
  expect: string;
  sends: number;
  settled: boolean;
}

/**
 * The next batch from the head of a queue: the unsettled readings in order, up to `max`, stopping
 * before a batch probe; or that probe alone if it comes first.
 */
export function nextBatch(items: readonly Outgoing[], from = 0, max = MAX_BATCH_READINGS): Outgoing[] {
  const batch: Outgoing[] = [];
  for (let i = from; i < items.length && batch.length < max; i++) {
    const item = items[i]!;
    if (item.settled) continue;
    if (item.type === 'batch') return batch.length === 0 ? [item] : batch;
    batch.push(item);
  }
  return batch;
}

export class Outbox {
  #items: Outgoing[] = [];
  #head = 0;
  #unsettled = 0;

  push(item: Outgoing): void {
    this.#items.push(item);
    if (!item.settled) this.#unsettled++;
  }

  /** The next batch to send, at most `max` readings (see nextBatch). */
  takeBatch(max = MAX_BATCH_READINGS): Outgoing[] {
    this.#compact();
    return nextBatch(this.#items, this.#head, max);
  }

  settle(item: Outgoing): boolean {
    if (item.settled) return false;
    item.settled = true;
    this.#unsettled--;
    return true;
  }

  /** Items not yet settled. */
  get pending(): number {
    return this.#unsettled;
  }

  /** Settled items leave from the head; the array is cut down now and then, not on every ack. */
  #compact(): void {
    while (this.#head < this.#items.length && this.#items[this.#head]!.settled) this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
