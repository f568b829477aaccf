import { describe, expect, it } from 'vitest';
import { nextBatch, Outbox, type Outgoing } from '../src/outbox.ts';

const reading = (seq: number): Outgoing => ({
  type: 'reading',
  payload: { seq },
  seq,
  expect: 'stored',
  sends: 0,
  settled: false,
});
const probe = (): Outgoing => ({ type: 'batch', payload: {}, expect: 'INVALID_PAYLOAD', sends: 0, settled: false });
const seqs = (batch: Outgoing[]) => batch.map((i) => (i.type === 'reading' ? i.seq : 'probe'));

describe('batching', () => {
  it('sends a backlog in batches of at most 500, oldest first', () => {
    const outbox = new Outbox();
    for (let seq = 0; seq < 1234; seq++) outbox.push(reading(seq));
    const sizes: number[] = [];
    let first = 0;
    for (let batch = outbox.takeBatch(); batch.length > 0; batch = outbox.takeBatch()) {
      expect(seqs(batch)[0]).toBe(first);
      sizes.push(batch.length);
      first += batch.length;
      for (const item of batch) outbox.settle(item);
    }
    expect(sizes).toEqual([500, 500, 234]);
    expect(outbox.pending).toBe(0);
  });

  it('keeps unsettled items for the next batch (a resend) and skips settled ones', () => {
    const items = [reading(0), reading(1), reading(2), reading(3)];
    items[1]!.settled = true;
    expect(seqs(nextBatch(items))).toEqual([0, 2, 3]);
    expect(seqs(nextBatch(items, 0, 2))).toEqual([0, 2]);
  });

  it('sends a batch probe on its own, never mixed with readings', () => {
    const items = [reading(0), probe(), reading(1)];
    expect(seqs(nextBatch(items))).toEqual([0]);
    items[0]!.settled = true;
    expect(seqs(nextBatch(items))).toEqual(['probe']);
    items[1]!.settled = true;
    expect(seqs(nextBatch(items))).toEqual([1]);
  });

  it('counts what is pending, settling each item once', () => {
    const outbox = new Outbox();
    const a = reading(0);
    outbox.push(a);
    outbox.push(reading(1));
    expect(outbox.settle(a)).toBe(true);
    expect(outbox.settle(a)).toBe(false);
    expect(outbox.pending).toBe(1);
  });
});
