import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  pendingEvaluations,
  removeEvaluations,
  type Database,
  type DeviceReadingToStore,
  type EvaluationReading,
} from '@glucoboard/core/storage';
import {
  BACKENDS,
  openTestDatabase,
  patientWithDevice,
  type TestBackend,
} from '@glucoboard/core/test-support/databases';
import { BatchWriter, OverloadedError, UnavailableError, toEvaluation } from '../src/ingest/batch-writer.ts';

const MINUTE = 60_000;
let serials = 0;

/** A paired device and a batch of `count` of its readings. */
async function device(db: Database, count: number) {
  const serial = `BW-${process.pid}-${++serials}`;
  const { patientId } = await patientWithDevice(db, serial);
  const start = Date.now() - count * 5 * MINUTE;
  const readings = Array.from(
    { length: count },
    (_, i): DeviceReadingToStore => ({
      deviceSerial: serial,
      patientId,
      seq: i,
      measuredAt: new Date(start + i * 5 * MINUTE),
      mmol: i % 5 === 4 ? null : Math.round((4 + i / 10) * 10) / 10,
      flag: i % 5 === 4 ? 'HI' : null,
      kind: 'cgm',
      meal: null,
    }),
  );
  return { serial, readings };
}

const countRows = async (db: Database, serials: string[]) =>
  (
    await db.pool.query<{ n: number }>('select count(*)::int as n from readings where device_serial = any($1)', [
      serials,
    ])
  ).rows[0]!.n;

const asEvaluation = toEvaluation;

const byKey = (a: EvaluationReading, b: EvaluationReading) =>
  a.deviceId === b.deviceId ? (a.seq ?? 0) - (b.seq ?? 0) : (a.deviceId ?? '') < (b.deviceId ?? '') ? -1 : 1;

