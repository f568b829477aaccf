import {
  createCipheriv,
  createDecipheriv,
  randomBytes,
  scrypt as scryptCallback,
  type ScryptOptions,
} from 'node:crypto';
import * as client from 'openid-client';
import type pg from 'pg';
import type { OidcSettings } from '@glucoboard/core/config';
import { setAccountIdentity } from '@glucoboard/core/storage';
import { ApiError, notFound } from '../http/errors.ts';

/**
 * Sign-in through an OpenID Connect provider (a region's SITHS eID service): authorization code
 * flow with PKCE (S256), state and nonce, by the maintained `openid-client` library, which also
 * checks the ID token (issuer, audience, nonce, expiry, signature from the issuer's JWKS).
 * See docs/access-control.md, "OpenID Connect (SITHS eID)".
 */

/** The cookie that carries a sign-in in progress (state, nonce, PKCE verifier), sealed. */
export const OIDC_STATE_COOKIE = 'glucoboard_oidc';
/** Only the OIDC routes ever receive it. */
export const OIDC_COOKIE_PATH = '/api/auth/oidc';
/** How long a browser may take at the provider before the sign-in must start again. */
export const OIDC_STATE_MINUTES = 10;

/** What the callback learns: who the provider says signed in. */
export interface ExternalIdentity {
  issuer: string;
  subject: string;
}

export interface OidcLogin {
  /** The configured issuer: accounts are linked by (issuer, subject). */
  readonly issuer: string;
  /** Where to send the browser, and the sealed cookie value that must come back with it. */
  begin(): Promise<{ url: string; sealed: string }>;
  /** Completes the code grant from the callback's query string and the cookie set by begin(). */
  complete(query: string, sealed: string | undefined): Promise<ExternalIdentity>;
}

/** A refused sign-in; `reason` is for the log only (a short code, never personal data). */
export class OidcFailure extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly reason: string,
  ) {
    super(status, code, message);
  }
}

const unavailable = (reason: string) =>
  new OidcFailure(
    503,
    'OIDC_UNAVAILABLE',
    'the sign-in service cannot be reached right now; try again shortly',
    reason,
  );
const failed = (reason: string, message = 'the sign-in could not be completed; start again') =>
  new OidcFailure(400, 'OIDC_FAILED', message, reason);

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Seconds any one request to the provider may take. */
const PROVIDER_TIMEOUT = 10;

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  /** Epoch milliseconds: the cookie's own expiry, whatever the browser does with Max-Age. */
  expires: number;
}

const scrypt = (secret: string, salt: string, length: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCallback(secret, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))),
  );

/**
 * Seals and opens the pending-sign-in cookie with AES-256-GCM: the browser can neither read nor
 * change it. The key is derived from the client secret (so every instance of an installation
 * shares it) with scrypt, which makes guessing the secret from a cookie slow as well as hopeless.
 */
function cookieSealer(settings: OidcSettings) {
  let key: Promise<Buffer> | undefined;
  const theKey = () =>
    (key ??= scrypt(settings.clientSecret, 'glucoboard/oidc-state-cookie/v1', 32, { N: 2 ** 14, r: 8, p: 1 }));
  // Binds a cookie to this provider and client: one made for another configuration does not open.
  const context = Buffer.from(`glucoboard-oidc-v1\n${settings.issuer}\n${settings.clientId}`);
  return {
    async seal(pending: Pending): Promise<string> {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', await theKey(), iv).setAAD(context);
      const sealed = Buffer.concat([cipher.update(JSON.stringify(pending), 'utf8'), cipher.final()]);
      return `v1.${Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')}`;
    },
    async open(value: string): Promise<Pending | null> {
      if (!value.startsWith('v1.') || value.length > 2000) return null;
      const raw = Buffer.from(value.slice(3), 'base64url');
      if (raw.length < 12 + 16 + 1) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', await theKey(), raw.subarray(0, 12)).setAAD(context);
        decipher.setAuthTag(raw.subarray(raw.length - 16));
        const text = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
        const pending = JSON.parse(text.toString('utf8')) as Pending;
        return pending.expires > Date.now() ? pending : null;
      } catch {
        return null;
      }
    },
  };
}

