import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  appendEvaluation,
  inTransaction,
  pendingEvaluations,
  removeEvaluations,
  type Database,
  type EvaluationBatch,
} from '../../src/storage/index.ts';
import { BACKENDS, openTestDatabase } from '../support/databases.ts';

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
