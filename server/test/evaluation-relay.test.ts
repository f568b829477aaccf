import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { locateRedis } from '@glucoboard/core/platform';
import {
  appendEvaluation,
  pendingEvaluations,
  removeEvaluations,
  type EvaluationBatch,
} from '@glucoboard/core/storage';
import { queuePrefix, QUEUES } from '@glucoboard/core/wire';
import { openTestDatabase, silentLog } from '@glucoboard/core/test-support/databases';
import { freePort } from '@glucoboard/core/test-support/processes';
import {
  dropRedisPrefix,
  TEST_REDIS_URL,
  throwawayRedis,
  uniqueRedisPrefix,
} from '@glucoboard/core/test-support/redis';
import { EvaluationRelay } from '../src/ingest/evaluation-relay.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const batch = (n: number): EvaluationBatch => ({
  receivedAt: new Date().toISOString(),
  readings: [
    {
      patientId: '00000000-0000-4000-8000-000000000001',
      deviceId: 'RELAY-1',
      seq: n,
      source: 'device',
      measuredAt: new Date().toISOString(),
      mmol: 2.5,
      flag: null,
      kind: 'cgm',
      meal: null,
    },
  ],
});

async function database() {
  const db = await openTestDatabase('postgres');
  cleanup.push(() => db.dispose());
  return db;
}

/** A fresh database and a relay on the shared test Redis, under a prefix of its own. */
async function relayOnSharedRedis(options: ConstructorParameters<typeof EvaluationRelay>[4] = {}) {
  const db = await database();
  const prefix = uniqueRedisPrefix();
  cleanup.push(() => dropRedisPrefix(prefix));
  const redis = await locateRedis({ redisUrl: TEST_REDIS_URL, dataDir: '/nonexistent', log: silentLog });
  const relay = new EvaluationRelay(db, redis, prefix, silentLog, options);
  cleanup.push(() => relay.close());
  return { db, relay };
}

describe('the evaluation relay (outbox -> one BullMQ job per committed batch)', () => {
  it('publishes each committed batch as one job named by its outbox row, and marks the row published', async () => {
    const { db, relay } = await relayOnSharedRedis();
    const ids = [await appendEvaluation(db.pool, batch(1)), await appendEvaluation(db.pool, batch(2))];
    expect(await relay.publishPending()).toBe(2);
    expect(await pendingEvaluations(db.pool, 10)).toEqual([]);
    const job = await relay.queue.getJob(await relay.jobId(ids[0]!));
    expect(job?.data).toMatchObject({
      outboxId: ids[0],
      readings: [expect.objectContaining({ deviceId: 'RELAY-1', seq: 1 })],
    });
    expect((await relay.queue.getJobCounts('waiting')).waiting).toBe(2);
  });

  it('makes one job of a row published twice (a crash between publishing and clearing)', async () => {
    const { db, relay } = await relayOnSharedRedis();
    const id = await appendEvaluation(db.pool, batch(3));
    const row = (await pendingEvaluations(db.pool, 10))[0]!;
    await relay.queue.add('evaluate-batch', { outboxId: id, ...row.payload }, { jobId: await relay.jobId(id) });
    expect(await relay.publishPending()).toBe(1);
    expect((await relay.queue.getJobCounts('waiting')).waiting).toBe(1);
  });

  it('publishes a batch again when its job was lost before it was evaluated, and never twice while it exists', async () => {
    const { db, relay } = await relayOnSharedRedis({ republishAfterMs: 1 });
    const id = await appendEvaluation(db.pool, batch(4));
    expect(await relay.publishPending()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Still waiting in Redis: publishing again adds nothing.
    expect(await relay.publishPending()).toBe(1);
    expect((await relay.queue.getJobCounts('waiting')).waiting).toBe(1);
    // Redis lost it (restart without persistence, FLUSHALL): the row brings it back.
    await relay.queue.obliterate({ force: true });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await relay.publishPending()).toBe(1);
    expect(await relay.queue.getJob(await relay.jobId(id))).toBeDefined();
    // Evaluated: the worker deletes the row, and nothing goes out any more.
    await removeEvaluations(db.pool, [id]);
    expect(await relay.publishPending()).toBe(0);
  });

  it('keeps the batches of two databases apart on one Redis prefix (outbox ids restart in a new database)', async () => {
    const prefix = uniqueRedisPrefix();
    cleanup.push(() => dropRedisPrefix(prefix));
    const redis = await locateRedis({ redisUrl: TEST_REDIS_URL, dataDir: '/nonexistent', log: silentLog });
    const relays = [];
    for (const n of [1, 2]) {
      const db = await database();
      const relay = new EvaluationRelay(db, redis, prefix, silentLog);
      cleanup.push(() => relay.close());
      expect(await appendEvaluation(db.pool, batch(10 + n))).toBe(1);
      expect(await relay.publishPending()).toBe(1);
      relays.push(relay);
    }
    expect(await relays[0]!.jobId(1)).not.toBe(await relays[1]!.jobId(1));
    expect((await relays[0]!.queue.getJobCounts('waiting')).waiting).toBe(2);
  });

  it('asks for the database identity again after a failed ask, instead of remembering the failure', async () => {
    const { db, relay } = await relayOnSharedRedis();
    const [row] = (await db.pool.query(`delete from storage_state where key = 'installation_id' returning value`)).rows;
    await expect(relay.jobId(1)).rejects.toThrow(/installation_id/);
    await db.pool.query(`insert into storage_state (key, value) values ('installation_id', $1)`, [
      JSON.stringify(row.value),
    ]);
    expect(await relay.jobId(1)).toBe(`outbox-${row.value}-1`);
  });

  it('keeps batches committed while Redis is down in the outbox, and publishes them when it is back', async () => {
    const db = await database();
    const port = await freePort();
    let redisServer = await throwawayRedis(port);
    cleanup.push(() => redisServer.stop());
    const redis = await locateRedis({ redisUrl: `redis://127.0.0.1:${port}`, dataDir: '/nonexistent', log: silentLog });
    const relay = new EvaluationRelay(db, redis, 'relay-test', silentLog, { retryMs: 100, maxRetryMs: 400 });
    cleanup.push(() => relay.close());

    await redisServer.stop();
    // Committed between the database write and the enqueue, with Redis unavailable:
    const id = await appendEvaluation(db.pool, batch(4));
    relay.kick();
    await new Promise((r) => setTimeout(r, 500));
    expect((await pendingEvaluations(db.pool, 10)).map((r) => r.id)).toEqual([id]);

    redisServer = await throwawayRedis(port);
    await expect.poll(async () => (await pendingEvaluations(db.pool, 10)).length, { timeout: 15_000 }).toBe(0);
    const check = new Queue(QUEUES.evaluation, { connection: redis.options, prefix: queuePrefix('relay-test') });
    cleanup.push(() => check.close());
    expect(await check.getJob(await relay.jobId(id))).toBeDefined();
  });
});
