import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

/**
 * Sign-in sessions. The id is the SHA-256 of the cookie's token (the server's access layer makes
 * both); the database never sees a token. "Live": not past its absolute end, active within the idle
 * limit, its user not disabled.
 */
export interface NewSession {
  id: string;
  userId: string;
  expiresAt: Date;
  origin: string | null;
  userAgent: string | null;
}

export async function insertSession(db: Queryable, session: NewSession): Promise<void> {
  await db.query('insert into sessions (id, user_id, expires_at, origin, user_agent) values ($1, $2, $3, $4, $5)', [
    session.id,
    session.userId,
    session.expiresAt,
    session.origin,
    session.userAgent,
  ]);
}

export interface LiveSession {
  sessionId: string;
  userId: string;
  email: string;
  name: string;
  sysadmin: boolean;
  expiresAt: Date;
  /** Last activity recorded more than a minute ago (time to record it again). */
  stale: boolean;
}

export async function liveSession(db: Queryable, id: string, idleMinutes: number): Promise<LiveSession | undefined> {
  const found = await db.query<LiveSession>(
    `select s.id as "sessionId", u.id as "userId", u.email, u.name, u.sysadmin, s.expires_at as "expiresAt",
            s.last_seen_at < now() - interval '1 minute' as stale
     from sessions s join users u on u.id = s.user_id
     where s.id = $1 and s.expires_at > now() and s.last_seen_at > now() - make_interval(mins => $2)
       and u.disabled_at is null`,
    [id, idleMinutes],
  );
  return found.rows[0];
}

export async function touchSession(db: Queryable, id: string): Promise<void> {
  await db.query('update sessions set last_seen_at = now() where id = $1', [id]);
}

/** Of the given ids, the live ones; reads only (asking is no activity). */
export async function liveSessionIds(db: Queryable, ids: readonly string[], idleMinutes: number): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const found = await db.query<{ id: string }>(
    `select s.id from sessions s join users u on u.id = s.user_id
     where s.id = any($1::text[]) and s.expires_at > now() and s.last_seen_at > now() - make_interval(mins => $2)
       and u.disabled_at is null`,
    [ids, idleMinutes],
  );
  return new Set(found.rows.map((r) => r.id));
}

export async function deleteSession(db: Queryable, id: string): Promise<void> {
  await db.query('delete from sessions where id = $1', [id]);
}
