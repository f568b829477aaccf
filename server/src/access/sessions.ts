import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type pg from 'pg';

/** The cookie that carries a session token; httpOnly, SameSite=Lax, Secure behind TLS. */
export const SESSION_COOKIE = 'glucoboard_session';

export interface SessionPolicy {
  /** Signed out after this long without a request. */
  idleMinutes: number;
  /** Signed out this long after sign-in, however active. */
  maxHours: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleMinutes: 30, maxHours: 12 };

/** Someone signed in, as every authorization decision sees them. */
export interface SignedInUser {
  userId: string;
  sessionId: string;
  email: string;
  name: string;
  sysadmin: boolean;
  /** The absolute end of the session. */
  expiresAt: Date;
}

const sessionId = (token: string) => createHash('sha256').update(token).digest('hex');

export async function openSession(
  db: pg.Pool,
  userId: string,
  policy: SessionPolicy,
  context: { origin: string | undefined; userAgent: string | undefined },
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + policy.maxHours * 3_600_000);
  await db.query('insert into sessions (id, user_id, expires_at, origin, user_agent) values ($1, $2, $3, $4, $5)', [
    sessionId(token),
    userId,
    expiresAt,
    context.origin ?? null,
    context.userAgent?.slice(0, 300) ?? null,
  ]);
  return { token, expiresAt };
}

/**
 * The user behind a session token, or null when it is unknown, expired (absolute or idle), or
 * its user is disabled. Activity is recorded at most once a minute to spare the database.
 */
export async function resolveSession(
  db: pg.Pool,
  token: string | undefined,
  policy: SessionPolicy,
): Promise<SignedInUser | null> {
  if (!token || token.length > 100) return null;
  const id = sessionId(token);
  const found = await db.query<SignedInUser & { stale: boolean }>(
    `select s.id as "sessionId", u.id as "userId", u.email, u.name, u.sysadmin, s.expires_at as "expiresAt",
            s.last_seen_at < now() - interval '1 minute' as stale
     from sessions s join users u on u.id = s.user_id
     where s.id = $1 and s.expires_at > now() and s.last_seen_at > now() - make_interval(mins => $2)
       and u.disabled_at is null`,
    [id, policy.idleMinutes],
  );
  const row = found.rows[0];
  if (!row) return null;
  if (row.stale) await db.query('update sessions set last_seen_at = now() where id = $1', [id]);
  return {
    userId: row.userId,
    sessionId: row.sessionId,
    email: row.email,
    name: row.name,
    sysadmin: row.sysadmin,
    expiresAt: row.expiresAt,
  };
}

/**
 * Of the given session ids, those still signed in: not expired, not idle past the policy, user
 * not disabled. Reads only: asking does not count as activity.
 */
export async function liveSessions(db: pg.Pool, ids: readonly string[], policy: SessionPolicy): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const found = await db.query<{ id: string }>(
    `select s.id from sessions s join users u on u.id = s.user_id
     where s.id = any($1::text[]) and s.expires_at > now() and s.last_seen_at > now() - make_interval(mins => $2)
       and u.disabled_at is null`,
    [ids, policy.idleMinutes],
  );
  return new Set(found.rows.map((r) => r.id));
}

export async function closeSession(db: pg.Pool, sessionIdToClose: string): Promise<void> {
  await db.query('delete from sessions where id = $1', [sessionIdToClose]);
}

/** Reads one cookie from a Cookie header (HTTP requests and Socket.IO handshakes alike). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * Signs a person in on this response: a new session and its cookie (httpOnly, SameSite=Lax,
 * Secure over TLS). Password and OpenID Connect sign-in both end here.
 */
export async function startSession(
  db: pg.Pool,
  userId: string,
  policy: SessionPolicy,
  req: Request,
  res: Response,
  origin: string,
): Promise<void> {
  const session = await openSession(db, userId, policy, { origin, userAgent: req.get('user-agent') });
  res.cookie(SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: req.secure,
    path: '/',
    expires: session.expiresAt,
  });
}
