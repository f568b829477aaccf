import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../src/api/index.ts';
import type { ApiDependencies } from '../src/api/context.ts';
import { buildTeam, PASSWORD, startClinic, type Clinic, type TeamFixture } from './support/clinic.ts';
import type { Client } from './support/http.ts';

let env: Clinic;
let sys: Client;
let A: TeamFixture;
let B: TeamFixture;
let bAlertId: string;
let bSnoozeId: string;
let bClientId: string;
let bFollowerId: string;

beforeAll(async () => {
  [env, A, B] = await startClinic('Team A', 'Team B');
  sys = env.sysadmin;
  // An alert and a snooze of team B's patient, as the workers and a B nurse would make them.
  const alert = await env.system.db.pool.query<{ id: string }>(
    `insert into alerts (patient_id, team_id, rule, severity, state) values ($1, $2, 'no_data', 'warning', 'open') returning id`,
    [B.patientId, B.teamId],
  );
  bAlertId = alert.rows[0]!.id;
  const snooze = await B.nurse.post(`/api/patients/${B.patientId}/snoozes`, { rule: 'high', minutes: 60 });
  bSnoozeId = snooze.body.snooze.id;
  const client = await B.admin.post(`/api/teams/${B.teamId}/api-clients`, { name: 'Team B import' });
  bClientId = client.body.clientId;
  const follower = await B.admin.post(`/api/patients/${B.patientId}/followers`, { name: 'Parent of B' });
  bFollowerId = follower.body.id;
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
  'GET /api/patients/:id/treatments': (b) => ({ path: `/api/patients/${b.patientId}/treatments` }),
  'GET /api/patients/:id/followers': (b) => ({ path: `/api/patients/${b.patientId}/followers` }),
  'POST /api/patients/:id/followers': (b) => ({ path: `/api/patients/${b.patientId}/followers`, body: { name: 'X' } }),
  'DELETE /api/patients/:id/followers/:followerId': (b) => ({
    path: `/api/patients/${b.patientId}/followers/${bFollowerId}`,
  }),
  'GET /api/patients/:id/meter': (b) => ({ path: `/api/patients/${b.patientId}/meter?serial=METER-X1` }),
  'POST /api/patients/:id/meter/pair': (b) => ({
    path: `/api/patients/${b.patientId}/meter/pair`,
    body: { serial: 'METER-X1' },
  }),
  'POST /api/patients/:id/meter/readings': (b) => ({
    path: `/api/patients/${b.patientId}/meter/readings`,
    body: { serial: b.deviceId, readings: [{ seq: 1, measuredAt: new Date().toISOString(), mmol: 5.5 }] },
  }),
  'GET /api/patients/:id/meter/transfers': (b) => ({ path: `/api/patients/${b.patientId}/meter/transfers` }),
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
  'POST /api/devices/:deviceId/lend': (b, a) => ({
    path: `/api/devices/${b.deviceId}/lend`,
    body: { patientId: a.patientId },
  }),
  'POST /api/devices/:deviceId/replace': (b) => ({
    path: `/api/devices/${b.deviceId}/replace`,
    body: { newSerial: 'intruder-replacement', reason: 'defect' },
  }),
  'POST /api/devices/:deviceId/reactivate': (b) => ({ path: `/api/devices/${b.deviceId}/reactivate`, body: {} }),
  'GET /api/devices/:deviceId/history': (b) => ({ path: `/api/devices/${b.deviceId}/history` }),
  'GET /api/patients/:id/device-history': (b) => ({ path: `/api/patients/${b.patientId}/device-history` }),
  'GET /api/teams/:teamId/device-replacements': (b) => ({ path: `/api/teams/${b.teamId}/device-replacements` }),
  'PATCH /api/teams/:teamId': (b) => ({ path: `/api/teams/${b.teamId}`, body: { escalateAfterMinutes: 5 } }),
  'GET /api/teams/:teamId/members': (b) => ({ path: `/api/teams/${b.teamId}/members` }),
  'POST /api/teams/:teamId/members': (b, a) => ({
    path: `/api/teams/${b.teamId}/members`,
    body: { userId: a.nurseId, role: 'nurse' },
  }),
  'DELETE /api/teams/:teamId/members/:userId': (b) => ({ path: `/api/teams/${b.teamId}/members/${b.nurseId}` }),
  'GET /api/teams/:teamId/thresholds': (b) => ({ path: `/api/teams/${b.teamId}/thresholds` }),
  'GET /api/teams/:teamId/api-clients': (b) => ({ path: `/api/teams/${b.teamId}/api-clients` }),
  'POST /api/teams/:teamId/api-clients': (b) => ({
    path: `/api/teams/${b.teamId}/api-clients`,
    body: { name: 'Intruder' },
  }),
  'POST /api/teams/:teamId/api-clients/:clientId/revoke': (b) => ({
    path: `/api/teams/${b.teamId}/api-clients/${bClientId}/revoke`,
    body: {},
  }),
  'PUT /api/teams/:teamId/thresholds': (b) => ({ path: `/api/teams/${b.teamId}/thresholds`, body: { low: 4.2 } }),
  'GET /api/audit': (b) => ({ path: `/api/audit?patientId=${b.patientId}` }),
  'GET /api/teams/:teamId/audit-review': (b) => ({ path: `/api/teams/${b.teamId}/audit-review` }),
  'GET /api/teams/:teamId/audit-reviews': (b) => ({ path: `/api/teams/${b.teamId}/audit-reviews` }),
  'POST /api/teams/:teamId/audit-reviews': (b) => ({
    path: `/api/teams/${b.teamId}/audit-reviews`,
    body: { from: '2026-01-01T00:00:00Z', to: '2026-01-31T00:00:00Z' },
  }),
  'GET /api/alerts': (b) => ({ path: `/api/alerts?teamId=${b.teamId}` }),
  'GET /api/board': (b) => ({ path: `/api/board?teamId=${b.teamId}` }),
  'GET /api/teams/:teamId/report': (b) => ({ path: `/api/teams/${b.teamId}/report?format=csv` }),
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
  // The calling device's own high-water mark (its credential names it; no team object).
  'GET /api/devices/me/high-water',
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
    const clients = await B.admin.get(`/api/teams/${B.teamId}/api-clients`);
    expect(clients.body.apiClients).toEqual([expect.objectContaining({ clientId: bClientId, revokedAt: null })]);
    const followers = await B.admin.get(`/api/patients/${B.patientId}/followers`);
    expect(followers.body.followers).toEqual([expect.objectContaining({ id: bFollowerId, revokedAt: null })]);
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
