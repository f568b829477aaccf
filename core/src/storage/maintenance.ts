import type { Database } from './database.ts';
import { inTransaction } from './database.ts';
import { dropReadingBuckets } from './reading-buckets.ts';

const DAY_MS = 86_400_000;
/** Readings older than this are refused as TOO_OLD (SPEC section 4), so their keys can go. */
export const READING_MAX_AGE_DAYS = 90;

export interface RetentionPolicy {
  readingRetentionDays: number;
  auditRetentionDays: number;
}

export interface RetentionResult {
  readingsBefore: Date;
  /** TimescaleDB drops whole chunks; plain PostgreSQL deletes rows. */
  droppedChunks: number;
  deletedReadings: number;
  deletedKeys: number;
  deletedAuditEvents: number;
  deletedEvaluationMarks: number;
  deletedEntryKeys: number;
  deletedNightscoutDocuments: number;
  /** Count buckets of the deleted days, and hour buckets counted days ago (reading-buckets.ts). */
  deletedReadingBuckets: number;
}

/** A manual entry's Idempotency-Key guards against resends for this long. */
export const ENTRY_KEY_DAYS = 7;

/**
 * How long `alert_evaluations` remembers an evaluated batch: longer than any job can still be
 * retried (about a week of capped backoff, see workers/src/queues.ts), so a late retry is still
 * recognised.
 */
export const EVALUATION_MEMORY_DAYS = 14;

/**
 * Removes what is past its retention. TimescaleDB's own policies would do this on a server with
 * its background scheduler, but the embedded database has none, so one job does it everywhere.
 */
export async function applyRetention(
  db: Database,
  policy: RetentionPolicy,
  now = new Date(),
): Promise<RetentionResult> {
  const readingsBefore = new Date(now.getTime() - policy.readingRetentionDays * DAY_MS);
  let droppedChunks = 0;
  let deletedReadings = 0;
  if (db.timescale) {
    const dropped = await db.pool.query(`select drop_chunks('readings', older_than => $1::timestamptz)`, [
      readingsBefore,
    ]);
    droppedChunks = dropped.rowCount ?? 0;
  } else {
    deletedReadings =
      (await db.pool.query('delete from readings where measured_at < $1', [readingsBefore])).rowCount ?? 0;
  }
  // A resend older than the accepted age is refused before it reaches the key table, so a key
  // older than that (with a day's margin for clock skew) can never be needed again.
  const keysBefore = new Date(now.getTime() - (READING_MAX_AGE_DAYS + 1) * DAY_MS);
  const deletedKeys =
    (await db.pool.query('delete from reading_keys where measured_at < $1', [keysBefore])).rowCount ?? 0;
  const auditBefore = new Date(now.getTime() - policy.auditRetentionDays * DAY_MS);
  const deletedAuditEvents = await inTransaction(db.pool, async (client) => {
    await client.query(`select set_config('glucoboard.audit_retention', 'on', true)`);
    return (await client.query('delete from audit_events where at < $1', [auditBefore])).rowCount ?? 0;
  });
  const marksBefore = new Date(now.getTime() - EVALUATION_MEMORY_DAYS * DAY_MS);
  const deletedEvaluationMarks =
    (await db.pool.query('delete from alert_evaluations where evaluated_at < $1', [marksBefore])).rowCount ?? 0;
  const entryKeysBefore = new Date(now.getTime() - ENTRY_KEY_DAYS * DAY_MS);
  const deletedEntryKeys =
    (await db.pool.query('delete from manual_entry_keys where created_at < $1', [entryKeysBefore])).rowCount ?? 0;
  // Nightscout documents (entries as uploaded, treatments, device status, profiles) are the same
  // patient's health record as the readings, by the time they tell of: kept as long, no longer.
  const deletedNightscoutDocuments =
    (await db.pool.query('delete from nightscout_documents where date_ms < $1', [readingsBefore.getTime()])).rowCount ??
    0;
  return {
    readingsBefore,
    droppedChunks,
    deletedReadings,
    deletedKeys,
    deletedAuditEvents,
    deletedEvaluationMarks,
    deletedEntryKeys,
    deletedNightscoutDocuments,
    // drop_chunks fires no trigger: the buckets of what it dropped go here, on both backends.
    deletedReadingBuckets: await dropReadingBuckets(db.pool, readingsBefore, now),
  };
}

/**
 * Compresses readings chunks older than the given age (TimescaleDB only; a no-op elsewhere) and
 * answers how many were newly compressed. Every old chunk is passed to compress_chunk, which
 * skips a compressed one and folds backfilled rows into a partly compressed one; only chunks
 * that were not compressed before count. The states are read first (materialized), before any
 * compress_chunk of the same statement runs.
 */
export async function compressOldReadings(db: Database, olderThanDays: number): Promise<number> {
  if (!db.timescale) return 0;
  const result = await db.pool.query<{ compressed: number }>(
    `with old as materialized (
       select c.chunk, i.is_compressed as was_compressed
       from show_chunks('readings', older_than => $1::interval) as c(chunk)
       join timescaledb_information.chunks i on format('%I.%I', i.chunk_schema, i.chunk_name)::regclass = c.chunk
     )
     select count(*) filter (where not old.was_compressed)::int as compressed
     from old, lateral compress_chunk(old.chunk, if_not_compressed => true)`,
    [`${olderThanDays} days`],
  );
  return result.rows[0]?.compressed ?? 0;
}

