import type pg from 'pg';
import type { EvaluationBatch } from '../wire/queues.ts';

/** An outbox row holds an evaluation job's batch, the contract of core/src/wire/queues.ts. */
export type { EvaluationBatch, EvaluationReading } from '../wire/queues.ts';

export interface PendingEvaluation {
  id: number;
  payload: EvaluationBatch;
}

type Queryable = pg.Pool | pg.PoolClient;

/**
 * Records a batch to evaluate. Call it on the client of the transaction that stores the readings,
 * so the batch is committed together with them or not at all. Returns the outbox row's id.
 */
export async function appendEvaluation(client: Queryable, payload: EvaluationBatch): Promise<number> {
  const result = await client.query<{ id: number }>(
    'insert into evaluation_outbox (payload) values ($1::jsonb) returning id',
    [JSON.stringify(payload)],
  );
  return result.rows[0]!.id;
}

/**
 * Up to `limit` batches to publish, oldest first: those never published, and with `republishBefore`
 * also those published before it whose job has not finished (Redis may have lost it).
 */
export async function pendingEvaluations(
  db: Queryable,
  limit: number,
  republishBefore?: Date,
): Promise<PendingEvaluation[]> {
  const result = await db.query<PendingEvaluation>(
    `select id, payload from evaluation_outbox
     where published_at is null or published_at < $2
     order by id limit $1`,
    [limit, republishBefore ?? null],
  );
  return result.rows;
}

/** Records that the batches went out as jobs; they stay until their evaluation is done. */
export async function markEvaluationsPublished(db: Queryable, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('update evaluation_outbox set published_at = now() where id = any($1::bigint[])', [ids]);
}

/** Deletes the given batches (once evaluated); returns how many were deleted. */
export async function removeEvaluations(db: Queryable, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db.query('delete from evaluation_outbox where id = any($1::bigint[])', [ids]);
  return result.rowCount ?? 0;
}
