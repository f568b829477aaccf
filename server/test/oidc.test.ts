import { generateKeyPairSync } from 'node:crypto';
import { configFailure } from '@glucoboard/core/test-support/config';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from 'express';
// oidc-provider ships no type declarations; the test uses a few calls of it, typed below.
// @ts-expect-error -- untyped JavaScript module
import OidcProvider from 'oidc-provider';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@glucoboard/core/config';
import { redisClient } from '@glucoboard/core/platform';
import { silentLog } from '@glucoboard/core/test-support/databases';
import { freePort } from '@glucoboard/core/test-support/processes';
import { dropRedisPrefix, uniqueRedisPrefix } from '@glucoboard/core/test-support/redis';
import { createOidcLogin, linkExternalIdentity, OIDC_STATE_COOKIE, type OidcLogin } from '../src/access/oidc.ts';
import { DEFAULT_SESSION_POLICY, SESSION_COOKIE } from '../src/access/sessions.ts';
import type { ApiDependencies } from '../src/api/context.ts';
import { apiRouter } from '../src/api/index.ts';
import { oidcRoutes } from '../src/api/oidc.ts';
import { createApp } from '../src/app.ts';
import { routerFor } from '../src/http/routes.ts';
import { ADMIN, buildTeam, PASSWORD, startTestSystem } from './support/clinic.ts';
import type { Client } from './support/http.ts';

const CLIENT = { id: 'glucoboard-test', secret: 'a client secret long enough for the test' };
const LINKED_SUBJECT = 'SE2321000016-A1B2';

// --- A real OpenID provider on loopback -----------------------------------------------------------

interface RunningProvider {
  issuer: string;
  close(): Promise<void>;
}

interface ProviderInstance {
  callback(): http.RequestListener;
}

const ProviderClass = OidcProvider as new (issuer: string, configuration: unknown) => ProviderInstance;