const ROLLUP_WATERMARK = 'rollup_watermark';
/** Writes in flight when a refresh starts commit after it; looking back this far catches them. */
const ROLLUP_OVERLAP = '5 minutes';

/**
 * Brings reading_hourly and reading_daily up to date. TimescaleDB refreshes its continuous
 * aggregates from their invalidation log; plain PostgreSQL recomputes the buckets that received
 * readings since the last run, with the same bounds as the continuous aggregate.
 */
export async function refreshRollups(db: Database, now = new Date()): Promise<void> {
  if (db.timescale) {
    // Refreshing cannot run inside a transaction; the window covers every reading still accepted.
    const from = new Date(now.getTime() - (READING_MAX_AGE_DAYS + 2) * DAY_MS);
    const to = new Date(now.getTime() + DAY_MS);
    await db.pool.query(`call refresh_continuous_aggregate('reading_hourly', $1::timestamptz, $2::timestamptz)`, [
      from,
      to,
    ]);
    await db.pool.query(`call refresh_continuous_aggregate('reading_daily', $1::timestamptz, $2::timestamptz)`, [
      from,
      to,
    ]);
    return;
  }
  await inTransaction(db.pool, async (client) => {
    const mark = await client.query<{ value: string }>(
      `select value #>> '{}' as value from storage_state where key = $1 for update`,
      [ROLLUP_WATERMARK],
    );
    const since = mark.rows[0]?.value ?? '-infinity';
    await client.query(REFRESH_PLAIN_HOURLY, [since, ROLLUP_OVERLAP]);
    await client.query(REFRESH_PLAIN_DAILY, [since, ROLLUP_OVERLAP]);
    await client.query(
      `insert into storage_state (key, value) values ($1, to_jsonb(now()))
       on conflict (key) do update set value = excluded.value, updated_at = now()`,
      [ROLLUP_WATERMARK],
    );
  });
}

const TOUCHED = (width: string) => `
  select distinct patient_id, date_bin(interval '${width}', measured_at, timestamptz '2000-01-01') as bucket
  from readings where received_at >= $1::timestamptz - $2::interval`;

const REFRESH_PLAIN_HOURLY = `
insert into reading_hourly
select r.patient_id, t.bucket,
  count(*), count(r.mmol), sum(r.mmol), sum(r.mmol * r.mmol), min(r.mmol), max(r.mmol),
  count(*) filter (where r.mmol < 3.0 or (r.mmol is null and r.flag = 'LO')),
  count(*) filter (where r.mmol >= 3.0 and r.mmol < 3.9),
  count(*) filter (where r.mmol >= 3.9 and r.mmol <= 10.0),
  count(*) filter (where r.mmol > 10.0 and r.mmol <= 13.9),
  count(*) filter (where r.mmol > 13.9 or (r.mmol is null and r.flag = 'HI'))
from (${TOUCHED('1 hour')}) t
join readings r on r.patient_id = t.patient_id
  and r.measured_at >= t.bucket and r.measured_at < t.bucket + interval '1 hour'
where r.kind <> 'control'
group by r.patient_id, t.bucket
on conflict (patient_id, bucket) do update set
  n = excluded.n, n_valued = excluded.n_valued, sum_mmol = excluded.sum_mmol, sum_sq_mmol = excluded.sum_sq_mmol,
  min_mmol = excluded.min_mmol, max_mmol = excluded.max_mmol, n_very_low = excluded.n_very_low, n_low = excluded.n_low,
  n_in_range = excluded.n_in_range, n_high = excluded.n_high, n_very_high = excluded.n_very_high`;

const REFRESH_PLAIN_DAILY = `
insert into reading_daily
select h.patient_id, t.bucket,
  sum(h.n), sum(h.n_valued), sum(h.sum_mmol), sum(h.sum_sq_mmol), min(h.min_mmol), max(h.max_mmol),
  sum(h.n_very_low), sum(h.n_low), sum(h.n_in_range), sum(h.n_high), sum(h.n_very_high)
from (${TOUCHED('1 day')}) t
join reading_hourly h on h.patient_id = t.patient_id
  and h.bucket >= t.bucket and h.bucket < t.bucket + interval '1 day'
group by h.patient_id, t.bucket
on conflict (patient_id, bucket) do update set
  n = excluded.n, n_valued = excluded.n_valued, sum_mmol = excluded.sum_mmol, sum_sq_mmol = excluded.sum_sq_mmol,
  min_mmol = excluded.min_mmol, max_mmol = excluded.max_mmol, n_very_low = excluded.n_very_low, n_low = excluded.n_low,
  n_in_range = excluded.n_in_range, n_high = excluded.n_high, n_very_high = excluded.n_very_high`;

/**
 * What autovacuum does on a PostgreSQL server, for the embedded database, which has no background
 * processes: the visibility map (without it the covering readings index cannot answer alone) and
 * the planner's statistics. Without statistics the count buckets of a 1,000-patient team took 2.2 s
 * to add up instead of 0.6 s, and 56 s on the read benchmark's 8.9 million readings. Insert-only
 * tables vacuum quickly after the first time (all-visible pages are skipped). A no-op on a
 * server, whose autovacuum does it; answers whether it ran.
 */
export async function vacuumEmbedded(db: Database): Promise<boolean> {
  if (db.backend !== 'embedded') return false;
  await db.pool.query('vacuum (analyze)');
  return true;
}