/** The provider could not be reached (refused, reset, timed out), as opposed to answering "no". */
const unreachable = (err: unknown) =>
  (err instanceof TypeError && err.message === 'fetch failed') ||
  (err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError'));

/** A short, log-safe description of why openid-client refused a response. */
function reasonOf(err: unknown): string {
  if (err instanceof client.AuthorizationResponseError) return `provider:${err.error}`;
  if (err instanceof client.ResponseBodyError) return `token_endpoint:${err.error}`;
  if (err instanceof client.ClientError) return err.code ?? 'client_error';
  return err instanceof Error ? err.name : 'unknown';
}

/**
 * One configured provider. Its metadata is discovered on first use and kept; a failed discovery
 * answers 503 OIDC_UNAVAILABLE and is tried again on the next sign-in.
 */
export function createOidcLogin(settings: OidcSettings): OidcLogin {
  const issuerUrl = new URL(settings.issuer);
  // openid-client refuses plain HTTP; a provider on this very machine (tests, development) is allowed it.
  const insecure = issuerUrl.protocol === 'http:' && LOOPBACK.has(issuerUrl.hostname);
  const sealer = cookieSealer(settings);

  let discovered: Promise<client.Configuration> | undefined;
  const configuration = () =>
    (discovered ??= client
      .discovery(issuerUrl, settings.clientId, undefined, client.ClientSecretBasic(settings.clientSecret), {
        timeout: PROVIDER_TIMEOUT,
        execute: insecure ? [client.allowInsecureRequests] : [],
      })
      .catch((err: unknown) => {
        discovered = undefined;
        throw unavailable(`discovery:${unreachable(err) ? 'unreachable' : reasonOf(err)}`);
      }));

  return {
    issuer: settings.issuer,

    async begin() {
      const config = await configuration();
      const pending: Pending = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        verifier: client.randomPKCECodeVerifier(),
        expires: Date.now() + OIDC_STATE_MINUTES * 60_000,
      };
      const url = client.buildAuthorizationUrl(config, {
        response_type: 'code',
        redirect_uri: settings.redirectUrl,
        scope: settings.scopes,
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
      });
      return { url: url.href, sealed: await sealer.seal(pending) };
    },

    async complete(query, sealed) {
      const pending = sealed ? await sealer.open(sealed) : null;
      if (!pending) {
        throw failed('state_cookie', 'this sign-in was not started here or took too long; start again');
      }
      const config = await configuration();
      // The token request must name the same redirect URI as the authorization request, whatever
      // host or proxy the callback came through.
      const current = new URL(settings.redirectUrl);
      current.search = new URLSearchParams(query).toString();
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        tokens = await client.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        if (unreachable(err)) throw unavailable('token_endpoint:unreachable');
        throw failed(reasonOf(err));
      }
      const claims = tokens.claims();
      if (!claims?.sub) throw failed('no_subject');
      return { issuer: settings.issuer, subject: claims.sub };
    },
  };
}

/**
 * Links an account to the identity a provider knows the person by (for the admin API). The
 * account then signs in through that provider; an identity can belong to one account only.
 */
/** Links an account to (issuer, subject); answers whether it replaced an earlier link. */
export async function linkExternalIdentity(
  db: pg.Pool | pg.PoolClient,
  userId: string,
  issuer: string,
  subject: string,
): Promise<boolean> {
  try {
    const linked = await setAccountIdentity(db, userId, issuer, subject);
    if (!linked) throw notFound('user');
    return linked.replaced;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      throw new ApiError(409, 'IDENTITY_TAKEN', 'another account is already linked to that identity');
    }
    throw err;
  }
}
