import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type pg from 'pg';
import { deleteSession, insertSession, liveSession, liveSessionIds, touchSession } from '@glucoboard/core/storage';

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
  await insertSession(db, {
    id: sessionId(token),
    userId,
    expiresAt,
    origin: context.origin ?? null,
    userAgent: context.userAgent?.slice(0, 300) ?? null,
  });
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
  const row = await liveSession(db, id, policy.idleMinutes);
  if (!row) return null;
  if (row.stale) await touchSession(db, id);
  const { stale: _stale, ...user } = row;
  return user;
}

/** Of the given session ids, those still signed in (see `resolveSession`); asking is no activity. */
export const liveSessions = (db: pg.Pool, ids: readonly string[], policy: SessionPolicy): Promise<Set<string>> =>
  liveSessionIds(db, ids, policy.idleMinutes);

export const closeSession = (db: pg.Pool, sessionIdToClose: string): Promise<void> =>
  deleteSession(db, sessionIdToClose);

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