/** oidc-provider with one confidential client and its development sign-in pages (any login is a subject). */
async function startProvider(port: number, redirectUris: string[]): Promise<RunningProvider> {
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new ProviderClass(issuer, {
    clients: [
      {
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-signing-key', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: ['a cookie signing key for the test provider'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx: unknown, sub: string) {
      return { accountId: sub, claims: async () => ({ sub, email: `${sub.toLowerCase()}@region.example.se` }) };
    },
  });
  const server = http.createServer(provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// --- Glucoboard's HTTP app with the OIDC routes -------------------------------------------------
// The cases below need a provider that can be stopped, broken or swapped per test, so they compose
// the app the system serves (createApp + apiRouter on the system's database) around an OidcLogin.

let env: Awaited<ReturnType<typeof startTestSystem>>;
let deps: ApiDependencies;
let redisPrefix: string;
/** What the OIDC routes log, to see why a sign-in was refused. */
const warnings: Array<{ reason?: string; code?: string }> = [];
const lastReason = () => warnings.at(-1)?.reason;
const closers: Array<() => Promise<void>> = [];

async function serveGlucoboard(port: number, oidc: OidcLogin): Promise<string> {
  const api = Router();
  api.use(routerFor(oidcRoutes(deps, oidc)));
  api.use(apiRouter(deps));
  const app = createApp({
    metrics: new Registry(),
    api,
    log: silentLog,
    trustProxy: false,
    readiness: async () => ({ status: 'ready', checks: { database: 'ok', redis: 'ok' } }),
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// --- A browser: cookies across redirects, forms ---------------------------------------------------

class Browser {
  readonly cookies = new Map<string, string>();

  async get(url: string): Promise<Response> {
    return this.send(url, { method: 'GET' });
  }

  async postForm(url: string, form: Record<string, string>): Promise<Response> {
    return this.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const expired = attributes.some((a) => {
        const [key, value = ''] = a.trim().split('=');
        return (
          (key!.toLowerCase() === 'max-age' && Number(value) <= 0) ||
          (key!.toLowerCase() === 'expires' && Date.parse(value) <= Date.now())
        );
      });
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair!.slice(eq + 1).trim());
    }
    return response;
  }
}

const location = (response: Response, base: string) => new URL(response.headers.get('location') ?? '', base).href;
const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;
const setCookieFor = (response: Response, name: string) =>
  response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));

/**
 * Follows the redirects from `from` through the provider's sign-in and consent pages, as a
 * person with `login` would, and answers the URL the provider sends the browser back to.
 */
async function signInAtProvider(browser: Browser, from: string, login: string, until: string): Promise<string> {
  let url = from;
  for (let step = 0; step < 20; step++) {
    if (url.startsWith(until)) return url;
    const response = await browser.get(url);
    if (response.status >= 300 && response.status < 400) {
      url = location(response, url);
      continue;
    }
    const html = await response.text();
    expect(response.status, html).toBe(200);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    expect(action, html).toBeDefined();
    const form: Record<string, string> =
      prompt === 'login' ? { prompt, login, password: 'anything at all' } : { prompt: prompt ?? '' };
    const submitted = await browser.postForm(new URL(action!, url).href, form);
    expect(submitted.status, await submitted.clone().text()).toBeGreaterThanOrEqual(300);
    url = location(submitted, url);
  }
  throw new Error(`no redirect back to ${until}`);
}

// --- The installation under test ------------------------------------------------------------------

let provider: RunningProvider;
let oidc: OidcLogin;
let app: string;
let callbackUrl: string;
let sys: Client;
let linkedUserId: string;

const auditRows = async (since: number) =>
  (
    await env.system.db.pool.query<{
      action: string;
      outcome: string;
      actor_kind: string;
      actor_user_id: string | null;
      detail: Record<string, unknown>;
    }>(
      `select action, outcome, actor_kind, actor_user_id, detail from audit_events
       where id > $1 and action = 'auth.login' order by id`,
      [since],
    )
  ).rows;
const lastAuditId = async () =>
  (await env.system.db.pool.query<{ id: number }>('select coalesce(max(id), 0)::int as id from audit_events')).rows[0]!
    .id;

beforeAll(async () => {
  env = await startTestSystem('postgres');
  sys = await env.client().login(ADMIN.email, ADMIN.password);
  redisPrefix = uniqueRedisPrefix();
  const redis = redisClient(env.system.redis, 'general');
  closers.push(async () => void redis.disconnect());
  deps = {
    db: env.system.db,
    redis,
    redisPrefix,
    log: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) }),
    sessionPolicy: DEFAULT_SESSION_POLICY,
    live: env.system.realtime,
  };

  // The app's port must be known before the provider registers its callback URL.
  const appPort = await freePort();
  callbackUrl = `http://127.0.0.1:${appPort}/api/auth/oidc/callback`;
  provider = await startProvider(await freePort(), [callbackUrl]);
  closers.push(() => provider.close());
  const config = loadConfig({
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: CLIENT.id,
    OIDC_CLIENT_SECRET: CLIENT.secret,
    OIDC_REDIRECT_URL: callbackUrl,
  });
  oidc = createOidcLogin(config.oidc!);
  app = await serveGlucoboard(appPort, oidc);

  // Provisioned by an administrator, then linked to the subject the provider knows the person by.
  const created = await sys.post('/api/users', {
    email: 'nurse@region.example.se',
    name: 'Nurse Linked',
    password: PASSWORD,
  });
  expect(created.status).toBe(201);
  linkedUserId = created.body.id;
  await linkExternalIdentity(env.system.db.pool, linkedUserId, oidc.issuer, LINKED_SUBJECT);
});

afterAll(async () => {
  while (closers.length) await closers.pop()!();
  await env?.stop();
  if (redisPrefix) await dropRedisPrefix(redisPrefix);
});

// --- Configuration --------------------------------------------------------------------------------

