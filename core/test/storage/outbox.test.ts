import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  appendEvaluation,
  inTransaction,
  listMigrations,
  migrate,
  openDatabase,
  pendingEvaluations,
  removeEvaluations,
  type Database,
  type EvaluationBatch,
} from '../../src/storage/index.ts';
import { BACKENDS, createTestDatabase, openTestDatabase, silentLog } from '../support/databases.ts';

const MIGRATIONS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/storage/migrations');

/** Several readings of every source, with every nullable field null somewhere. */
const mixed: EvaluationBatch = {
  receivedAt: '2026-12-04T10:00:00.123Z',
  readings: [
    {
      patientId: '00000000-0000-4000-8000-000000000002',
      deviceId: 'OUTBOX-2',
      seq: 9_007_199_254_740_991,
      source: 'device',
      measuredAt: '2026-12-04T09:55:00.001Z',
      mmol: 3.1,
      flag: null,
      kind: 'bgm',
      meal: 'before',
    },
    {
      patientId: '00000000-0000-4000-8000-000000000003',
      deviceId: null,
      seq: null,
      source: 'manual',
      measuredAt: '2026-12-04T09:50:00.000Z',
      mmol: null,
      flag: 'HI',
      kind: 'bgm',
      meal: 'after',
    },
    {
      patientId: '00000000-0000-4000-8000-000000000002',
      deviceId: 'OUTBOX-2',
      seq: 0,
      source: 'import',
      measuredAt: '2026-12-03T23:59:59.999Z',
      mmol: 12.25,
      flag: null,
      kind: 'control',
      meal: null,
    },
  ],
};

const batch = (seq: number): EvaluationBatch => ({
  receivedAt: new Date(1_700_000_000_000 + seq).toISOString(),
  readings: [
    {
      patientId: '00000000-0000-4000-8000-000000000001',
      deviceId: 'OUTBOX-1',
      seq,
      source: 'device',
      measuredAt: new Date(1_700_000_000_000 + seq * 300_000).toISOString(),
      mmol: seq % 2 === 0 ? 5.4 : null,
      flag: seq % 2 === 0 ? null : 'LO',
      kind: 'cgm',
      meal: null,
    },
  ],
});

describe.each(BACKENDS)('the evaluation outbox on the %s backend', (backend) => {
  let db: Database & { dispose(): Promise<void> };
  beforeAll(async () => {
    db = await openTestDatabase(backend);
  });
  afterAll(() => db?.dispose());
  beforeEach(async () => {
    await db.pool.query('delete from evaluation_outbox');
  });

  it('keeps batches oldest first, up to the limit, until removed', async () => {
    for (const seq of [1, 2, 3]) await appendEvaluation(db.pool, batch(seq));
    const firstTwo = await pendingEvaluations(db.pool, 2);
    expect(firstTwo.map((p) => p.payload)).toEqual([batch(1), batch(2)]);
    expect(typeof firstTwo[0]!.id).toBe('number');
    expect(
      await removeEvaluations(
        db.pool,
        firstTwo.map((p) => p.id),
      ),
    ).toBe(2);
    expect((await pendingEvaluations(db.pool, 10)).map((p) => p.payload)).toEqual([batch(3)]);
    expect(await removeEvaluations(db.pool, [])).toBe(0);
  });

  it('gives back every reading of a batch, in its order, with its nulls', async () => {
    await appendEvaluation(db.pool, mixed);
    expect((await pendingEvaluations(db.pool, 10)).map((p) => p.payload)).toEqual([mixed]);
  });

  it('commits and rolls back with the transaction it was written in', async () => {
    await inTransaction(db.pool, (client) => appendEvaluation(client, batch(7)));
    await expect(
      inTransaction(db.pool, async (client) => {
        await appendEvaluation(client, batch(8));
        throw new Error('the readings failed');
      }),
    ).rejects.toThrow('the readings failed');
    expect((await pendingEvaluations(db.pool, 10)).map((p) => p.payload)).toEqual([batch(7)]);
  });
});

describe.each(BACKENDS)('upgrading the outbox to arrays (migration 019) on the %s backend', (backend) => {
  it('keeps the batches that waited as JSON, every reading in its order', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'glucoboard-019-'));
    const target = await createTestDatabase(backend);
    const db = await openDatabase({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, log: silentLog });
    try {
      const all = await listMigrations(MIGRATIONS);
      for (const m of all) if (m.version < 19) await fs.copyFile(path.join(MIGRATIONS, m.file), path.join(dir, m.file));
      await migrate(db, silentLog, dir);
      // As the release before wrote them: the document, one published and one not.
      for (const payload of [batch(5), mixed]) {
        await db.pool.query('insert into evaluation_outbox (payload) values ($1::jsonb)', [JSON.stringify(payload)]);
      }
      await db.pool.query(`update evaluation_outbox set published_at = now() - interval '1 hour' where id = 1`);
      for (const m of all)
        if (m.version === 19) await fs.copyFile(path.join(MIGRATIONS, m.file), path.join(dir, m.file));
      expect((await migrate(db, silentLog, dir)).applied).toEqual([19]);
      const pending = await pendingEvaluations(db.pool, 10, new Date());
      expect(pending.map((p) => p.payload)).toEqual([batch(5), mixed]);
      expect(await pendingEvaluations(db.pool, 10)).toHaveLength(1); // the published one waits for its job
    } finally {
      await db.close();
      await target.dispose();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
