import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCgmSlots, swedishDayIndex, swedishLocalTime, swedishMinuteOfDay } from '@glucoboard/core/domain';
import { BACKENDS } from '@glucoboard/core/test-support/databases';
import { ADMIN, buildTeam, startTestSystem, type TeamFixture } from './support/clinic.ts';
import type { Client } from './support/http.ts';

// SPEC section 3 "Statistics" and section 4 `GET /api/patients/:id/summary?days=14`: known readings
// go in through the device gateway and manual entry, and the exact numbers come out.
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe.each(BACKENDS)('glucose statistics on the %s backend', (backend) => {
  let env: Awaited<ReturnType<typeof startTestSystem>>;
  let A: TeamFixture;
  let B: TeamFixture;
  /** A second patient of team A, wearing a CGM. */
  let cgmPatientId: string;
  let agpHour: number;
  let seq = 1;

  const gateway = async (deviceId: string, token: string, readings: Array<Record<string, unknown>>) => {
    const answer = await fetch(`${env.system.url}/api/devices/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Device ${deviceId}:${token}` },
      body: JSON.stringify({ readings: readings.map((r) => ({ seq: seq++, ...r })) }),
    });
    expect(await answer.json()).toMatchObject({ ok: true, accepted: readings.length, rejected: [] });
  };
  const minutesAgo = (m: number) => new Date(Date.now() - m * MINUTE).toISOString();

  beforeAll(async () => {
    env = await startTestSystem(backend);
    const sys: Client = await env.client().login(ADMIN.email, ADMIN.password);
    A = await buildTeam(sys, env.system.url, 'Statistics A');
    B = await buildTeam(sys, env.system.url, 'Statistics B');

    // Team A's patient (fingerstick meter): the consensus boundaries, LO and HI, one value typed in
    // by the nurse, a control-solution test, and one reading 20 days back (outside 14 days).
    const typed = await A.nurse.post(`/api/patients/${A.patientId}/readings`, {
      measuredAt: minutesAgo(30),
      mmol: 2.9,
    });
    expect(typed.status).toBe(201);
    await gateway(A.deviceId, A.deviceToken, [
      ...[3.0, 3.8, 3.9, 10.0, 10.1, 13.9, 14.0].map((mmol, i) => ({ measuredAt: minutesAgo(60 * (i + 1)), mmol })),
      { measuredAt: minutesAgo(600), mmol: null, flag: 'LO' },
      { measuredAt: minutesAgo(660), mmol: null, flag: 'HI' },
      { measuredAt: minutesAgo(720), mmol: 25.0, kind: 'control' },
      { measuredAt: minutesAgo(20 * 24 * 60), mmol: 5.5 },
    ]);

    // A CGM wearer: the last hour every 5 minutes at 6.0, and five readings 4..8 mmol/L at the same
    // local hour on five earlier days, half a day away from now so the recent hour is not in that bin.
    const patient = await A.admin.post('/api/patients', { name: 'CGM wearer', teamId: A.teamId });
    cgmPatientId = patient.body.id;
    const sensor = await A.admin.post('/api/devices', {
      serial: `statistics-cgm-${backend}`,
      kind: 'cgm',
      patientId: cgmPatientId,
    });
    const today = swedishDayIndex(Date.now());
    agpHour = (Math.floor(swedishMinuteOfDay(new Date()) / 60) + 12) % 24;
    await gateway(sensor.body.deviceId, sensor.body.token, [
      ...Array.from({ length: 12 }, (_, i) => ({ measuredAt: minutesAgo(1 + 5 * i), mmol: 6.0 })),
      ...[4, 5, 6, 7, 8].map((mmol, k) => ({
        measuredAt: new Date(swedishLocalTime(today - 3 - k, agpHour + k / 60)).toISOString(),
        mmol,
      })),
    ]);
  });
  afterAll(() => env?.stop());

  it('answers the SPEC shape with the numbers computed by hand', async () => {
    const before = Date.now();
    const answer = await A.nurse.get(`/api/patients/${A.patientId}/summary?days=14`);
    expect(answer.status).toBe(200);
    const s = answer.body;
    expect(s.count).toBe(10);
    expect(s.ranges).toEqual({ veryLow: 20, low: 20, inRange: 20, high: 20, veryHigh: 20 });
    // Eight numbers summing to 61.6; LO and HI have none. Squared deviations from 7.7 sum to 163.96.
    expect(s.mean).toBeCloseTo(7.7, 10);
    expect(s.sd).toBeCloseTo(Math.sqrt(163.96 / 7), 10);
    expect(s.cv).toBeCloseTo((100 * Math.sqrt(163.96 / 7)) / 7.7, 8);
    expect(s.gmi).toBeCloseTo(6.6281852704, 8); // 3.31 + 0.02392 x 7.7 x 18.0156
    expect(s.gmiMmolMol).toBeCloseTo(48.945199, 8); // 12.71 + 4.70587 x 7.7
    expect(s.gri).toBe(100); // 3.0·20 + 2.4·20 + 1.6·20 + 0.8·20 = 156, capped
    expect(s.griZone).toBe('E');
    expect(s.readingsPerDay).toBeCloseTo(10 / 14, 10);
    expect(s.dataSufficiency).toBeNull();
    expect(s.monitoring).toBe('bgm');
    expect(s.days).toBe(14);
    const to = Date.parse(s.to);
    expect(to).toBeGreaterThanOrEqual(before - 1000);
    expect(to - Date.parse(s.from)).toBe(14 * DAY);

    const longer = await A.nurse.get(`/api/patients/${A.patientId}/summary?days=30`);
    expect(longer.body).toMatchObject({ count: 11, days: 30 });
    expect(longer.body.ranges.inRange).toBeCloseTo((100 * 3) / 11, 10);
    const byDefault = await A.nurse.get(`/api/patients/${A.patientId}/summary`);
    expect(byDefault.body).toMatchObject({ count: 10, days: 14 });
  });

  it('gives a CGM wearer a data sufficiency, and an AGP by Swedish local time of day', async () => {
    const day = await A.nurse.get(`/api/patients/${cgmPatientId}/summary?days=1`);
    expect(day.body).toMatchObject({ count: 12, mean: 6, readingsPerDay: 12, monitoring: 'cgm' });
    const { from, to } = day.body as { from: string; to: string };
    expect(day.body.dataSufficiency).toBeCloseTo((100 * 12) / expectedCgmSlots(Date.parse(from), Date.parse(to)), 10);

    const agp = await A.nurse.get(`/api/patients/${cgmPatientId}/agp?days=14&binMinutes=60`);
    expect(agp.status).toBe(200);
    expect(agp.body).toMatchObject({ binMinutes: 60, days: 14 });
    expect(agp.body.bins).toHaveLength(24);
    const bin = agp.body.bins[agpHour];
    expect(bin).toMatchObject({ minuteOfDay: agpHour * 60, count: 5 });
    // Type 7 of 4, 5, 6, 7, 8.
    expect([bin.p5, bin.p25, bin.p50, bin.p75, bin.p95].map((p: number) => +p.toFixed(10))).toEqual([
      4.2, 5, 6, 7, 7.8,
    ]);
    const counted = agp.body.bins.reduce((n: number, b: { count: number }) => n + b.count, 0);
    expect(counted).toBe(17);
    expect((await A.nurse.get(`/api/patients/${cgmPatientId}/agp`)).body.bins).toHaveLength(96);
  });

  // Issue 11 item 7: the pregnancy profile (type 1: 3.5-7.8 over 70 %) judges the same readings.
  it("judges the period by the patient's target profile, pregnancy's band 3.5-7.8 included", async () => {
    const standard = (await A.nurse.get(`/api/patients/${A.patientId}/summary`)).body.targets;
    // 2.9 typed, LO; 3.0, 3.8 | 3.9, 10.0 | 10.1, 13.9, 14.0, HI: ten readings.
    expect(standard).toMatchObject({ profile: 'standard', band: { low: 3.9, high: 10.0 }, met: false });
    expect(standard.shares).toEqual({ veryLow: 20, belowRange: 40, inRange: 20, aboveRange: 40, veryHigh: 20 });
    expect(standard.limits.inRange).toEqual({ over: 70 });
    const changed = await A.admin.request('PATCH', `/api/patients/${A.patientId}`, { targetProfile: 'pregnancy' });
    expect(changed.status).toBe(200);
    expect(changed.body.targetProfile).toBe('pregnancy');
    const pregnancy = (await A.nurse.get(`/api/patients/${A.patientId}/summary`)).body;
    expect(pregnancy.ranges).toEqual({ veryLow: 20, low: 20, inRange: 20, high: 20, veryHigh: 20 });
    expect(pregnancy.targets).toMatchObject({ profile: 'pregnancy', band: { low: 3.5, high: 7.8 }, met: false });
    // Below 3.5: 2.9, LO, 3.0; in 3.5-7.8: 3.8, 3.9; above 7.8: the other five.
    expect(pregnancy.targets.shares).toEqual({
      veryLow: 20,
      belowRange: 30,
      inRange: 20,
      aboveRange: 50,
      veryHigh: 20,
    });
    expect(pregnancy.targets.limits.veryHigh).toBeNull();
    expect(pregnancy.targets.within.veryHigh).toBeNull();
    const refused = await A.admin.request('PATCH', `/api/patients/${A.patientId}`, { targetProfile: 'athlete' });
    expect(refused.status).toBe(400);
    await A.admin.request('PATCH', `/api/patients/${A.patientId}`, { targetProfile: 'standard' });
  });

  it('answers an empty period with count 0 and nulls', async () => {
    const answer = await B.nurse.get(`/api/patients/${B.patientId}/summary`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      count: 0,
      mean: null,
      sd: null,
      cv: null,
      gmi: null,
      gmiMmolMol: null,
      gri: null,
      ranges: { veryLow: null, low: null, inRange: null, high: null, veryHigh: null },
    });
  });

  it("answers 404 to another team's member, and 200 once that team is granted read access", async () => {
    for (const path of [`/api/patients/${A.patientId}/summary`, `/api/patients/${A.patientId}/agp`]) {
      const answer = await B.nurse.get(path);
      expect(answer.status, path).toBe(404);
      expect(answer.body.error.code).toBe('NOT_FOUND');
    }
    expect((await A.admin.post(`/api/patients/${A.patientId}/access`, { teamId: B.teamId })).status).toBe(201);
    try {
      const granted = await B.nurse.get(`/api/patients/${A.patientId}/summary`);
      expect(granted.status).toBe(200);
      expect(granted.body.count).toBe(10);
      expect((await B.nurse.get(`/api/patients/${A.patientId}/agp`)).status).toBe(200);
    } finally {
      await A.admin.request('DELETE', `/api/patients/${A.patientId}/access/${B.teamId}`);
    }
    expect((await B.nurse.get(`/api/patients/${A.patientId}/summary`)).status).toBe(404);
  });

  it('records every read in the audit trail with user, patient, care unit, period and origin', async () => {
    const mark = await env.system.db.pool.query<{ id: number }>(
      'select coalesce(max(id), 0)::int as id from audit_events',
    );
    await A.nurse.get(`/api/patients/${A.patientId}/summary?days=7`);
    await A.nurse.get(`/api/patients/${A.patientId}/agp`);
    const rows = await env.system.db.pool.query(
      `select action, actor_user_id, patient_id, team_id, origin, detail from audit_events
       where id > $1 and action in ('summary.read', 'agp.read') order by id`,
      [mark.rows[0]!.id],
    );
    expect(rows.rows.map((r) => r.action)).toEqual(['summary.read', 'agp.read']);
    for (const row of rows.rows) {
      expect(row).toMatchObject({ actor_user_id: A.nurseId, patient_id: A.patientId, team_id: A.teamId });
      expect(row.origin).toMatch(/127\.0\.0\.1/);
    }
    const detail = rows.rows[0].detail;
    expect(Date.parse(detail.to) - Date.parse(detail.from)).toBe(7 * DAY);
    expect(detail.count).toBe(10);
  });

  it.each([
    ['summary', 'days=0', 'days', 'days must be at least 1.'],
    ['summary', 'days=91', 'days', 'days must be at most 90.'],
    ['summary', 'days=1.5', 'days', 'days must be a whole number.'],
    ['summary', 'days=two', 'days', 'days must be a number.'],
    ['summary', 'period=14', 'period', 'period is not a field of this request.'],
    ['agp', 'days=100', 'days', 'days must be at most 90.'],
    ['agp', 'binMinutes=7', 'binMinutes', 'binMinutes must be one of 5, 10, 15, 20, 30, 60.'],
  ])('answers 400 with code and field to /%s?%s', async (route, query, field, message) => {
    const answer = await A.nurse.get(`/api/patients/${A.patientId}/${route}?${query}`);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { code: 'VALIDATION_FAILED', field, message } });
  });

  it('describes both routes and their query in the OpenAPI document', async () => {
    const document = (await env.client().get('/api/openapi.json')).body;
    const summary = document.paths['/api/patients/{id}/summary'].get;
    expect(summary.parameters).toContainEqual(
      expect.objectContaining({ name: 'days', in: 'query', schema: expect.objectContaining({ maximum: 90 }) }),
    );
    expect(Object.keys(summary.responses['200'].content['application/json'].schema.properties)).toEqual(
      expect.arrayContaining(['mean', 'sd', 'cv', 'gmi', 'gmiMmolMol', 'gri', 'ranges', 'count']),
    );
    expect(document.paths['/api/patients/{id}/agp'].get.parameters).toContainEqual(
      expect.objectContaining({ name: 'binMinutes', in: 'query' }),
    );
  });
  it("flags the board row by the patient's own profile: 8.5 mmol/L is in range, but above a pregnancy's band", async () => {
    await gateway(
      B.deviceId,
      B.deviceToken,
      Array.from({ length: 10 }, (_, i) => ({ measuredAt: minutesAgo(30 + 60 * i), mmol: 8.5 })),
    );
    const rowOf = async () =>
      (await B.nurse.get(`/api/board?teamId=${B.teamId}`)).body.patients.find(
        (p: { id: string }) => p.id === B.patientId,
      );
    expect((await rowOf()).triage.category).toBe('rest');
    await B.admin.request('PATCH', `/api/patients/${B.patientId}`, { targetProfile: 'pregnancy' });
    const pregnant = await rowOf();
    expect(pregnant.targetProfile).toBe('pregnancy');
    expect(pregnant.triage).toMatchObject({ category: 'high', measure: 100 });
    expect(pregnant.statistics.targets).toMatchObject({ band: { low: 3.5, high: 7.8 }, shares: { aboveRange: 100 } });
  });
});