describe('OIDC configuration', () => {
  const complete = {
    OIDC_ISSUER: 'https://idp.region.example.se/oidc',
    OIDC_CLIENT_ID: 'glucoboard',
    OIDC_CLIENT_SECRET: 'sixteen-or-more-characters',
    OIDC_REDIRECT_URL: 'https://glucoboard.region.example.se/api/auth/oidc/callback',
  };
  const failure = configFailure;

  it('is off by default, with password sign-in on', () => {
    expect(loadConfig({})).toMatchObject({ oidc: undefined, localLogin: true });
  });

  it('reads a complete provider, with the default scopes', () => {
    expect(loadConfig({ ...complete, OIDC_LOCAL_LOGIN: '0' })).toMatchObject({
      oidc: {
        issuer: complete.OIDC_ISSUER,
        clientId: 'glucoboard',
        clientSecret: complete.OIDC_CLIENT_SECRET,
        redirectUrl: complete.OIDC_REDIRECT_URL,
        scopes: 'openid email profile',
      },
      localLogin: false,
    });
  });

  it.each(Object.keys(complete))('is all or nothing: names a missing %s', (variable) => {
    const env: Record<string, string> = { ...complete };
    delete env[variable];
    expect(failure(env)?.variable).toBe(variable);
  });

  it.each([
    [{ OIDC_LOCAL_LOGIN: '0' }, 'OIDC_LOCAL_LOGIN'],
    [{ ...complete, OIDC_ISSUER: 'http://idp.region.example.se' }, 'OIDC_ISSUER'],
    [{ ...complete, OIDC_REDIRECT_URL: 'not a url' }, 'OIDC_REDIRECT_URL'],
    [{ ...complete, OIDC_CLIENT_SECRET: 'short' }, 'OIDC_CLIENT_SECRET'],
    [{ ...complete, OIDC_SCOPES: 'email profile' }, 'OIDC_SCOPES'],
    [{ ...complete, OIDC_LOCAL_LOGIN: 'maybe' }, 'OIDC_LOCAL_LOGIN'],
  ])('names the bad variable: %o', (env, variable) => {
    expect(failure(env)?.variable).toBe(variable);
  });

  it('allows plain http only for a provider on loopback', () => {
    expect(loadConfig({ ...complete, OIDC_ISSUER: 'http://127.0.0.1:9000' }).oidc?.issuer).toBe(
      'http://127.0.0.1:9000',
    );
  });
});

// --- Sign-in --------------------------------------------------------------------------------------

