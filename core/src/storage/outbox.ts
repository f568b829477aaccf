import type pg from 'pg';
import type { EvaluationBatch, EvaluationReading } from '../wire/queues.ts';
import { numberArrayLiteral, textArrayLiteral, timestampArrayLiteral } from './array-literals.ts';

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
 * The readings are kept as one array per field (migration 019); the group commit's statement
 * writes the same columns (readings.ts).
 */
export async function appendEvaluation(client: Queryable, payload: EvaluationBatch): Promise<number> {
  const r = payload.readings;
  const result = await client.query<{ id: number }>(
    `insert into evaluation_outbox
       (received_at, patient_ids, device_ids, seqs, sources, measured_at, mmol, flags, kinds, meals)
     values ($1, $2::uuid[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[], $7::float8[], $8::text[], $9::text[], $10::text[])
     returning id`,
    [
      payload.receivedAt,
      textArrayLiteral(r.map((x) => x.patientId)),
      textArrayLiteral(r.map((x) => x.deviceId)),
      numberArrayLiteral(r.map((x) => x.seq)),
      textArrayLiteral(r.map((x) => x.source)),
      timestampArrayLiteral(r.map((x) => new Date(x.measuredAt))),
      numberArrayLiteral(r.map((x) => x.mmol)),
      textArrayLiteral(r.map((x) => x.flag)),
      textArrayLiteral(r.map((x) => x.kind)),
      textArrayLiteral(r.map((x) => x.meal)),
    ],
  );
  return result.rows[0]!.id;
}

interface OutboxRow {
  id: number;
  received_at: Date;
  patient_ids: string[];
  device_ids: (string | null)[];
  seqs: (number | null)[];
  sources: EvaluationReading['source'][];
  measured_at: Date[];
  mmol: (number | null)[];
  flags: EvaluationReading['flag'][];
  kinds: EvaluationReading['kind'][];
  meals: EvaluationReading['meal'][];
}

/** An outbox row's arrays as the batch an evaluation job carries. */
function batchOf(row: OutboxRow): EvaluationBatch {
  const readings: EvaluationReading[] = new Array(row.patient_ids.length);
  for (let i = 0; i < readings.length; i++) {
    readings[i] = {
      patientId: row.patient_ids[i]!,
      deviceId: row.device_ids[i] ?? null,
      seq: row.seqs[i] ?? null,
      source: row.sources[i]!,
      measuredAt: row.measured_at[i]!.toISOString(),
      mmol: row.mmol[i] ?? null,
      flag: row.flags[i] ?? null,
      kind: row.kinds[i]!,
      meal: row.meals[i] ?? null,
    };
  }
  return { receivedAt: row.received_at.toISOString(), readings };
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
  // seqs as float8: pg reads bigint as text; a seq is at most 2^53 - 1, exact in a double.
  const result = await db.query<OutboxRow>(
    `select id, received_at, patient_ids, device_ids, seqs::float8[] as seqs, sources, measured_at, mmol,
            flags, kinds, meals
     from evaluation_outbox
     where published_at is null or published_at < $2
     order by id limit $1`,
    [limit, republishBefore ?? null],
  );
  return result.rows.map((row) => ({ id: row.id, payload: batchOf(row) }));
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
