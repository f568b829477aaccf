import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nightscoutIdentifier } from '@glucoboard/core/wire';
import { ADMIN, buildTeam, startTestSystem, type TeamFixture } from './support/clinic.ts';
import { nightscout, sha1 } from './support/nightscout.ts';
import { aapsCarbs, aapsEntry, libreLinkUpV3 } from './fixtures/nightscout/clients.ts';

// Issue 13, API v3 as AndroidAPS NSClientV3 uses it: a JWT from /api/v2/authorization/request,
// then create (201, or 200 with isDeduplication), search and history, with Nightscout's texts.

describe('Nightscout API v3 (AndroidAPS NSClientV3)', () => {
  let env: Awaited<ReturnType<typeof startTestSystem>>;
  let team: TeamFixture;
  let token: string;
  let bearer: Record<string, string>;
  const url = () => env.system.url;

  beforeAll(async () => {
    env = await startTestSystem('postgres');
    const sys = await env.client().login(ADMIN.email, ADMIN.password);
    team = await buildTeam(sys, env.system.url, 'AAPS ward');
    const paired = await team.admin.post('/api/devices', {
      serial: 'aaps-phone',
      kind: 'cgm',
      patientId: team.patientId,
    });
    token = paired.body.token;
    const jwt = await nightscout(url(), `/api/v2/authorization/request/${token}`);
    bearer = { authorization: `Bearer ${jwt.body.token}` };
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('takes the Bearer JWT only: 401 with Nightscout v3 texts otherwise', async () => {
    const doc = aapsEntry(Date.now() - 60_000, 120);
    const missing = await nightscout(url(), '/api/v3/entries', { body: doc });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ status: 401, message: 'Missing or bad access token or JWT' });
    const bySecret = await nightscout(url(), '/api/v3/entries', { body: doc, headers: { 'api-secret': sha1(token) } });
    expect(bySecret.body).toEqual({ status: 401, message: 'Missing or bad access token or JWT' });
    const bad = await nightscout(url(), '/api/v3/entries', { body: doc, headers: { authorization: 'Bearer x.y.z' } });
    expect(bad.body).toEqual({ status: 401, message: 'Bad access token or JWT' });
  });

  it('creates an entry as a reading (201, Location), deduplicates a resend (200, isDeduplication)', async () => {
    const date = Date.now() - 120_000;
    const doc = aapsEntry(date, 72);
    const created = await nightscout(url(), '/api/v3/entries', { body: doc, headers: bearer });
    const identifier = nightscoutIdentifier({ device: doc.device, date });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ status: 201, identifier, lastModified: expect.any(Number) });
    expect(created.headers.get('location')).toBe(`/api/v3/entries/${identifier}`);
    const reading = await env.system.db.pool.query(
      'select mmol from readings where patient_id = $1 and measured_at = $2',
      [team.patientId, new Date(date)],
    );
    expect(reading.rows.map((r) => r.mmol)).toEqual([72 / 18.0156]);

    const again = await nightscout(url(), '/api/v3/entries', { body: doc, headers: bearer });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      status: 200,
      identifier,
      isDeduplication: true,
      lastModified: created.body.lastModified,
    });
    // Same time and type under another identifier: deduplicated on the fallback fields.
    const other = '0d3f8a52-3a3c-4a38-9f0e-2f4d1d9d1c11';
    const byFields = await nightscout(url(), '/api/v3/entries', {
      body: { ...doc, identifier: other },
      headers: bearer,
    });
    expect(byFields.body).toMatchObject({
      status: 200,
      identifier: other,
      isDeduplication: true,
      deduplicatedIdentifier: identifier,
    });
    const count = await env.system.db.pool.query('select 1 from readings where patient_id = $1', [team.patientId]);
    expect(count.rowCount).toBe(1);

    const read = await nightscout(url(), `/api/v3/entries/${identifier}`, { headers: bearer });
    expect(read.body).toMatchObject({ status: 200, result: { identifier, sgv: 72, app: 'AAPS', utcOffset: 60 } });
  });

  it('serves nightscout-librelink-up over v3: JWT from the token, 201 without utcOffset, lastEntry search', async () => {
    const jwt = await nightscout(url(), `/api/v2/authorization/request/${token}`, {
      headers: { accept: 'application/json' },
    });
    const headers = { authorization: `Bearer ${jwt.body.token}` };
    const at = Date.now() - 30_000;
    for (const [i, sgv] of [140, 150].entries()) {
      const created = await nightscout(url(), '/api/v3/entries', { body: libreLinkUpV3(at + i * 1000, sgv), headers });
      expect(created.status).toBe(201);
    }
    const last = await nightscout(url(), '/api/v3/entries?limit=1&sort$desc=date', { headers });
    expect(last.body.result.pop()).toMatchObject({ sgv: 150, utcOffset: 0, app: 'nightscout-librelink-up' });
  });

  it('answers validation failures with the exact texts AndroidAPS branches on', async () => {
    const cases: Array<[unknown, string]> = [
      [{}, 'Bad or missing request body'],
      [{ ...aapsEntry(Date.now(), 100), date: 5 }, 'Bad or missing date field'],
      [{ ...aapsEntry(Date.now(), 100), utcOffset: 2000 }, 'Bad or missing utcOffset field'],
      [{ ...aapsEntry(Date.now(), 100), app: ' ' }, 'Bad or missing app field'],
    ];
    for (const [body, message] of cases) {
      const answer = await nightscout(url(), '/api/v3/entries', { body, headers: bearer });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ status: 400, message });
    }
  });

  it('stores treatments, searches with limit, sort$desc and field$gt, and serves history with ETag', async () => {
    const base = Date.now() - 3600_000;
    for (const [i, carbs] of [10, 20, 30].entries()) {
      const created = await nightscout(url(), '/api/v3/treatments', {
        body: aapsCarbs(base + i * 60_000, carbs),
        headers: bearer,
      });
      expect(created.status).toBe(201);
    }
    const search = await nightscout(url(), `/api/v3/treatments?limit=2&sort$desc=date&date$gt=${base}`, {
      headers: bearer,
    });
    expect(search.status).toBe(200);
    expect(search.body.result.map((t: { carbs: number }) => t.carbs)).toEqual([30, 20]);
    expect(search.body.result[0]).toMatchObject({ eventType: 'Carb Correction', srvModified: expect.any(Number) });
    const bothSorts = await nightscout(url(), '/api/v3/treatments?sort=date&sort$desc=date', { headers: bearer });
    expect(bothSorts.body).toEqual({ status: 400, message: 'Parameters sort and sort_desc cannot be combined' });
    const badLimit = await nightscout(url(), '/api/v3/treatments?limit=5000', { headers: bearer });
    expect(badLimit.body).toEqual({ status: 400, message: 'Parameter limit out of tolerance' });

    const history = await nightscout(url(), '/api/v3/treatments/history/0', { headers: bearer });
    expect(history.body.result).toHaveLength(3);
    const newest = Math.max(...history.body.result.map((t: { srvModified: number }) => t.srvModified));
    expect(history.headers.get('etag')).toBe(`W/"${newest}"`);
    const after = await nightscout(url(), `/api/v3/treatments/history/${newest}`, { headers: bearer });
    expect(after.body).toEqual({ status: 200, result: [] });

    // AndroidAPS's device status carries the phone's battery: it becomes the device's.
    const status3 = await nightscout(url(), '/api/v3/devicestatus', {
      body: {
        app: 'AAPS',
        device: 'openaps://samsung SM-G970F',
        date: Date.now() - 1000,
        uploaderBattery: 77,
        isCharging: false,
      },
      headers: bearer,
    });
    expect(status3.status).toBe(201);
    const devices = await team.admin.get(`/api/patients/${team.patientId}/devices`);
    expect(devices.body.devices.find((d: { deviceId: string }) => d.deviceId === 'aaps-phone').batteryPercent).toBe(77);

    const lastModified = await nightscout(url(), '/api/v3/lastModified', { headers: bearer });
    expect(lastModified.body.result.collections).toMatchObject({ treatments: newest, entries: expect.any(Number) });
    const status = await nightscout(url(), '/api/v3/status', { headers: bearer });
    expect(status.body.result.apiPermissions).toEqual({
      entries: 'crud',
      treatments: 'crud',
      devicestatus: 'crud',
      profile: 'crud',
      food: 'crud',
      settings: 'crud',
    });
  });

  it('patches and soft-deletes a treatment as NSClientV3 does, and keeps profiles, food and settings', async () => {
    const created = await nightscout(url(), '/api/v3/treatments', {
      body: { ...aapsCarbs(Date.now() - 7200_000, 12), identifier: 'b9a4f0c2-5d1e-4c35-8d9b-2a6f3e1c0d47' },
      headers: bearer,
    });
    expect(created.status).toBe(201);
    const item = `/api/v3/treatments/${created.body.identifier}`;
    const patched = await nightscout(url(), item, {
      method: 'PATCH',
      body: { notes: 'juice', carbs: 15 },
      headers: bearer,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ status: 200 });
    expect((await nightscout(url(), item, { headers: bearer })).body.result).toMatchObject({
      carbs: 15,
      notes: 'juice',
    });
    const badPatch = await nightscout(url(), item, { method: 'PATCH', body: { utcOffset: 5000 }, headers: bearer });
    expect(badPatch.body).toEqual({ status: 400, message: 'Bad or missing utcOffset field' });

    const deleted = await nightscout(url(), item, { method: 'DELETE', headers: bearer });
    expect(deleted.status).toBe(204);
    expect((await nightscout(url(), item, { headers: bearer })).body.result.isValid).toBe(false);
    const gone = await nightscout(url(), item, { method: 'PATCH', body: { notes: 'late' }, headers: bearer });
    expect(gone.status).toBe(410);
    const missing = await nightscout(url(), '/api/v3/treatments/no-such-identifier', {
      method: 'DELETE',
      headers: bearer,
    });
    expect(missing.status).toBe(404);

    // AndroidAPS's profile switch store, food and settings: stored, searched, never 404.
    const profile = await nightscout(url(), '/api/v3/profile', {
      body: { app: 'AAPS', date: Date.now() - 1000, defaultProfile: 'Default', store: { Default: { dia: 5 } } },
      headers: bearer,
    });
    expect(profile.status).toBe(201);
    const lastProfile = await nightscout(url(), '/api/v3/profile?sort$desc=date&limit=1', { headers: bearer });
    expect(lastProfile.body.result[0]).toMatchObject({ defaultProfile: 'Default' });
    expect((await nightscout(url(), '/api/v3/food?limit=100', { headers: bearer })).body).toEqual({
      status: 200,
      result: [],
    });
    expect((await nightscout(url(), '/api/v3/settings/history/0', { headers: bearer })).body).toEqual({
      status: 200,
      result: [],
    });
  });
});
