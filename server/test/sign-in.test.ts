import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, PASSWORD, startClinic, startTestSystem, type TeamFixture, type TestSystem } from './support/clinic.ts';
import type { Client } from './support/http.ts';

let env: TestSystem;
let A: TeamFixture;

beforeAll(async () => {
  [env, A] = await startClinic('Team A');
});
afterAll(() => env?.stop());

describe('sign-in', () => {
  it('sets an httpOnly, SameSite=Lax session cookie, and logout ends the session', async () => {
    const tab = env.client();
    const answer = await tab.post('/api/auth/login', { email: ADMIN.email, password: ADMIN.password });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ email: ADMIN.email, sysadmin: true, teams: [] });
    const cookie = answer.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/i); // plain HTTP here; behind TLS see the next test
    expect((await tab.get('/api/me')).status).toBe(200);
    const stale = tab.cookie;
    expect((await tab.post('/api/auth/logout')).status).toBe(204);
    tab.cookie = stale;
    expect((await tab.get('/api/me')).status).toBe(401);
  });

  it('answers 401 with a code for a wrong password or an unknown account, alike', async () => {
    const wrong = await env.client().post('/api/auth/login', { email: ADMIN.email, password: 'not the password' });
    const unknown = await env
      .client()
      .post('/api/auth/login', { email: 'nobody@example.se', password: 'not the password' });
    for (const answer of [wrong, unknown]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: { code: 'INVALID_CREDENTIALS', message: 'wrong e-mail or password' } });
    }
  });

  it('signs out an idle session and an expired one', async () => {
    const tab = await env.client().login('nurse@team-a.example.se', PASSWORD);
    expect((await tab.get('/api/me')).status).toBe(200);
    await env.system.db.pool.query(
      `update sessions set last_seen_at = now() - interval '31 minutes' where user_id = $1`,
      [A.nurseId],
    );
    expect((await tab.get('/api/me')).status).toBe(401);
    const again = await env.client().login('nurse@team-a.example.se', PASSWORD);
    await env.system.db.pool.query(`update sessions set expires_at = now() - interval '1 second' where user_id = $1`, [
      A.nurseId,
    ]);
    expect((await again.get('/api/me')).status).toBe(401);
    A.nurse = await env.client().login('nurse@team-a.example.se', PASSWORD);
  });

  it('refuses cross-site writes and non-JSON writes (CSRF)', async () => {
    const path = `/api/patients/${A.patientId}/review`;
    const evil = await A.nurse.request('POST', path, {}, { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.body.error.code).toBe('CSRF');
    expect((await A.nurse.request('POST', path, {}, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const form = await fetch(`${env.system.url}${path}`, {
      method: 'POST',
      headers: { cookie: A.nurse.cookie!, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(form.status).toBe(415);
    const sameSite = await A.nurse.request(
      'POST',
      path,
      {},
      { origin: env.system.url, 'sec-fetch-site': 'same-origin' },
    );
    expect(sameSite.status).toBe(200);
  });
});

// Issue 18 item 6 and issue 11 item 4: failed sign-ins slow down per account and per source;
// nothing is locked, unknown and real accounts answer alike, successes never count.
describe('sign-in throttle', () => {
  let quiet: Awaited<ReturnType<typeof startTestSystem>>;
  let root: Client;
  beforeAll(async () => {
    // Behind a trusted proxy on loopback, so a test can speak from another address.
    quiet = await startTestSystem('postgres', { TRUST_PROXY: 'loopback' });
    root = await quiet.client().login(ADMIN.email, ADMIN.password);
  });
  afterAll(() => quiet?.stop());

  const attempt = (email: string, password: string) => quiet.client().post('/api/auth/login', { email, password });
  const codeOf = (answer: { status: number; body: { error?: { code: string } } }) =>
    answer.status === 200 ? 'OK' : answer.body.error!.code;

  it('slows an account after five failures, an unknown address exactly alike, and lets the owner in after the wait', async () => {
    await root.post('/api/users', { email: 'guessed@example.se', name: 'Guessed', password: PASSWORD });
    const sequence = async (email: string) => {
      const codes: string[] = [];
      for (let i = 0; i < 6; i++) codes.push(codeOf(await attempt(email, `guess number ${i}`)));
      return codes;
    };
    const real = await sequence('guessed@example.se');
    const unknown = await sequence('nobody-here@example.se');
    const expected = [...Array(5).fill('INVALID_CREDENTIALS'), 'RATE_LIMITED'];
    expect(real).toEqual(expected);
    expect(unknown).toEqual(expected);
    // While the wait runs even the right password waits (nothing is verified), with the same answer.
    const early = await attempt('guessed@example.se', PASSWORD);
    expect(early.status).toBe(429);
    const wait = Number(early.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(2);
    await new Promise((r) => setTimeout(r, wait * 1000 + 100));
    expect((await attempt('guessed@example.se', PASSWORD)).status).toBe(200);
    // A success starts the account afresh.
    expect(codeOf(await attempt('guessed@example.se', 'wrong again'))).toBe('INVALID_CREDENTIALS');
  });

  it('counts concurrent guesses atomically: twelve at once, five checked', async () => {
    await root.post('/api/users', { email: 'burst@example.se', name: 'Burst', password: PASSWORD });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => attempt('burst@example.se', `parallel guess ${i}`)),
    );
    const codes = answers.map(codeOf);
    expect(codes.filter((c) => c === 'INVALID_CREDENTIALS')).toHaveLength(5);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(7);
    const checked = await quiet.system.db.pool.query(
      `select count(*)::int as n from audit_events e join users u on u.id = e.actor_user_id
       where e.action = 'auth.login' and e.detail->>'reason' = 'wrong_password' and u.email = 'burst@example.se'`,
    );
    expect(checked.rows[0].n).toBe(5);
  });

  it('never counts successes: a ward behind one address signs in sixty times at shift change', async () => {
    await root.post('/api/users', { email: 'ward@example.se', name: 'Ward Nurse', password: PASSWORD });
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await attempt('ward@example.se', PASSWORD)).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  it('slows one address that guesses many accounts after fifty failures, without touching other addresses', async () => {
    // Addresses of their own (behind the trusted proxy): the tests above failed from loopback.
    const from = (address: string, email: string) =>
      quiet
        .client()
        .request('POST', '/api/auth/login', { email, password: 'spring2026!' }, { 'x-forwarded-for': address });
    const codes: string[] = [];
    for (let i = 0; i < 50; i++) codes.push(codeOf(await from('203.0.113.9', `spray-${i}@example.se`)));
    expect(codes).toEqual(Array(50).fill('INVALID_CREDENTIALS'));
    const next = await from('203.0.113.9', 'spray-new@example.se');
    expect(codeOf(next)).toBe('RATE_LIMITED');
    expect(Number(next.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(codeOf(await from('198.51.100.7', 'spray-new@example.se'))).toBe('INVALID_CREDENTIALS');
  });
});

describe('behind a TLS-terminating proxy', () => {
  it('marks the session cookie Secure when the trusted proxy says the request came over https', async () => {
    const proxied = await startTestSystem('postgres', { TRUST_PROXY: 'loopback' });
    try {
      const answer = await proxied
        .client()
        .request(
          'POST',
          '/api/auth/login',
          { email: ADMIN.email, password: ADMIN.password },
          { 'x-forwarded-proto': 'https' },
        );
      expect(answer.headers.get('set-cookie')).toMatch(/; Secure/i);
    } finally {
      await proxied.stop();
    }
  });
});
