import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type pg from 'pg';
import { followerUsed, type NightscoutDevice, type NightscoutFollower } from '@glucoboard/core/storage';
import type { FailureCounter } from '../realtime/auth-throttle.ts';
import { throttledMessage } from '../realtime/devices.ts';
import { credentialByJwt, credentialBySecret, type NightscoutCredential } from './credential.ts';

/**
 * What a request's credential says: a device (of one patient), a follower (who may read one
 * patient), nobody, a wrong one, or too many wrong ones.
 */
export type NightscoutAuth =
  | { state: 'device'; device: NightscoutDevice }
  | { state: 'follower'; follower: NightscoutFollower }
  | { state: 'anonymous' }
  | { state: 'refused' }
  | { state: 'throttled'; retryAfterMs: number };

export interface NightscoutAuthenticator {
  /**
   * The credential of a v1 request, in Nightscout's order: `Authorization: Bearer <JWT>`, then the
   * API secret (`?secret=`, the `api-secret` header, a `secret` field of the body, which is
   * removed), then `?token=`. `jwtOnly` (API v3): the Bearer JWT alone.
   */
  authenticate(req: Request, options?: { jwtOnly?: boolean }): Promise<NightscoutAuth>;
  /** The device or follower a token names (the JWT request), throttled like any other attempt. */
  byToken(req: Request, token: string): Promise<NightscoutAuth>;
}

/** Nightscout's 401 body (lib/authorization): what every uploader expects of a wrong secret. */
export function unauthorized(res: Response): void {
  res.status(401).json({ status: 401, message: 'Unauthorized', description: 'Invalid/Missing' });
}

/** Too many failures for this credential or from this address: wait and retry (never 401: apps would stop). */
export function throttled(res: Response, retryAfterMs: number): void {
  res.set('retry-after', String(Math.ceil(retryAfterMs / 1000)));
  res.status(429).json({ status: 429, message: 'Too Many Requests', description: throttledMessage(retryAfterMs) });
}

function bearerOf(req: Request): string | undefined {
  const parts = (req.get('authorization') ?? '').split(' ');
  return parts.length === 2 && parts[0] === 'Bearer' ? parts[1] : undefined;
}

function secretOf(req: Request): string | undefined {
  const query = req.query['secret'];
  if (typeof query === 'string' && query) return query;
  const header = req.get('api-secret');
  if (header) return header;
  // Nightscout reads a body's `secret` and never leaves it there.
  const body: unknown = req.body;
  const holder = Array.isArray(body) ? body[0] : body;
  if (typeof holder === 'object' && holder !== null && 'secret' in holder) {
    const secret = (holder as Record<string, unknown>)['secret'];
    delete (holder as Record<string, unknown>)['secret'];
    if (typeof secret === 'string' && secret) return secret;
  }
  return undefined;
}

/**
 * Failed attempts are counted per credential presented (the device key an uploader keeps
 * retrying with) and per source address, with the same throttle as meters' handshakes
 * (auth-throttle.ts): past the limit a wrong credential is answered 429 with Retry-After instead
 * of 401. A credential that verifies is never throttled.
 */
export function createNightscoutAuthenticator(db: pg.Pool, throttle: FailureCounter): NightscoutAuthenticator {
  async function attempt(
    req: Request,
    credential: string,
    find: () => Promise<NightscoutCredential | undefined>,
  ): Promise<NightscoutAuth> {
    const keys = {
      device: `nightscout:${createHash('sha256').update(credential).digest('hex').slice(0, 32)}`,
      source: req.ip ?? 'unknown',
    };
    // The check is cheap (an HMAC and an index probe), so it comes first: a credential that
    // verifies is admitted even while its address is throttled (a ward's uploaders behind one NAT
    // keep uploading while a stale app there keeps failing), as a cached meter is.
    const found = await find();
    if (found?.kind === 'device') return { state: 'device', device: found.device };
    if (found) {
      await followerUsed(db, found.follower.followerId);
      return { state: 'follower', follower: found.follower };
    }
    const verdict = await throttle.check(keys);
    if (!verdict.allowed) return { state: 'throttled', retryAfterMs: verdict.retryAfterMs } as const;
    await throttle.recordFailure(keys);
    return { state: 'refused' } as const;
  }

  return {
    async authenticate(req, options = {}) {
      const jwt = bearerOf(req);
      if (jwt) return attempt(req, jwt, () => credentialByJwt(db, jwt));
      if (req.get('authorization') && options.jwtOnly) return { state: 'refused' };
      if (options.jwtOnly) return { state: 'anonymous' };
      const secret = secretOf(req);
      if (secret) return attempt(req, secret, () => credentialBySecret(db, secret));
      const token = req.query['token'];
      if (typeof token === 'string' && token) return attempt(req, token, () => credentialBySecret(db, token));
      return { state: 'anonymous' };
    },
    byToken(req, token) {
      return attempt(req, token, () => credentialBySecret(db, token));
    },
  };
}
