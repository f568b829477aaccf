import type pg from 'pg';

/**
 * Idempotency keys of manual entry (`manual_entry_keys`): a form sent twice with one key stores
 * one reading. Used inside the caller's transaction, with the reading's own write.
 */

export interface ManualEntryKey {
  userId: string;
  key: string;
}

export type ManualEntryClaim =
  | { claimed: true }
  /** Used before (a concurrent resend waits on the row, then sees it committed): what was sent and answered. */
  | { claimed: false; request: string; answer: unknown };

/** Claims the key for this request; the key row comes first so that a resend waits on it. */
export async function claimManualEntryKey(
  client: pg.PoolClient,
  entry: ManualEntryKey & { request: string },
): Promise<ManualEntryClaim> {
  const claimed = await client.query(
    `insert into manual_entry_keys (user_id, idempotency_key, request) values ($1, $2, $3)
     on conflict do nothing`,
    [entry.userId, entry.key, entry.request],
  );
  if (claimed.rowCount !== 0) return { claimed: true };
  const earlier = await client.query<{ request: string; answer: unknown }>(
    'select request, answer from manual_entry_keys where user_id = $1 and idempotency_key = $2',
    [entry.userId, entry.key],
  );
  return { claimed: false, ...earlier.rows[0]! };
}

/** Keeps the answer, for a resend with the same key. */
export async function recordManualEntryAnswer(
  client: pg.PoolClient,
  entry: ManualEntryKey,
  answer: unknown,
): Promise<void> {
  await client.query('update manual_entry_keys set answer = $3 where user_id = $1 and idempotency_key = $2', [
    entry.userId,
    entry.key,
    JSON.stringify(answer),
  ]);
}
