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
    const refusal = crossSiteRefusal({
      secFetchSite: req.get('sec-fetch-site'),
      origin: req.get('origin'),
      host: req.get('host'),
    });
    next(refusal ? new ApiError(403, 'CSRF', refusal) : undefined);
  };
}

/**
 * Why a browser request comes from another site, or undefined if it does not: the one check of
 * cookie-authenticated writes and of the board's WebSocket handshake (cross-site WebSocket
 * hijacking: a page elsewhere opening our board with the nurse's cookie).
 */
export function crossSiteRefusal(headers: {
  secFetchSite: string | undefined;
  origin: string | undefined;
  host: string | undefined;
}): string | undefined {
  const { secFetchSite: site, origin } = headers;
  if (site && site !== 'same-origin' && site !== 'none') return 'cross-site requests are refused';
  if (origin === 'null') return 'requests from an opaque origin are refused';
  if (origin) {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'the Origin header is not a URL';
    }
    if (host !== headers.host) return 'cross-site requests are refused';
  }
  return undefined;
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