describe('OIDC sign-in', () => {
  it('starts with a redirect carrying PKCE (S256), state and nonce, kept in a sealed short-lived cookie', async () => {
    const browser = new Browser();
    const start = await browser.get(`${app}/api/auth/oidc/start`);
    expect(start.status).toBe(302);
    const target = new URL(start.headers.get('location')!);
    expect(target.origin).toBe(provider.issuer);
    expect(Object.fromEntries(target.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: CLIENT.id,
      redirect_uri: callbackUrl,
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      state: expect.stringMatching(/.{20,}/),
      nonce: expect.stringMatching(/.{20,}/),
    });
    const cookie = setCookieFor(start, OIDC_STATE_COOKIE)!;
    expect(cookie).toMatch(/; Max-Age=600;/);
    expect(cookie).toMatch(/; Path=\/api\/auth\/oidc;/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    // Sealed: neither the state nor the nonce can be read from it.
    const sealed = browser.cookies.get(OIDC_STATE_COOKIE)!;
    expect(sealed).not.toContain(target.searchParams.get('state'));
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain(
      target.searchParams.get('nonce'),
    );
  });

  it('signs in a linked account with the same session as a password sign-in', async () => {
    const since = await lastAuditId();
    const browser = new Browser();
    const back = await signInAtProvider(browser, `${app}/api/auth/oidc/start`, LINKED_SUBJECT, callbackUrl);
    const callback = await browser.get(back);
    expect(callback.status, await callback.clone().text()).toBe(302);
    expect(callback.headers.get('location')).toBe('/');

    const session = setCookieFor(callback, SESSION_COOKIE)!;
    expect(session).toMatch(/; Path=\/;/);
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Lax/);
    expect(session).toMatch(/; Expires=/);
    // The pending sign-in is used up.
    expect(setCookieFor(callback, OIDC_STATE_COOKIE)).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect(browser.cookies.has(OIDC_STATE_COOKIE)).toBe(false);

    const me = await fetch(`${app}/api/me`, {
      headers: { cookie: `${SESSION_COOKIE}=${browser.cookies.get(SESSION_COOKIE)}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: linkedUserId, email: 'nurse@region.example.se', name: 'Nurse Linked' });

    expect(await auditRows(since)).toEqual([
      {
        action: 'auth.login',
        outcome: 'success',
        actor_kind: 'user',
        actor_user_id: linkedUserId,
        detail: { method: 'oidc' },
      },
    ]);
  });

  it('does not let a callback be replayed, with or without the cookie', async () => {
    const browser = new Browser();
    const back = await signInAtProvider(browser, `${app}/api/auth/oidc/start`, LINKED_SUBJECT, callbackUrl);
    const sealed = browser.cookies.get(OIDC_STATE_COOKIE)!;
    expect((await browser.get(back)).status).toBe(302);

    const again = await browser.get(back); // the browser dropped the cookie
    expect(again.status).toBe(400);
    expect(await errorCode(again)).toBe('OIDC_FAILED');
    expect(lastReason()).toBe('state_cookie');

    const attacker = new Browser();
    attacker.cookies.set(OIDC_STATE_COOKIE, sealed); // a copy of the cookie: the code is spent
    const replay = await attacker.get(back);
    expect(replay.status).toBe(400);
    expect(await errorCode(replay)).toBe('OIDC_FAILED');
    expect(lastReason()).toBe('token_endpoint:invalid_grant');
    expect(setCookieFor(replay, SESSION_COOKIE)).toBeUndefined();
  });

  it('refuses an identity no account is linked to: 403 OIDC_UNKNOWN_ACCOUNT, audited without the subject', async () => {
    const since = await lastAuditId();
    const stranger = 'SE2321000016-ZZZZ';
    const browser = new Browser();
    const back = await signInAtProvider(browser, `${app}/api/auth/oidc/start`, stranger, callbackUrl);
    const callback = await browser.get(back);
    expect(callback.status).toBe(403);
    expect(await errorCode(callback)).toBe('OIDC_UNKNOWN_ACCOUNT');
    expect(setCookieFor(callback, SESSION_COOKIE)).toBeUndefined();
    expect(browser.cookies.has(OIDC_STATE_COOKIE)).toBe(false);

    const rows = await auditRows(since);
    expect(rows).toEqual([
      {
        action: 'auth.login',
        outcome: 'failure',
        actor_kind: 'system',
        actor_user_id: null,
        detail: { reason: 'unknown_subject' },
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(stranger);
    const created = await env.system.db.pool.query('select 1 from users where external_subject = $1', [stranger]);
    expect(created.rowCount).toBe(0);
  });

  it('refuses a disabled account', async () => {
    const subject = 'SE2321000016-DSBL';
    const user = await sys.post('/api/users', { email: 'gone@region.example.se', name: 'Gone', password: PASSWORD });
    await linkExternalIdentity(env.system.db.pool, user.body.id, oidc.issuer, subject);
    await env.system.db.pool.query('update users set disabled_at = now() where id = $1', [user.body.id]);
    const browser = new Browser();
    const callback = await browser.get(
      await signInAtProvider(browser, `${app}/api/auth/oidc/start`, subject, callbackUrl),
    );
    expect(callback.status).toBe(403);
    expect(await errorCode(callback)).toBe('ACCOUNT_DISABLED');
    expect(setCookieFor(callback, SESSION_COOKIE)).toBeUndefined();
  });

  it('refuses a tampered state cookie, or one from another sign-in: 400 OIDC_FAILED', async () => {
    const browser = new Browser();
    const back = await signInAtProvider(browser, `${app}/api/auth/oidc/start`, LINKED_SUBJECT, callbackUrl);
    const sealed = browser.cookies.get(OIDC_STATE_COOKIE)!;

    const middle = Math.floor(sealed.length / 2);
    const flipped = sealed.slice(0, middle) + (sealed[middle] === 'A' ? 'B' : 'A') + sealed.slice(middle + 1);
    browser.cookies.set(OIDC_STATE_COOKIE, flipped);
    const tampered = await browser.get(back);
    expect(tampered.status).toBe(400);
    expect(await errorCode(tampered)).toBe('OIDC_FAILED');
    expect(lastReason()).toBe('state_cookie');
    expect(setCookieFor(tampered, SESSION_COOKIE)).toBeUndefined();

    // A genuine cookie, but of a sign-in started in another tab: the state does not match.
    const other = new Browser();
    await other.get(`${app}/api/auth/oidc/start`);
    browser.cookies.set(OIDC_STATE_COOKIE, other.cookies.get(OIDC_STATE_COOKIE)!);
    const mismatched = await browser.get(back);
    expect(mismatched.status).toBe(400);
    expect(await errorCode(mismatched)).toBe('OIDC_FAILED');
    // Opened, then refused by openid-client's state check.
    expect(lastReason()).toBe('OAUTH_INVALID_RESPONSE');

    browser.cookies.delete(OIDC_STATE_COOKIE);
    const missing = await browser.get(back);
    expect(missing.status).toBe(400);
    expect(await errorCode(missing)).toBe('OIDC_FAILED');
    expect(lastReason()).toBe('state_cookie');
    // Whatever happened, the code was never redeemed: it still works with the right cookie.
    browser.cookies.set(OIDC_STATE_COOKIE, sealed);
    expect((await browser.get(back)).status).toBe(302);
  });

  it('answers 400 OIDC_FAILED when the provider reports an error (the person cancelled)', async () => {
    const browser = new Browser();
    let url = location(await browser.get(`${app}/api/auth/oidc/start`), app);
    while (!/\/interaction\/[^/]+$/.test(new URL(url).pathname)) url = location(await browser.get(url), url);
    const aborted = await browser.get(`${url}/abort`);
    let back = location(aborted, url);
    while (!back.startsWith(callbackUrl)) back = location(await browser.get(back), back);
    expect(new URL(back).searchParams.get('error')).toBe('access_denied');
    const callback = await browser.get(back);
    expect(callback.status).toBe(400);
    expect(await errorCode(callback)).toBe('OIDC_FAILED');
    expect(lastReason()).toBe('provider:access_denied');
  });

  it('answers 503 OIDC_UNAVAILABLE while the issuer is unreachable, and recovers once it is back', async () => {
    const deadPort = await freePort();
    const unreachable = createOidcLogin({
      issuer: `http://127.0.0.1:${deadPort}`,
      clientId: CLIENT.id,
      clientSecret: CLIENT.secret,
      redirectUrl: callbackUrl,
      scopes: 'openid',
    });
    const other = await serveGlucoboard(0, unreachable);
    const browser = new Browser();
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await browser.get(`${other}/api/auth/oidc/start`);
      expect(answer.status).toBe(503);
      expect(await errorCode(answer)).toBe('OIDC_UNAVAILABLE');
      expect(setCookieFor(answer, OIDC_STATE_COOKIE)).toBeUndefined();
      expect(lastReason()).toBe('discovery:unreachable');
    }
    // The failure is not remembered: once the provider answers, sign-in starts.
    const late = await startProvider(deadPort, [callbackUrl]);
    let state: string;
    try {
      const start = await browser.get(`${other}/api/auth/oidc/start`);
      expect(start.status).toBe(302);
      const target = new URL(start.headers.get('location')!);
      expect(target.href).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${deadPort}/auth\\?`));
      state = target.searchParams.get('state')!;
    } finally {
      await late.close();
    }
    // Gone again before the code is exchanged: unavailable, not a failed sign-in.
    const params = new URLSearchParams({ code: 'a-code', state, iss: `http://127.0.0.1:${deadPort}` });
    const callback = await browser.get(`${other}/api/auth/oidc/callback?${params}`);
    expect(callback.status).toBe(503);
    expect(await errorCode(callback)).toBe('OIDC_UNAVAILABLE');
    expect(lastReason()).toBe('token_endpoint:unreachable');
  });
});

// --- Through the whole system ---------------------------------------------------------------------
// The same sign-in, served by startSystem itself with OIDC_* set and password sign-in off.

/** The whole system served by startSystem with OIDC_* set, and a real provider of its own. */
async function systemWithProvider(env: Record<string, string> = {}) {
  const port = await freePort();
  const callback = `http://127.0.0.1:${port}/api/auth/oidc/callback`;
  const idp = await startProvider(await freePort(), [callback]);
  const whole = await startTestSystem('postgres', {
    PORT: String(port),
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: CLIENT.id,
    OIDC_CLIENT_SECRET: CLIENT.secret,
    OIDC_REDIRECT_URL: callback,
    ...env,
  });
  return { whole, idp, callback };
}

describe('OIDC sign-in through the running system (OIDC_* set, OIDC_LOCAL_LOGIN=0)', () => {
  let whole: Awaited<ReturnType<typeof startTestSystem>>;
  let idp: RunningProvider;
  let callback: string;

  beforeAll(async () => {
    ({ whole, idp, callback } = await systemWithProvider({ OIDC_LOCAL_LOGIN: '0' }));
  });
  afterAll(async () => {
    await whole?.stop();
    await idp?.close();
  });

  it('signs a linked account in, and GET /api/me answers it', async () => {
    const created = await whole.system.db.pool.query<{ id: string }>(
      "insert into users (email, name) values ('physician@region.example.se', 'Physician Linked') returning id",
    );
    const userId = created.rows[0]!.id;
    await linkExternalIdentity(whole.system.db.pool, userId, idp.issuer, LINKED_SUBJECT);
    const browser = new Browser();
    const start = `${whole.system.url}/api/auth/oidc/start`;
    const back = await browser.get(await signInAtProvider(browser, start, LINKED_SUBJECT, callback));
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe('/');
    const me = await fetch(`${whole.system.url}/api/me`, {
      headers: { cookie: `${SESSION_COOKIE}=${browser.cookies.get(SESSION_COOKIE)}` },
    });
    expect(await me.json()).toMatchObject({ id: userId, email: 'physician@region.example.se' });
  });

  it('answers 403 LOCAL_LOGIN_DISABLED to a password sign-in', async () => {
    const answer = await whole.client().post('/api/auth/login', { email: ADMIN.email, password: ADMIN.password });
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('LOCAL_LOGIN_DISABLED');
  });
});

describe('linking an identity', () => {
  it('lets one identity belong to one account only', async () => {
    const user = await sys.post('/api/users', { email: 'twin@region.example.se', name: 'Twin', password: PASSWORD });
    await expect(
      linkExternalIdentity(env.system.db.pool, user.body.id, oidc.issuer, LINKED_SUBJECT),
    ).rejects.toMatchObject({ status: 409, code: 'IDENTITY_TAKEN' });
    await expect(
      linkExternalIdentity(env.system.db.pool, '00000000-0000-4000-8000-000000000000', oidc.issuer, 'x'),
    ).rejects.toMatchObject({ status: 404 });
  });
});

describe('linking accounts through the API (OIDC configured, password sign-in on)', () => {
  let linking: Awaited<ReturnType<typeof startTestSystem>>;
  beforeAll(async () => {
    linking = await startTestSystem('postgres', {
      OIDC_ISSUER: 'http://127.0.0.1:9/issuer',
      OIDC_CLIENT_ID: CLIENT.id,
      OIDC_CLIENT_SECRET: CLIENT.secret,
      OIDC_REDIRECT_URL: 'http://127.0.0.1:9/api/auth/oidc/callback',
    });
  });
  afterAll(() => linking?.stop());

  it("lets a team's admin link their members only; others' members answer 404", async () => {
    const root = await linking.client().login(ADMIN.email, ADMIN.password);
    const A = await buildTeam(root, linking.system.url, 'Link A');
    const B = await buildTeam(root, linking.system.url, 'Link B');
    const own = await A.admin.request('PUT', `/api/users/${A.nurseId}/identity`, { subject: 'SE2321000016-A1' });
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ userId: A.nurseId, issuer: 'http://127.0.0.1:9/issuer', subject: 'SE2321000016-A1' });
    const stored = await linking.system.db.pool.query(
      'select auth_provider, external_subject from users where id = $1',
      [A.nurseId],
    );
    expect(stored.rows[0]).toEqual({ auth_provider: 'http://127.0.0.1:9/issuer', external_subject: 'SE2321000016-A1' });
    const other = await A.admin.request('PUT', `/api/users/${B.nurseId}/identity`, { subject: 'SE2321000016-B1' });
    expect(other.status).toBe(404);
    expect((await A.nurse.request('PUT', `/api/users/${A.adminId}/identity`, { subject: 'x' })).status).toBe(404);
    const taken = await root.request('PUT', `/api/users/${B.nurseId}/identity`, { subject: 'SE2321000016-A1' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('IDENTITY_TAKEN');
  });
});

// Issue 18 item 2: as team A's admin, take over another account by moving one's own SITHS subject
// to it. Every step of the chain is refused, audited, and the sign-in that would finish it is not
// the victim's.
describe('account takeover through identity linking (real provider, password sign-in on)', () => {
  let whole: Awaited<ReturnType<typeof startTestSystem>>;
  let idp: RunningProvider;
  let callback: string;
  const ADMIN_SUBJECT = 'SE2321000016-ADMA';

  beforeAll(async () => {
    ({ whole, idp, callback } = await systemWithProvider());
  });
  afterAll(async () => {
    await whole?.stop();
    await idp?.close();
  });

  const signInAs = async (subject: string) => {
    const browser = new Browser();
    const back = await browser.get(
      await signInAtProvider(browser, `${whole.system.url}/api/auth/oidc/start`, subject, callback),
    );
    const session = browser.cookies.get(SESSION_COOKIE);
    const me = session
      ? await (
          await fetch(`${whole.system.url}/api/me`, { headers: { cookie: `${SESSION_COOKIE}=${session}` } })
        ).json()
      : undefined;
    return { status: back.status, me: me as { id: string } | undefined };
  };

  it("refuses every step against the sysadmin and another team's member, and audits each", async () => {
    const root = await whole.client().login(ADMIN.email, ADMIN.password);
    const A = await buildTeam(root, whole.system.url, 'Takeover A');
    const B = await buildTeam(root, whole.system.url, 'Takeover B');
    const sysadminId = (await root.get('/api/me')).body.id as string;
    // The sysadmin works in team A too; team B's nurse also helps out in team A.
    expect((await root.post(`/api/teams/${A.teamId}/members`, { userId: sysadminId, role: 'physician' })).status).toBe(
      201,
    );
    expect((await root.post(`/api/teams/${A.teamId}/members`, { userId: B.nurseId, role: 'nurse' })).status).toBe(201);
    expect((await root.request('PUT', `/api/users/${A.adminId}/identity`, { subject: ADMIN_SUBJECT })).status).toBe(
      200,
    );
    expect((await signInAs(ADMIN_SUBJECT)).me?.id).toBe(A.adminId);

    // The attack, step by step, as team A's admin.
    const found = await A.admin.get(`/api/users?email=${encodeURIComponent(ADMIN.email)}`);
    expect(found.body.users[0].id).toBe(sysadminId);
    const outsider = await buildTeam(root, whole.system.url, 'Takeover C');
    const add = await A.admin.post(`/api/teams/${A.teamId}/members`, { userId: outsider.nurseId, role: 'nurse' });
    expect(add.status).toBe(403);
    expect(add.body.error.code).toBe('ACCOUNT_BEYOND_TEAMS');
    // Changing the role of someone already in the team stays the team's affair.
    expect(
      (await A.admin.post(`/api/teams/${A.teamId}/members`, { userId: B.nurseId, role: 'physician' })).status,
    ).toBe(201);
    // Moving one's own subject away is one's own account, inside the team: allowed, and audited as a replacement.
    const freed = await A.admin.request('PUT', `/api/users/${A.adminId}/identity`, { subject: 'SE2321000016-SPARE' });
    expect(freed.status).toBe(200);
    for (const victim of [sysadminId, B.nurseId]) {
      const link = await A.admin.request('PUT', `/api/users/${victim}/identity`, { subject: ADMIN_SUBJECT });
      expect(link.status).toBe(403);
      expect(link.body.error.code).toBe('ACCOUNT_BEYOND_TEAMS');
    }
    const stranger = await A.admin.request('PUT', `/api/users/${outsider.nurseId}/identity`, {
      subject: ADMIN_SUBJECT,
    });
    expect(stranger.status).toBe(404);

    // The sign-in that would have finished it reaches no account at all.
    const after = await signInAs(ADMIN_SUBJECT);
    expect(after.status).toBe(403);
    expect(after.me).toBeUndefined();
    const subjects = await whole.system.db.pool.query<{ id: string; external_subject: string | null }>(
      'select id, external_subject from users where id = any($1::uuid[])',
      [[sysadminId, B.nurseId, outsider.nurseId]],
    );
    expect(subjects.rows.every((r) => r.external_subject === null)).toBe(true);

    const trail = await whole.system.db.pool.query<{
      action: string;
      outcome: string;
      detail: Record<string, unknown>;
    }>(
      `select action, outcome, detail from audit_events where actor_user_id = $1
         and action in ('user.link_identity', 'membership.add') order by id`,
      [A.adminId],
    );
    expect(trail.rows.map((r) => [r.action, r.outcome, r.detail.reason ?? r.detail.replaced ?? null])).toEqual([
      ['membership.add', 'failure', 'beyond_administered_teams'],
      ['membership.add', 'success', null],
      ['user.link_identity', 'success', true],
      ['user.link_identity', 'failure', 'beyond_administered_teams'],
      ['user.link_identity', 'failure', 'beyond_administered_teams'],
      ['user.link_identity', 'failure', 'not_visible'],
    ]);
  });
});
