import type { RequestHandler } from 'express';
import type pg from 'pg';
import { cookieValue, resolveSession, SESSION_COOKIE, type SessionPolicy } from './sessions.ts';

/** Puts the signed-in user (or nothing) on res.locals.user; each route decides if it needs one. */
export function authenticate(db: pg.Pool, policy: SessionPolicy): RequestHandler {
  return async (req, res, next) => {
    const token = cookieValue(req.headers.cookie, SESSION_COOKIE);
    res.locals.user = token ? await resolveSession(db, token, policy) : null;
    next();
  };
}
