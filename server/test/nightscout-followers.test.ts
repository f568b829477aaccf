import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, buildTeam, startTestSystem, type TeamFixture } from './support/clinic.ts';
import type { Client } from './support/http.ts';
import { nightscout, sha1, UNAUTHORIZED } from './support/nightscout.ts';
import { aapsCarbs, aapsEntry, xdripEntries, xdripTreatment } from './fixtures/nightscout/clients.ts';

// Issue 13: "Reads for the uploaders and for followers with a read credential, own patient only".
// A follower's token is Nightscout's 'readable' role: `?token=`, api-secret or a JWT, reads only.

describe('Nightscout followers: read-only credentials of one patient', () => {
  let env: Awaited<ReturnType<typeof startTestSystem>>;
  let sys: Client;
  let team: TeamFixture;
  let other: TeamFixture;
  let uploader: string;
  let follower: { id: string; token: string };
  const url = () => env.system.url;
  const at = Date.now() - 10 * 60_000;

  beforeAll(async () => {
    env = await startTestSystem('postgres');
    sys = await env.client().login(ADMIN.email, ADMIN.password);
    team = await buildTeam(sys, env.system.url, 'Follower ward');
    other = await buildTeam(sys, env.system.url, 'Other ward');
    const paired = await team.admin.post('/api/devices', {
      serial: 'follow-cgm',
      kind: 'cgm',
      patientId: team.patientId,
    });
    uploader = paired.body.token;
    const entries = await nightscout(url(), '/api/v1/entries', {
      body: xdripEntries([110, 120], at).filter((e) => e.type === 'sgv'),
      headers: { 'api-secret': sha1(uploader) },
    });
    expect(entries.status).toBe(200);
    const treatment = await nightscout(url(), '/api/v1/treatments', {
      body: [xdripTreatment('3d0b4b9e-0000-4000-8000-000000000001', at, { eventType: 'Meal Bolus', carbs: 30 })],
      headers: { 'api-secret': sha1(uploader) },
    });
    expect(treatment.status).toBe(200);
    // The other team's patient has data too, which no follower of ours may see.
    const otherCgm = await other.admin.post('/api/devices', {
      serial: 'other-cgm',
      kind: 'cgm',
      patientId: other.patientId,
    });
    await nightscout(url(), '/api/v1/entries', {
      body: xdripEntries([200], at),
      headers: { 'api-secret': sha1(otherCgm.body.token) },
    });
  });

  afterAll(() => env?.stop());

  it('is made by a team admin (token shown once), listed for the team without it, refused to a nurse', async () => {
    const made = await team.admin.post(`/api/patients/${team.patientId}/followers`, { name: "Parent's phone" });
    expect(made.status).toBe(201);
    expect(made.body).toEqual({
      id: expect.any(String),
      name: "Parent's phone",
      token: expect.stringMatching(/^[\w-]{32}$/),
      createdAt: expect.any(String),
      createdBy: expect.any(String),
      lastUsedAt: null,
      revokedAt: null,
    });
    follower = { id: made.body.id, token: made.body.token };

    const byNurse = await team.nurse.post(`/api/patients/${team.patientId}/followers`, { name: 'X' });
    expect(byNurse.status).toBe(403);
    expect(byNurse.body.error.code).toBe('FORBIDDEN');
    const blank = await team.admin.post(`/api/patients/${team.patientId}/followers`, { name: ' ' });
    expect(blank.status).toBe(400);
    expect(blank.body.error.field).toBe('name');

    const listed = await team.nurse.get(`/api/patients/${team.patientId}/followers`);
    expect(listed.status).toBe(200);
    expect(listed.body.followers).toEqual([
      expect.objectContaining({ id: follower.id, name: "Parent's phone", revokedAt: null }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(follower.token);

    // Stored as digests only, never the token; made and listed in the audit trail (ids only).
    const stored = await env.system.db.pool.query('select * from nightscout_followers where id = $1', [follower.id]);
    expect(JSON.stringify(stored.rows)).not.toContain(follower.token);
    expect(JSON.stringify(stored.rows)).not.toContain(sha1(follower.token));
    const audit = await env.system.db.pool.query<{ action: string; detail: Record<string, unknown> }>(
      "select action, detail from audit_events where action like 'follower.%' and patient_id = $1 order by id",
      [team.patientId],
    );
    expect(audit.rows).toEqual([
      { action: 'follower.create', detail: { followerId: follower.id } },
      { action: 'follower.list', detail: { count: 1 } },
    ]);
  });

  it("reads its patient's entries, treatments, device status and status with ?token=, api-secret and a JWT (v1)", async () => {
    const forms: Array<{ query: string; headers: Record<string, string> }> = [
      { query: `token=${follower.token}`, headers: {} },
      { query: '', headers: { 'api-secret': sha1(follower.token) } },
    ];
    for (const auth of forms) {
      const q = (path: string) => `${path}${path.includes('?') ? '&' : '?'}${auth.query}`;
      const entries = await nightscout(url(), q('/api/v1/entries.json?count=10'), { headers: auth.headers });
      expect(entries.status).toBe(200);
      expect(entries.body.map((e: { sgv: number }) => e.sgv)).toEqual([120, 110]);
      const sgv = await nightscout(url(), q('/api/v1/entries/sgv.json'), { headers: auth.headers });
      expect(sgv.body).toHaveLength(2);
      const current = await nightscout(url(), q('/api/v1/entries/current.json'), { headers: auth.headers });
      expect(current.body.map((e: { sgv: number }) => e.sgv)).toEqual([120]);
      const treatments = await nightscout(url(), q('/api/v1/treatments.json'), { headers: auth.headers });
      expect(treatments.body).toEqual([expect.objectContaining({ eventType: 'Meal Bolus', carbs: 30 })]);
      const devicestatus = await nightscout(url(), q('/api/v1/devicestatus.json'), { headers: auth.headers });
      expect(devicestatus.status).toBe(200);
      const status = await nightscout(url(), q('/api/v1/status.json'), { headers: auth.headers });
      expect(status.body.settings.thresholds).toEqual({ bgHigh: 360, bgTargetTop: 250, bgTargetBottom: 72, bgLow: 54 });
      const verify = await nightscout(url(), q('/api/v1/verifyauth'), { headers: auth.headers });
      // What cgm-remote-monitor answers a 'readable' token.
      expect(verify.body).toEqual({
        status: 200,
        message: {
          canRead: true,
          canWrite: false,
          isAdmin: false,
          message: 'OK',
          rolefound: 'FOUND',
          permissions: 'ROLE',
        },
      });
    }

    const issued = await nightscout(url(), `/api/v2/authorization/request/${follower.token}`);
    expect(issued.status).toBe(200);
    expect(issued.body).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      sub: "Parent's phone",
      permissionGroups: [['*:*:read']],
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
    const bearer = { authorization: `Bearer ${issued.body.token}` };
    const entries = await nightscout(url(), '/api/v1/entries?count=1', { headers: bearer });
    expect(entries.body.map((e: { sgv: number }) => e.sgv)).toEqual([120]);
    const seen = await env.system.db.pool.query('select last_used_at from nightscout_followers where id = $1', [
      follower.id,
    ]);
    expect(seen.rows[0].last_used_at).toBeInstanceOf(Date);
  });

  it('never writes: v1 answers the 401 of a read-only token, v3 the 403 "Missing permission"', async () => {
    const before = await env.system.db.pool.query('select count(*)::int as n from readings where patient_id = $1', [
      team.patientId,
    ]);
    const forms: Array<Record<string, string>> = [{ 'api-secret': sha1(follower.token) }, {}];
    for (const headers of forms) {
      const query = Object.keys(headers).length ? '' : `?token=${follower.token}`;
      for (const [path, body] of [
        ['/api/v1/entries', xdripEntries([55], Date.now() - 60_000)],
        ['/api/v1/treatments', [xdripTreatment('3d0b4b9e-0000-4000-8000-000000000002', at, { carbs: 5 })]],
        ['/api/v1/devicestatus', [{ device: 'x', created_at: new Date().toISOString(), uploaderBattery: 5 }]],
        ['/api/v1/profile', [{ defaultProfile: 'x', startDate: new Date().toISOString(), store: {} }]],
      ] as const) {
        const answer = await nightscout(url(), `${path}${query}`, { body, headers });
        expect({ path, status: answer.status, body: answer.body }).toEqual({ path, status: 401, body: UNAUTHORIZED });
      }
      const put = await nightscout(url(), `/api/v1/treatments${query}`, { method: 'PUT', body: [], headers });
      expect(put.status).toBe(401);
    }
    const test = await nightscout(url(), `/api/v1/experiments/test?token=${follower.token}`);
    expect(test.body).toEqual(UNAUTHORIZED);

    const jwt = await nightscout(url(), `/api/v2/authorization/request/${follower.token}`);
    const bearer = { authorization: `Bearer ${jwt.body.token}` };
    const entry = await nightscout(url(), '/api/v3/entries', {
      body: aapsEntry(Date.now() - 60_000, 50),
      headers: bearer,
    });
    expect(entry.status).toBe(403);
    expect(entry.body).toEqual({ status: 403, message: 'Missing permission api:entries:create' });
    const carbs = await nightscout(url(), '/api/v3/treatments', { body: aapsCarbs(at, 10), headers: bearer });
    expect(carbs.body).toEqual({ status: 403, message: 'Missing permission api:treatments:create' });
    const found = await nightscout(url(), '/api/v3/treatments?limit=5', { headers: bearer });
    expect(found.status).toBe(200);
    const identifier = found.body.result[0].identifier as string;
    const patch = await nightscout(url(), `/api/v3/treatments/${identifier}`, {
      method: 'PATCH',
      body: { notes: 'changed' },
      headers: bearer,
    });
    expect(patch.body).toEqual({ status: 403, message: 'Missing permission api:treatments:update' });
    const remove = await nightscout(url(), `/api/v3/treatments/${identifier}`, { method: 'DELETE', headers: bearer });
    expect(remove.body).toEqual({ status: 403, message: 'Missing permission api:treatments:delete' });

    const after = await env.system.db.pool.query('select count(*)::int as n from readings where patient_id = $1', [
      team.patientId,
    ]);
    expect(after.rows[0].n).toBe(before.rows[0].n);
    const treatments = await env.system.db.pool.query(
      "select doc from nightscout_documents where collection = 'treatments' and patient_id = $1",
      [team.patientId],
    );
    expect(treatments.rows.map((r) => r.doc.notes ?? null)).toEqual([null]);
  });

  it('reads over v3 (search, history, lastModified, status with read-only apiPermissions)', async () => {
    const jwt = await nightscout(url(), `/api/v2/authorization/request/${sha1(follower.token)}`);
    const bearer = { authorization: `Bearer ${jwt.body.token}` };
    const entries = await nightscout(url(), '/api/v3/entries?limit=10&sort$desc=date', { headers: bearer });
    expect(entries.status).toBe(200);
    expect(entries.body.result.map((e: { sgv: number }) => e.sgv)).toEqual([120, 110]);
    const history = await nightscout(url(), '/api/v3/treatments/history/0', { headers: bearer });
    expect(history.body.result).toHaveLength(1);
    const status = await nightscout(url(), '/api/v3/status', { headers: bearer });
    expect(status.body.result.apiPermissions).toEqual({
      entries: 'r',
      treatments: 'r',
      devicestatus: 'r',
      profile: 'r',
      food: 'r',
      settings: 'r',
    });
    const lastModified = await nightscout(url(), '/api/v3/lastModified', { headers: bearer });
    expect(lastModified.body.result.collections).toHaveProperty('entries');
  });

  it("puts every read of the patient's data in the audit trail, with the follower or the uploader as actor", async () => {
    const reads = async (kind: string) =>
      (
        await env.system.db.pool.query<{ n: number }>(
          `select count(*)::int as n from audit_events where action = 'nightscout.read' and actor_kind = $1
             and patient_id = $2 and team_id = $3 and detail->>'path' like '/api/v1/entries%'`,
          [kind, team.patientId, team.teamId],
        )
      ).rows[0]!.n;
    const [followersBefore, devicesBefore] = [await reads('follower'), await reads('device')];
    expect((await nightscout(url(), `/api/v1/entries.json?token=${follower.token}`)).status).toBe(200);
    expect(
      (await nightscout(url(), '/api/v1/entries.json', { headers: { 'api-secret': sha1(uploader) } })).status,
    ).toBe(200);
    await expect.poll(() => reads('follower')).toBe(followersBefore + 1);
    await expect.poll(() => reads('device')).toBe(devicesBefore + 1);
    const named = await env.system.db.pool.query(
      `select 1 from audit_events where action = 'nightscout.read' and actor_follower = $1`,
      [follower.id],
    );
    expect(named.rowCount).toBeGreaterThan(0);
    // The status and the credential check carry no patient data and are not counted as reads of it.
    const anyRead = async () =>
      (
        await env.system.db.pool.query(
          `select 1 from audit_events where action = 'nightscout.read' and actor_follower = $1`,
          [follower.id],
        )
      ).rowCount;
    const before = await anyRead();
    expect((await nightscout(url(), `/api/v1/status.json?token=${follower.token}`)).status).toBe(200);
    expect((await nightscout(url(), `/api/v1/verifyauth?token=${follower.token}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await anyRead()).toBe(before);
  });

  it('reaches its own patient only', async () => {
    const entries = await nightscout(url(), `/api/v1/entries.json?count=100&token=${follower.token}`);
    expect(entries.body.map((e: { sgv: number }) => e.sgv)).not.toContain(200);
    const byOtherAdmin = await other.admin.get(`/api/patients/${team.patientId}/followers`);
    expect(byOtherAdmin.status).toBe(404);
    // A follower id of another patient is not found through this patient.
    const otherMade = await other.admin.post(`/api/patients/${other.patientId}/followers`, { name: 'Other' });
    const crossed = await team.admin.request(
      'DELETE',
      `/api/patients/${team.patientId}/followers/${otherMade.body.id}`,
    );
    expect(crossed.status).toBe(404);
    expect(crossed.body.error.code).toBe('NOT_FOUND');
  });

  it('is cut off at once when revoked: token, api-secret and its JWT answer 401', async () => {
    const jwt = await nightscout(url(), `/api/v2/authorization/request/${follower.token}`);
    const revoked = await team.admin.request('DELETE', `/api/patients/${team.patientId}/followers/${follower.id}`);
    expect(revoked.status).toBe(204);
    for (const call of [
      nightscout(url(), `/api/v1/entries.json?token=${follower.token}`),
      nightscout(url(), '/api/v1/treatments.json', { headers: { 'api-secret': sha1(follower.token) } }),
      nightscout(url(), '/api/v1/entries.json', { headers: { authorization: `Bearer ${jwt.body.token}` } }),
      nightscout(url(), `/api/v2/authorization/request/${follower.token}`),
    ]) {
      const answer = await call;
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual(UNAUTHORIZED);
    }
    const v3 = await nightscout(url(), '/api/v3/entries', { headers: { authorization: `Bearer ${jwt.body.token}` } });
    expect(v3.body).toEqual({ status: 401, message: 'Bad access token or JWT' });
    const listed = await team.admin.get(`/api/patients/${team.patientId}/followers`);
    expect(listed.body.followers).toEqual([
      expect.objectContaining({ id: follower.id, revokedAt: expect.any(String) }),
    ]);
    const audit = await env.system.db.pool.query(
      "select actor_user_id from audit_events where action = 'follower.revoke' and detail->>'followerId' = $1",
      [follower.id],
    );
    expect(audit.rows).toEqual([{ actor_user_id: team.adminId }]);
  });
});
