import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATCH_LIMIT,
  batchesOf,
  MeterOutbox,
  SendFailure,
  type BatchAck,
  type DeviceReadingOut,
  type OutboxEntry,
  type OutboxStore,
  type SendChannel,
} from '../src/lib/meter/outbox';

// The meter page's outbox (issue 14): readings read offline wait and go when the phone is back,
// each batch answered exactly once. The store is the IndexedDB one's contract, kept in memory.

function memoryStore(): OutboxStore & { entries: Map<string, OutboxEntry> } {
  const entries = new Map<string, OutboxEntry>();
  return {
    entries,
    all: async () => [...entries.values()].map((e) => structuredClone(e)),
    put: async (entry) => {
      entries.set(entry.id, structuredClone(entry));
    },
    delete: async (id) => {
      entries.delete(id);
    },
  };
}

const nurse: SendChannel = { kind: 'nurse', patientId: '5d3a2f2e-7a3c-4a44-9d3c-5a1f0e2b9c11' };
const reading = (seq: number): DeviceReadingOut => ({
  seq,
  measuredAt: new Date(Date.UTC(2026, 11, 3, 8, 0) + seq * 60_000).toISOString(),
  mmol: 6.1,
  flag: null,
  kind: 'bgm',
  meal: null,
});
const ackAll = (entry: OutboxEntry): BatchAck => ({
  ok: true,
  accepted: entry.readings.length,
  duplicates: 0,
  rejected: [],
});
const NOW = new Date('2026-12-03T09:00:00Z');

describe('the meter outbox', () => {
  it('splits a read into batches of at most 500 readings, in seq order, with ids by channel and range', () => {
    const readings = Array.from({ length: 1203 }, (_, i) => reading(1203 - i));
    const batches = batchesOf(nurse, 'SID-01', readings, NOW);
    expect(batches.map((b) => b.readings.length)).toEqual([BATCH_LIMIT, BATCH_LIMIT, 203]);
    expect(batches[0]!.readings[0]!.seq).toBe(1);
    expect(batches[2]!.readings.at(-1)!.seq).toBe(1203);
    expect(batches[0]!.id).toBe(`nurse:${nurse.patientId}|SID-01|1-500|500`);
    // The same read queued twice is the same entries, not twice as many.
    expect(batchesOf(nurse, 'SID-01', readings, NOW).map((b) => b.id)).toEqual(batches.map((b) => b.id));
  });

  it('keeps every batch while offline and sends each once when back online', async () => {
    const store = memoryStore();
    const outbox = new MeterOutbox(store);
    await outbox.enqueue(batchesOf(nurse, 'SID-01', [reading(1), reading(2)], NOW));
    let online = false;
    const sent: string[] = [];
    const send = async (entry: OutboxEntry) => {
      if (!online) throw new SendFailure('retry', 'NETWORK', 'offline');
      sent.push(entry.id);
      return ackAll(entry);
    };
    expect(await outbox.flush(send)).toEqual([]);
    expect(await outbox.flush(send)).toEqual([]);
    expect(store.entries.size).toBe(1);
    online = true;
    const outcomes = await outbox.flush(send);
    expect(outcomes.map((o) => o.status)).toEqual(['sent']);
    expect(await outbox.flush(send)).toEqual([]);
    expect(sent).toHaveLength(1);
    expect(await outbox.pending()).toEqual([]);
  });

  it('drops a batch refused whole, and says so', async () => {
    const outbox = new MeterOutbox(memoryStore());
    await outbox.enqueue(batchesOf(nurse, 'SID-01', [reading(1)], NOW));
    const outcomes = await outbox.flush(async () => {
      throw new SendFailure('refused', 'METER_PAIRED_ELSEWHERE', 'paired with another patient');
    });
    expect(outcomes).toEqual([expect.objectContaining({ status: 'refused', code: 'METER_PAIRED_ELSEWHERE' })]);
    expect(await outbox.pending()).toEqual([]);
  });

  it('runs one flush at a time: a second call while one runs shares it', async () => {
    const outbox = new MeterOutbox(memoryStore());
    await outbox.enqueue(batchesOf(nurse, 'SID-01', [reading(1)], NOW));
    let sends = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const send = async (entry: OutboxEntry) => {
      sends++;
      await gate;
      return ackAll(entry);
    };
    const first = outbox.flush(send);
    const second = outbox.flush(send);
    release();
    expect(await first).toBe(await second);
    expect(sends).toBe(1);
  });

  it('property: whatever comes and goes offline, every batch is answered exactly once, none lost', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        async (reads, connectivity) => {
          const outbox = new MeterOutbox(memoryStore());
          const answered = new Map<string, number>();
          let next = 1;
          const queued: string[] = [];
          let i = 0;
          for (const [step, online] of connectivity.entries()) {
            const size = reads[step % reads.length]!;
            if (step < reads.length) {
              const batch = batchesOf(
                nurse,
                'SID-01',
                Array.from({ length: size }, () => reading(next++)),
                NOW,
              );
              queued.push(...batch.map((b) => b.id));
              await outbox.enqueue(batch);
            }
            await outbox.flush(async (entry) => {
              // A flaky link: offline refuses everything, online fails every third send.
              if (!online || ++i % 3 === 0) throw new SendFailure('retry', 'NETWORK', 'no answer');
              answered.set(entry.id, (answered.get(entry.id) ?? 0) + 1);
              return ackAll(entry);
            });
          }
          for (let k = 0; k < 10 && (await outbox.pending()).length > 0; k++)
            await outbox.flush(async (entry) => {
              answered.set(entry.id, (answered.get(entry.id) ?? 0) + 1);
              return ackAll(entry);
            });
          expect(await outbox.pending()).toEqual([]);
          expect([...answered.keys()].sort()).toEqual([...new Set(queued)].sort());
          expect([...answered.values()].every((n) => n === 1)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
