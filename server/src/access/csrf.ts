import type { RequestHandler } from 'express';
import { ApiError } from '../http/errors.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for cookie-authenticated writes, by origin: a browser names the page's origin on
 * every write (Origin, and Sec-Fetch-Site in current browsers), so a write whose origin is
 * another site is refused. Clients outside a browser send neither header and carry no ambient
 * cookie to abuse. The SameSite=Lax cookie is a second line; JSON-only bodies a third (a form
 * cannot post application/json across sites without a CORS preflight, which we never allow).
 */
export function sameOriginWrites(): RequestHandler {
  return (req, _res, next) => {
    if (SAFE.has(req.method)) return next();
    const site = req.get('sec-fetch-site');
    if (site && site !== 'same-origin' && site !== 'none') {
      return next(new ApiError(403, 'CSRF', 'cross-site writes are refused'));
    }
    const origin = req.get('origin');
    if (origin && origin !== 'null') {
      let host: string;
      try {
        host = new URL(origin).host;
      } catch {
        return next(new ApiError(403, 'CSRF', 'the Origin header is not a URL'));
      }
      if (host !== req.get('host')) return next(new ApiError(403, 'CSRF', 'cross-site writes are refused'));
    } else if (origin === 'null') {
      return next(new ApiError(403, 'CSRF', 'writes from an opaque origin are refused'));
    }
    next();
  };
}

/** Writes must be JSON: this closes the "simple request" route of cross-site forms. */
export function jsonWrites(): RequestHandler {
  return (req, _res, next) => {
    if (SAFE.has(req.method) || req.method === 'DELETE') return next();
    const length = Number(req.get('content-length') ?? 0);
    const chunked = req.get('transfer-encoding') !== undefined;
    if ((length > 0 || chunked) && !req.is('application/json')) {
      return next(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'));
    }
    next();
  };
}