async function until(condition: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Holds up the writer's next flush until the returned function is called: on the embedded backend
 * by holding the pool's only connection, on the server by locking the readings table.
 */
async function holdFlushes(db: Database, backend: TestBackend): Promise<() => Promise<void>> {
  if (backend === 'embedded') {
    const client = await db.pool.connect();
    return async () => client.release();
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('begin');
  await client.query('lock table readings in access exclusive mode');
  return async () => {
    await client.query('rollback');
    await client.end();
  };
}

describe.each(BACKENDS)('the group-commit batch writer on the %s backend', (backend) => {
  let db: Database & { dispose(): Promise<void> };
  beforeAll(async () => {
    db = await openTestDatabase(backend);
  });
  afterAll(() => db?.dispose());
  beforeEach(async () => {
    await db.pool.query('delete from evaluation_outbox');
  });

  it('coalesces 50 concurrent device batches into few flushes; each caller gets its own outcomes', async () => {
    const writer = new BatchWriter(db);
    const devices = await Promise.all(Array.from({ length: 50 }, () => device(db, 10)));
    // Each caller's batch has a duplicate inside it, so its outcomes differ from a plain 'stored' x 10.
    const batches = devices.map((d, k) => {
      const i = k % 10;
      return [...d.readings.slice(0, i), d.readings[0]!, ...d.readings.slice(i)];
    });
    const outcomes = await Promise.all(batches.map((b) => writer.submit(b)));
    batches.forEach((b, k) => {
      const i = k % 10;
      const expected = b.map(() => 'stored');
      expected[i] = i === 0 ? 'stored' : 'duplicate';
      if (i === 0) expected[1] = 'duplicate';
      expect(outcomes[k]).toEqual(expected);
    });
    expect(writer.flushes).toBeLessThan(50);
    expect(writer.rows).toBe(550);
    expect(writer.queuedRows).toBe(0);
    expect(
      await countRows(
        db,
        devices.map((d) => d.serial),
      ),
    ).toBe(500);

    const pending = await pendingEvaluations(db.pool, 1000);
    expect(pending).toHaveLength(writer.flushes);
    expect(pending.flatMap((p) => p.payload.readings).sort(byKey)).toEqual(
      devices.flatMap((d) => d.readings.map(asEvaluation)).sort(byKey),
    );
    await writer.close();
  });

  for (const [name, maxRows] of [
    ['in one flush', 2000],
    ['in separate flushes', 10],
  ] as const) {
    it(`stores a resend racing its original once (${name}); the outbox holds only stored readings`, async () => {
      const writer = new BatchWriter(db, { maxRows });
      const a = await device(db, 10);
      const b = await device(db, 10);
      const [first, second, other] = await Promise.all([
        writer.submit(a.readings),
        writer.submit(a.readings.map((r) => ({ ...r }))),
        writer.submit(b.readings),
      ]);
      for (let i = 0; i < 10; i++) expect([first[i], second[i]].sort()).toEqual(['duplicate', 'stored']);
      expect(other).toEqual(b.readings.map(() => 'stored'));
      expect(await countRows(db, [a.serial])).toBe(10);
      expect(await countRows(db, [b.serial])).toBe(10);

      const pending = await pendingEvaluations(db.pool, 100);
      // One row per flush that stored anything: a flush of duplicates only records nothing.
      expect(pending).toHaveLength(maxRows === 10 ? 2 : 1);
      expect(writer.flushes).toBe(maxRows === 10 ? 3 : 1);
      for (const p of pending) expect(Number.isNaN(Date.parse(p.payload.receivedAt))).toBe(false);
      expect(pending.flatMap((p) => p.payload.readings).sort(byKey)).toEqual(
        [...a.readings, ...b.readings].map(asEvaluation).sort(byKey),
      );
      expect(
        await removeEvaluations(
          db.pool,
          pending.map((p) => p.id),
        ),
      ).toBe(pending.length);
      expect(await pendingEvaluations(db.pool, 100)).toEqual([]);
      await writer.close();
    });
  }

  it('refuses a batch beyond the queue bound at once, and completes the queued ones', async () => {
    const writer = new BatchWriter(db, { maxRows: 10, maxQueuedRows: 20 });
    const devices = await Promise.all(Array.from({ length: 4 }, () => device(db, 10)));
    const release = await holdFlushes(db, backend);
    const inFlight = writer.submit(devices[0]!.readings);
    expect(writer.queuedRows).toBe(0); // taken by a flush, which is now held up
    const queued = [writer.submit(devices[1]!.readings), writer.submit(devices[2]!.readings)];
    expect(writer.queuedRows).toBe(20);
    const refused = await writer.submit(devices[3]!.readings.slice(0, 1)).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(OverloadedError);
    expect((refused as OverloadedError).retryAfterMs).toBeGreaterThanOrEqual(100);
    await release();
    for (const outcomes of await Promise.all([inFlight, ...queued])) {
      expect(outcomes).toEqual(Array.from({ length: 10 }, () => 'stored'));
    }
    expect(
      await countRows(
        db,
        devices.map((d) => d.serial),
      ),
    ).toBe(30);
    await writer.close();
  });

  it('close() flushes what is queued, then refuses new batches', async () => {
    const writer = new BatchWriter(db, { maxDelayMs: 60_000 });
    const devices = await Promise.all(Array.from({ length: 3 }, () => device(db, 10)));
    const submitted = devices.map((d) => writer.submit(d.readings));
    expect(writer.queuedRows).toBe(30);
    await writer.close();
    for (const outcomes of await Promise.all(submitted)) {
      expect(outcomes).toEqual(Array.from({ length: 10 }, () => 'stored'));
    }
    expect(writer.flushes).toBe(1);
    expect(
      await countRows(
        db,
        devices.map((d) => d.serial),
      ),
    ).toBe(30);
    await expect(writer.submit(devices[0]!.readings)).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe('a batch writer whose connection dies mid-flush (postgres backend)', () => {
  let db: Database & { dispose(): Promise<void> };
  beforeAll(async () => {
    db = await openTestDatabase('postgres');
  });
  afterAll(() => db?.dispose());

  it('rejects every caller of the flush with UnavailableError, leaves nothing, and recovers', async () => {
    const applicationName = `batch-writer-${process.pid}`;
    const pool = new pg.Pool({ connectionString: db.url, max: 2, application_name: applicationName });
    pool.on('error', () => undefined);
    const writer = new BatchWriter({ pool, backend: 'postgres' });
    try {
      const devices = await Promise.all(Array.from({ length: 3 }, () => device(db, 10)));
      const release = await holdFlushes(db, 'postgres');
      const results = devices.map((d) => writer.submit(d.readings).catch((err: unknown) => err));
      // The flush is inside its transaction, waiting for the lock on readings.
      const writerBackend = async () =>
        (
          await db.pool.query<{ pid: number }>(
            `select pid from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'`,
            [applicationName],
          )
        ).rows;
      await until(async () => (await writerBackend()).length === 1, 'the flush to wait on the lock');
      await db.pool.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [
        applicationName,
      ]);
      await release();
      for (const result of await Promise.all(results)) {
        expect(result).toBeInstanceOf(UnavailableError);
        expect(String((result as UnavailableError).cause)).toMatch(/terminat/i);
      }
      expect(writer.failedFlushes).toBe(1);
      expect(writer.flushes).toBe(0);
      expect(
        await countRows(
          db,
          devices.map((d) => d.serial),
        ),
      ).toBe(0);
      const keys = await db.pool.query('select 1 from reading_keys where device_serial = any($1)', [
        devices.map((d) => d.serial),
      ]);
      expect(keys.rowCount).toBe(0);
      expect(await pendingEvaluations(db.pool, 10)).toEqual([]);

      // The pool replaces the dead connection; the device's resend is stored.
      expect(await writer.submit(devices[0]!.readings)).toEqual(Array.from({ length: 10 }, () => 'stored'));
      expect(await countRows(db, [devices[0]!.serial])).toBe(10);
      expect(await pendingEvaluations(db.pool, 10)).toHaveLength(1);
    } finally {
      await writer.close();
      await pool.end();
    }
  });
});
