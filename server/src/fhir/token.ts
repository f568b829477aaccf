import { randomBytes } from 'node:crypto';
import express, { Router, type Response } from 'express';
import type pg from 'pg';
import { isGlucoboardId } from '@glucoboard/core/fhir';
import { verifySecret } from '@glucoboard/core/platform';
import { apiClientCredentials, recordAudit, storeApiClientToken } from '@glucoboard/core/storage';
import { READ_SCOPES, tokenId, WRITE_SCOPE } from './callers.ts';

/** Access tokens are short-lived: a system asks for a new one when it expires (no refresh tokens). */
export const ACCESS_TOKEN_SECONDS = 3600;

/** RFC 6749 section 5.2: an error answer of the token endpoint, never cached. */
function oauthError(res: Response, status: number, error: string, description: string, basic = false): void {
  if (basic) res.set('www-authenticate', 'Basic realm="glucoboard"');
  res.set({ 'cache-control': 'no-store', pragma: 'no-cache' });
  res.status(status).json({ error, error_description: description });
}

/** client_secret_basic (RFC 6749 2.3.1: form-urlencoded id and secret in HTTP Basic) or client_secret_post. */
function credentialsOf(req: express.Request): { id: string; secret: string; basic: boolean } | 'both' | undefined {
  const header = req.get('authorization');
  const body = (req.body ?? {}) as Record<string, unknown>;
  const inBody = typeof body['client_id'] === 'string' && typeof body['client_secret'] === 'string';
  if (header?.startsWith('Basic ')) {
    if (inBody) return 'both';
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    try {
      return {
        id: decodeURIComponent(decoded.slice(0, colon)),
        secret: decodeURIComponent(decoded.slice(colon + 1)),
        basic: true,
      };
    } catch {
      return undefined;
    }
  }
  return inBody
    ? { id: body['client_id'] as string, secret: body['client_secret'] as string, basic: false }
    : undefined;
}

/**
 * POST /fhir/r4/oauth/token: OAuth 2 client credentials (RFC 6749 4.4), as SMART Backend Services
 * clients speak it with a client secret. Answers `{ access_token, token_type: 'Bearer', expires_in,
 * scope }`: a token for the client's team, read scopes, and the write scope for a read-write client.
 */
export function tokenEndpoint(db: pg.Pool): Router {
  const router = Router();
  router.post('/fhir/r4/oauth/token', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    if (!req.is('application/x-www-form-urlencoded'))
      return oauthError(res, 400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
    const body = req.body as Record<string, unknown>;
    const credentials = credentialsOf(req);
    if (credentials === 'both')
      return oauthError(res, 400, 'invalid_request', 'authenticate the client one way only: HTTP Basic or the body');
    if (!credentials)
      return oauthError(
        res,
        401,
        'invalid_client',
        'client authentication is missing (HTTP Basic or client_id and client_secret)',
        true,
      );
    const client = isGlucoboardId(credentials.id) ? await apiClientCredentials(db, credentials.id) : undefined;
    if (!client || !(await verifySecret(client.secretHash, credentials.secret))) {
      await recordAudit(db, {
        action: 'api_client.token',
        actor: { kind: 'system' },
        outcome: 'denied',
        origin: req.ip ?? null,
        detail: { reason: client ? 'wrong secret' : 'unknown or revoked client' },
      });
      return oauthError(res, 401, 'invalid_client', 'unknown or revoked client, or a wrong secret', credentials.basic);
    }
    if (body['grant_type'] !== 'client_credentials')
      return oauthError(res, 400, 'unsupported_grant_type', "grant_type must be 'client_credentials'");
    const allowed: string[] = [...READ_SCOPES, ...(client.access === 'read-write' ? [WRITE_SCOPE] : [])];
    const asked =
      typeof body['scope'] === 'string' && body['scope'].trim() ? body['scope'].trim().split(/\s+/) : allowed;
    const beyond = asked.filter((s) => !allowed.includes(s));
    if (beyond.length > 0)
      return oauthError(
        res,
        400,
        'invalid_scope',
        `not granted to this client: ${beyond.join(' ')} (it may have ${allowed.join(' ')})`,
      );
    const token = randomBytes(32).toString('base64url');
    const scope = [...new Set(asked)].join(' ');
    await storeApiClientToken(db, {
      id: tokenId(token),
      clientId: client.id,
      scope,
      expiresAt: new Date(Date.now() + ACCESS_TOKEN_SECONDS * 1000),
    });
    await recordAudit(db, {
      action: 'api_client.token',
      actor: { kind: 'api_client', clientId: client.id },
      teamId: client.teamId,
      origin: req.ip ?? null,
      detail: { scope },
    });
    res.set({ 'cache-control': 'no-store', pragma: 'no-cache' });
    res.status(200).json({ access_token: token, token_type: 'Bearer', expires_in: ACCESS_TOKEN_SECONDS, scope });
  });
  return router;
}
