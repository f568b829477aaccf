import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';

/** An error with a stable code for clients: `{ error: { code, message, field? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Another team's object, or one that does not exist: the same answer, so nothing leaks. */
export const notFound = (what: string) => new ApiError(404, 'NOT_FOUND', `${what} not found`);
export const forbidden = (message: string) => new ApiError(403, 'FORBIDDEN', message);
/** Another person's account that reaches beyond the teams the caller administers. */
export const outsideTeams = () =>
  new ApiError(
    403,
    'ACCOUNT_BEYOND_TEAMS',
    'this account belongs to a system administrator or to teams you do not administer; a system administrator can do this',
  );
export const unauthenticated = () => new ApiError(401, 'UNAUTHENTICATED', 'sign in first');

/**
 * The database went away under the request (terminated backend, restart, failover, a pool that
 * could not connect): a moment's outage, not a fault of ours. SQLSTATE class 08 (connection
 * exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now), and pg's own
 * errors for a lost or unreachable connection, which carry no SQLSTATE.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (/^08/.test(code) || ['57P01', '57P02', '57P03'].includes(code))) return true;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
  return (
    typeof message === 'string' &&
    /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection ended/i.test(message)
  );
}

/** Seconds a client waits before it tries again after a database outage. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** Turns anything thrown into the error shape; unexpected errors are logged by id only. */
export function errorResponder(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof ApiError) {
      res
        .set(err.headers)
        .status(err.status)
        .json({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
      return;
    }
    const status = (err as { status?: number; type?: string }).status;
    const type = (err as { type?: string }).type;
    if (type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'INVALID_JSON', message: 'the body is not valid JSON' } });
      return;
    }
    if (type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'the body is too large' } });
      return;
    }
    if (status && status >= 400 && status < 500) {
      res.status(status).json({ error: { code: 'BAD_REQUEST', message: (err as Error).message } });
      return;
    }
    if (isDatabaseUnavailable(err)) {
      log.warn({ err: (err as Error).message, method: req.method, route: req.route?.path }, 'database unavailable');
      res
        .set('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
        .status(503)
        .json({
          error: { code: 'UNAVAILABLE', message: 'the database cannot be reached right now; try again shortly' },
        });
      return;
    }
    log.error(
      { err: (err as Error).message, stack: (err as Error).stack, method: req.method, route: req.route?.path },
      'request failed',
    );
    res
      .status(500)
      .json({ error: { code: 'INTERNAL', message: 'something went wrong on our side; it has been logged' } });
  };
}
