import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '@glucoboard/core/test-support/databases';
import { ADMIN, buildTeam, startTestSystem, type TeamFixture } from './support/clinic.ts';
import type { Client } from './support/http.ts';
import { nightscout, sha1, sha512, UNAUTHORIZED } from './support/nightscout.ts';
import { Sockets } from './support/sockets.ts';
import { libreLinkUpV1, xdripEntries } from './fixtures/nightscout/clients.ts';

// Issue 13: an unmodified Nightscout uploader pointed at Glucoboard with a device token as its API
// secret fills that patient's board, live and exactly once. Real server, PostgreSQL and Redis.

const MGDL_PER_MMOL = 18.0156;

describe.each(BACKENDS)('Nightscout API v1: credentials and entries into the pipeline (%s)', (backend) => {
  let env: Awaited<ReturnType<typeof startTestSystem>>;
  let sys: Client;
  let team: TeamFixture;
  let cgm: { deviceId: string; token: string };
  const sockets = new Sockets(() => env.system.url);
  const url = () => env.system.url;
  const readings = async (patientId: string) =>
    (
      await env.system.db.pool.query<{ mmol: number; kind: string; measured_at: Date; seq: string }>(
        'select mmol, kind, measured_at, seq from readings where patient_id = $1 order by measured_at',
        [patientId],
      )
    ).rows;

  /** A CGM paired through the People API, as the admin UI does it. */
  async function pairCgm(serial: string, patientId = team.patientId) {
    const paired = await team.admin.post('/api/devices', { serial, kind: 'cgm', patientId });
    expect(paired.status).toBe(201);
    return { deviceId: paired.body.deviceId as string, token: paired.body.token as string };
  }

  beforeAll(async () => {
    env = await startTestSystem(backend);
    sys = await env.client().login(ADMIN.email, ADMIN.password);
    team = await buildTeam(sys, env.system.url, 'Nightscout ward');
    cgm = await pairCgm('xdrip-phone-1');
  });

  afterAll(async () => {
    sockets.closeAll();
    await env?.stop();
  });

  it('refuses a missing or wrong secret with Nightscout 401 body, on every path', async () => {
    const entry = xdripEntries([120]).slice(0, 1);
    for (const call of [
      nightscout(url(), '/api/v1/entries', { body: entry }),
      nightscout(url(), '/api/v1/entries', { body: entry, headers: { 'api-secret': sha1('not the token') } }),
      nightscout(url(), '/api/v1/entries.json', { headers: { 'api-secret': 'x'.repeat(40) } }),
      nightscout(url(), '/api/v1/treatments', { body: {} }),
      nightscout(url(), '/api/v1/devicestatus.json'),
      nightscout(url(), '/api/v1/experiments/test'),
      nightscout(url(), `/api/v2/authorization/request/${'a'.repeat(32)}`),
      nightscout(url(), '/api/v1/entries', { headers: { authorization: 'Bearer not.a.jwt' } }),
    ]) {
      const answer = await call;
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual(UNAUTHORIZED);
    }
    const verify = await nightscout(url(), '/api/v1/verifyauth', { headers: { 'api-secret': sha1('wrong') } });
    expect(verify.status).toBe(200);
    expect(verify.body).toEqual({
      status: 200,
      message: {
        canRead: false,
        canWrite: false,
        isAdmin: false,
        message: 'UNAUTHORIZED',
        rolefound: 'NOTFOUND',
        permissions: 'DEFAULT',
      },
    });
  });

  it('accepts every way Nightscout clients send the secret', async () => {
    const forms: Array<[string, string, Record<string, string>, Record<string, unknown>?]> = [
      ['api-secret SHA-1', '/api/v1/experiments/test', { 'api-secret': sha1(cgm.token) }],
      ['api-secret SHA-1 upper case', '/api/v1/experiments/test', { 'api-secret': sha1(cgm.token).toUpperCase() }],
      ['api-secret SHA-512', '/api/v1/experiments/test', { 'api-secret': sha512(cgm.token) }],
      ['?secret=', `/api/v1/experiments/test?secret=${sha1(cgm.token)}`, {}],
      ['?token=', `/api/v1/experiments/test?token=${cgm.token}`, {}],
    ];
    for (const [form, path, headers] of forms) {
      const answer = await nightscout(url(), path, { headers });
      expect({ form, status: answer.status, body: answer.body }).toEqual({ form, status: 200, body: { status: 'ok' } });
    }
    // A `secret` in the body authenticates and is never stored.
    const at = Date.now() - 3 * 3600_000;
    const posted = await nightscout(url(), '/api/v1/entries', {
      body: [{ type: 'sgv', sgv: 101, date: at, secret: sha1(cgm.token) }],
    });
    expect(posted.status).toBe(200);
    expect(posted.body[0]).not.toHaveProperty('secret');
    const stored = await env.system.db.pool.query(
      "select doc from nightscout_documents where collection = 'entries' and doc ? 'secret'",
    );
    expect(stored.rowCount).toBe(0);

    // The JWT of /api/v2/authorization/request/<token>: 8 h, usable as Bearer.
    const issued = await nightscout(url(), `/api/v2/authorization/request/${cgm.token}`);
    expect(issued.status).toBe(200);
    expect(issued.body).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      sub: cgm.deviceId,
      permissionGroups: [expect.arrayContaining(['api:*:read', 'api:*:create'])],
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
    expect(issued.body.exp - issued.body.iat).toBe(8 * 3600);
    const withJwt = await nightscout(url(), '/api/v1/verifyauth', {
      headers: { authorization: `Bearer ${issued.body.token}` },
    });
    expect(withJwt.body.message).toMatchObject({ canRead: true, canWrite: true, message: 'OK', rolefound: 'FOUND' });
  });

  it('answers status.json as Nightscout 15 with the team thresholds in mg/dL', async () => {
    const status = await nightscout(url(), '/api/v1/status.json', { headers: { 'api-secret': sha1(cgm.token) } });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      status: 'ok',
      name: 'Glucoboard',
      apiEnabled: true,
      careportalEnabled: true,
      serverTimeEpoch: expect.any(Number),
      serverTime: expect.any(String),
      settings: { units: 'mmol', thresholds: { bgHigh: 360, bgTargetTop: 250, bgTargetBottom: 72, bgLow: 54 } },
    });
    expect(status.body.version).toMatch(/^1\d\.\d+\.\d+$/);
  });

  it('stores a gzipped xDrip+ upload once, as readings in mmol/L, and answers it in request order', async () => {
    const upload = xdripEntries([142, 136.5, 131, 5]); // the last one a sensor error code
    const first = await nightscout(url(), '/api/v1/entries', {
      body: upload,
      gzip: true,
      headers: { 'api-secret': sha1(cgm.token) },
    });
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(upload.length);
    first.body.forEach((doc: Record<string, unknown>, i: number) => {
      expect(doc._id).toMatch(/^[0-9a-f]{24}$/);
      expect(doc.type).toBe(upload[i]!.type);
      expect(doc.date).toBe(upload[i]!.date);
      // dateString and sysTime as Nightscout normalizes them; the +0100 becomes utcOffset.
      expect(doc.sysTime).toBe(new Date(upload[i]!.date).toISOString());
      expect(doc.dateString).toBe(doc.sysTime);
      expect(doc.utcOffset).toBe(60);
    });
    const mine = (await readings(team.patientId)).filter((r) => r.kind === 'cgm' || r.kind === 'bgm');
    const values = mine.map((r) => Math.round(r.mmol * MGDL_PER_MMOL * 10) / 10);
    // 101 from the body-secret test, then 142, 136.5, 131 and the mbg 112; not the error code 5, not the calibration.
    expect(values.sort()).toEqual([101, 112, 131, 136.5, 142].sort());
    expect(mine.find((r) => Math.abs(r.mmol - 142 / MGDL_PER_MMOL) < 1e-9)).toBeDefined();

    // A resend (lost answer) stores nothing new and answers the same documents.
    const again = await nightscout(url(), '/api/v1/entries', {
      body: upload,
      gzip: true,
      headers: { 'api-secret': sha1(cgm.token) },
    });
    expect(again.status).toBe(200);
    expect(again.body.map((d: { _id: string }) => d._id)).toEqual(first.body.map((d: { _id: string }) => d._id));
    expect((await readings(team.patientId)).length).toBe(mine.length);
    const docs = await env.system.db.pool.query("select 1 from nightscout_documents where collection = 'entries'");
    expect(docs.rowCount).toBe(upload.length + 1);

    // Follower reads: newest first, count, type, find filters, Last-Modified and 304.
    const auth = { 'api-secret': sha1(cgm.token) };
    const latest = await nightscout(url(), '/api/v1/entries/sgv.json?count=2', { headers: auth });
    expect(latest.body.map((d: { sgv: number }) => d.sgv)).toEqual([5, 131]);
    const current = await nightscout(url(), '/api/v1/entries/current.json', { headers: auth });
    expect(current.body).toHaveLength(1);
    const since = upload[1]!.date;
    const found = await nightscout(url(), `/api/v1/entries.json?find[date][$gte]=${since}&find[type]=sgv&count=100`, {
      headers: auth,
    });
    expect(found.body.map((d: { sgv: number }) => d.sgv)).toEqual([5, 131, 136.5]);
    const lastModified = latest.headers.get('last-modified')!;
    expect(lastModified).toBe(new Date(upload[3]!.date).toUTCString());
    const unchanged = await nightscout(url(), '/api/v1/entries/sgv.json?count=2', {
      headers: { ...auth, 'if-modified-since': lastModified },
    });
    expect(unchanged.status).toBe(304);
  });

  it('raises the alert of an uploaded hypo on the team board, like a meter reading', async () => {
    const board = await sockets.board(team.nurse.cookie!);
    const hypo = xdripEntries([58, 50, 45]).filter((e) => e.type === 'sgv');
    const posted = await nightscout(url(), '/api/v1/entries', {
      body: hypo,
      headers: { 'api-secret': sha1(cgm.token) },
    });
    expect(posted.status).toBe(200);
    await expect.poll(() => (board.heard.get('reading') ?? []).length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    await expect
      .poll(
        () =>
          ((board.heard.get('alert') ?? []) as Array<{ patientId: string; severity: string }>).filter(
            (a) => a.patientId === team.patientId && a.severity === 'critical',
          ).length,
        { timeout: 10_000 },
      )
      .toBe(1);
  });

  it('feeds the uploader battery to the device status, and stores device status and treatments', async () => {
    const auth = { 'api-secret': sha1(cgm.token) };
    const at = Date.now() - 30_000;
    const status = await nightscout(url(), '/api/v1/devicestatus', {
      body: { device: 'xDrip-DexcomG6', uploader: { battery: 64 }, created_at: new Date(at).toISOString() },
      headers: auth,
    });
    expect(status.status).toBe(200);
    const devices = await team.admin.get(`/api/patients/${team.patientId}/devices`);
    const mine = devices.body.devices.find((d: { deviceId: string }) => d.deviceId === cgm.deviceId);
    expect(mine).toMatchObject({ batteryPercent: 64, lastSeenAt: expect.any(String) });

    // xDrip+ PUTs its treatments one by one (upsert by _id); never a 404 ("enable careportal").
    const treatment = {
      eventType: 'Meal Bolus',
      carbs: '30',
      insulin: 4,
      created_at: new Date(at).toISOString(),
      _id: 'a1b2c3d4e5f6a1b2c3d4e5f6',
      enteredBy: 'xdrip',
    };
    const put = await nightscout(url(), '/api/v1/treatments', { method: 'PUT', body: treatment, headers: auth });
    expect(put.status).toBe(200);
    const edited = await nightscout(url(), '/api/v1/treatments', {
      method: 'PUT',
      body: { ...treatment, carbs: 45 },
      headers: auth,
    });
    expect(edited.status).toBe(200);
    const list = await nightscout(url(), '/api/v1/treatments.json', { headers: auth });
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).toMatchObject({ eventType: 'Meal Bolus', carbs: 45, insulin: 4 });
    // A POST of the same treatment is deduplicated on created_at + eventType.
    const posted = await nightscout(url(), '/api/v1/treatments', {
      body: [{ eventType: 'Meal Bolus', carbs: 45, created_at: new Date(at).toISOString() }],
      headers: auth,
    });
    expect(posted.status).toBe(200);
    expect((await nightscout(url(), '/api/v1/treatments.json', { headers: auth })).body).toHaveLength(1);

    // On the patient timeline: the team reads it as a marker through the People API.
    const markers = await team.nurse.get(`/api/patients/${team.patientId}/treatments`);
    expect(markers.status).toBe(200);
    expect(markers.body.treatments).toEqual([
      {
        at: new Date(at).toISOString(),
        eventType: 'Meal Bolus',
        carbs: 45,
        insulin: 4,
        notes: null,
        deviceId: cgm.deviceId,
      },
    ]);
  });

  it("keeps Loop's profile upload (POST, then PUT by _id) and serves it back", async () => {
    const auth = { 'api-secret': sha1(cgm.token) };
    const profile = {
      defaultProfile: 'Default',
      startDate: new Date(Date.now() - 3600_000).toISOString(),
      units: 'mg/dL',
      enteredBy: 'Loop',
      store: { Default: { dia: 6, timezone: 'Europe/Stockholm', units: 'mg/dL' } },
    };
    const posted = await nightscout(url(), '/api/v1/profile', { body: [profile], headers: auth });
    expect(posted.status).toBe(200);
    const id = posted.body[0]._id as string;
    const put = await nightscout(url(), '/api/v1/profile', {
      method: 'PUT',
      // Loop's edit: same _id, a new start date.
      body: {
        ...profile,
        _id: id,
        startDate: new Date(Date.now() - 1800_000).toISOString(),
        store: { Default: { dia: 5 } },
      },
      headers: auth,
    });
    expect(put.status).toBe(200);
    const profiles = await nightscout(url(), '/api/v1/profile.json', { headers: auth });
    expect(profiles.body).toHaveLength(1);
    expect(profiles.body[0]).toMatchObject({ defaultProfile: 'Default', store: { Default: { dia: 5 } } });
  });

  it('cuts an uploader off at once when its device is rotated or revoked', async () => {
    const phone = await pairCgm('juggluco-phone-2');
    const jwt = (await nightscout(url(), `/api/v2/authorization/request/${phone.token}`)).body.token as string;
    const entry = () => [{ type: 'sgv', sgv: 110, date: Date.now() - 1000 }];
    const bySecret = (token: string) => ({ 'api-secret': sha1(token) });
    expect((await nightscout(url(), '/api/v1/entries', { body: entry(), headers: bySecret(phone.token) })).status).toBe(
      200,
    );

    const rotated = await team.admin.post(`/api/devices/${phone.deviceId}/rotate`);
    expect(rotated.status).toBe(200);
    for (const headers of [bySecret(phone.token), { authorization: `Bearer ${jwt}` }]) {
      const old = await nightscout(url(), '/api/v1/entries', { body: entry(), headers });
      expect(old.status).toBe(401);
      expect(old.body).toEqual(UNAUTHORIZED);
    }
    const renewed = await nightscout(url(), '/api/v1/entries', {
      body: entry(),
      headers: bySecret(rotated.body.token),
    });
    expect(renewed.status).toBe(200);

    expect((await team.admin.post(`/api/devices/${phone.deviceId}/revoke`)).status).toBe(200);
    const revoked = await nightscout(url(), '/api/v1/entries', {
      body: entry(),
      headers: bySecret(rotated.body.token),
    });
    expect(revoked.status).toBe(401);
  });

  it('serves nightscout-librelink-up: its upload, then its lastEntry read (?count=1, pop)', async () => {
    const libre = await pairCgm(
      'librelink-up-1',
      (await team.admin.post('/api/patients', { name: 'Libre patient', teamId: team.teamId })).body.id,
    );
    const headers = { 'api-secret': sha1(libre.token), 'user-agent': 'FreeStyle LibreLink Up NightScout Uploader' };
    const at = Date.now() - 90_000;
    const upload = [libreLinkUpV1(at - 60_000, 99), libreLinkUpV1(at, 104)];
    expect((await nightscout(url(), '/api/v1/entries', { body: upload, headers })).status).toBe(200);
    const last = await nightscout(url(), '/api/v1/entries?count=1', { headers });
    expect(last.status).toBe(200);
    expect(last.body.pop()).toMatchObject({ sgv: 104, date: at, direction: 'FortyFiveUp', utcOffset: 0 });
  });

  it('reaches only its own patient', async () => {
    const other = await team.admin.post('/api/patients', { name: 'Another patient', teamId: team.teamId });
    const otherCgm = await pairCgm('other-phone', other.body.id);
    const at = Date.now() - 10_000;
    await nightscout(url(), '/api/v1/entries', {
      body: [{ type: 'sgv', sgv: 177, date: at, device: 'other' }],
      headers: { 'api-secret': sha1(otherCgm.token) },
    });
    const mine = await nightscout(url(), '/api/v1/entries.json?count=1000', {
      headers: { 'api-secret': sha1(cgm.token) },
    });
    expect(mine.body.some((d: { sgv: number }) => d.sgv === 177)).toBe(false);
    const theirs = await nightscout(url(), '/api/v1/entries.json', { headers: { 'api-secret': sha1(otherCgm.token) } });
    expect(theirs.body.map((d: { sgv: number }) => d.sgv)).toEqual([177]);
  });

  it('throttles repeated wrong secrets per key with 429 and Retry-After, never a right one', async () => {
    const wrong = { 'api-secret': sha1('a stale secret an app keeps retrying') };
    const answers = [];
    for (let i = 0; i < 11; i++)
      answers.push((await nightscout(url(), '/api/v1/experiments/test', { headers: wrong })).status);
    expect(answers.slice(0, 10)).toEqual(Array(10).fill(401));
    const throttled = await nightscout(url(), '/api/v1/experiments/test', { headers: wrong });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    const right = await nightscout(url(), '/api/v1/experiments/test', { headers: { 'api-secret': sha1(cgm.token) } });
    expect(right.status).toBe(200);
  });
});
