import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClinic, type Clinic, type TeamFixture } from './support/clinic.ts';
import { Client } from './support/http.ts';

// Issue 14: the meter page's server side. A nurse signed in reads a Bluetooth meter for one of
// her team's patients; readings go the device ingest path as that meter's; who read it is kept.

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const reading = (seq: number, mmol: number, extra: Record<string, unknown> = {}) => ({
  seq,
  measuredAt: minutesAgo(120 - seq),
  mmol,
  kind: 'bgm',
  ...extra,
});

describe('the meter page API (issue 14)', () => {
  let clinic: Clinic;
  let a: TeamFixture;
  let b: TeamFixture;

  beforeAll(async () => {
    [clinic, a, b] = await startClinic('Meter home care', 'Meter clinic');
  });

  afterAll(async () => {
    await clinic?.stop();
  });

  const pool = () => clinic.system.db.pool;

  it('tells a nurse an unpaired meter is unpaired, and only a team admin may pair it there', async () => {
    const nurseView = await a.nurse.get(`/api/patients/${a.patientId}/meter?serial=CONTOUR-1001`);
    expect(nurseView.status).toBe(200);
    expect(nurseView.body).toEqual({
      serial: 'CONTOUR-1001',
      patientId: a.patientId,
      state: 'unpaired',
      canPair: false,
      highWaterSeq: null,
    });
    expect((await a.admin.get(`/api/patients/${a.patientId}/meter?serial=CONTOUR-1001`)).body.canPair).toBe(true);

    const refused = await a.nurse.post(`/api/patients/${a.patientId}/meter/pair`, { serial: 'CONTOUR-1001' });
    expect(refused.status).toBe(403);
    // Unpaired, a nurse's readings are refused with a reason she can act on.
    const unpaired = await a.nurse.post(`/api/patients/${a.patientId}/meter/readings`, {
      serial: 'CONTOUR-1001',
      readings: [reading(1, 6.1)],
    });
    expect(unpaired.status).toBe(409);
    expect(unpaired.body.error.code).toBe('METER_UNPAIRED');

    const paired = await a.admin.post(`/api/patients/${a.patientId}/meter/pair`, { serial: 'CONTOUR-1001' });
    expect(paired.status).toBe(201);
    expect(paired.body).toMatchObject({ state: 'paired', highWaterSeq: null });
    const again = await a.admin.post(`/api/patients/${a.patientId}/meter/pair`, { serial: 'CONTOUR-1001' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('DEVICE_EXISTS');
    // The same pairing as the admin pages: listed with the patient's devices, as a BGM.
    const devices = await a.admin.get(`/api/patients/${a.patientId}/devices`);
    expect(devices.body.devices.map((d: { deviceId: string; kind: string }) => [d.deviceId, d.kind])).toContainEqual([
      'CONTOUR-1001',
      'bgm',
    ]);
    const audit = await pool().query(
      "select actor_user_id, detail from audit_events where action = 'device.pair' and detail->>'deviceId' = 'CONTOUR-1001'",
    );
    expect(audit.rows).toEqual([
      { actor_user_id: a.adminId, detail: { deviceId: 'CONTOUR-1001', kind: 'bgm', via: 'meter-page' } },
    ]);
  });

  it("stores a nurse's read as the meter's readings, once, and records who read it", async () => {
    const readings = [
      reading(1, 6.1),
      reading(2, 2.4),
      reading(3, 7.5, { kind: 'control' }),
      reading(4, null as never, { flag: 'HI' }),
    ];
    const send = () =>
      a.nurse.post(`/api/patients/${a.patientId}/meter/readings`, { serial: 'CONTOUR-1001', readings });
    const first = await send();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ ok: true, accepted: 4, duplicates: 0, rejected: [] });
    const second = await send();
    expect(second.body).toMatchObject({ ok: true, accepted: 0, duplicates: 4, rejected: [] });

    const stored = await pool().query(
      "select seq::int, mmol, flag, kind, source from readings where device_serial = 'CONTOUR-1001' order by seq",
    );
    expect(stored.rows).toEqual([
      { seq: 1, mmol: 6.1, flag: null, kind: 'bgm', source: 'device' },
      { seq: 2, mmol: 2.4, flag: null, kind: 'bgm', source: 'device' },
      { seq: 3, mmol: 7.5, flag: null, kind: 'control', source: 'device' },
      { seq: 4, mmol: null, flag: 'HI', kind: 'bgm', source: 'device' },
    ]);
    const status = await a.nurse.get(`/api/patients/${a.patientId}/meter?serial=CONTOUR-1001`);
    expect(status.body).toMatchObject({ state: 'paired', highWaterSeq: 4 });

    const transfers = await a.nurse.get(`/api/patients/${a.patientId}/meter/transfers`);
    expect(transfers.status).toBe(200);
    expect(transfers.body.transfers).toHaveLength(2);
    expect(transfers.body.transfers[0]).toMatchObject({
      deviceSerial: 'CONTOUR-1001',
      readBy: a.nurseId,
      readByName: 'nurse of Meter home care',
      seqFrom: 1,
      seqTo: 4,
      readings: 4,
      accepted: 0,
      duplicates: 4,
      rejected: 0,
    });
    const audit = await pool().query(
      "select actor_user_id, team_id, detail from audit_events where action = 'readings.meter_read' and patient_id = $1 order by id",
      [a.patientId],
    );
    expect(audit.rows.map((r) => [r.actor_user_id, r.team_id, r.detail.accepted, r.detail.duplicates])).toEqual([
      [a.nurseId, a.teamId, 4, 0],
      [a.nurseId, a.teamId, 0, 4],
    ]);
    // No values in the trail, only ids and counts.
    expect(JSON.stringify(audit.rows)).not.toContain('6.1');
  });

  it('raises the alert for a hypo read from the meter, like any device reading', async () => {
    const hypo = await a.nurse.post(`/api/patients/${a.patientId}/meter/readings`, {
      serial: 'CONTOUR-1001',
      readings: [{ seq: 5, measuredAt: minutesAgo(1), mmol: 2.4 }],
    });
    expect(hypo.body.accepted).toBe(1);
    await expect
      .poll(
        async () =>
          (await a.nurse.get('/api/alerts?state=open')).body.alerts
            .filter((x: { patientId: string }) => x.patientId === a.patientId)
            .map((x: { rule: string }) => x.rule),
        { timeout: 15_000 },
      )
      .toContain('urgent_low');
  });

  it('refuses each bad reading with its code, and a bad batch or serial whole', async () => {
    const mixed = await a.nurse.post(`/api/patients/${a.patientId}/meter/readings`, {
      serial: 'CONTOUR-1001',
      readings: [
        reading(10, 45),
        reading(11, 5.5, { measuredAt: new Date(Date.now() + 3_600_000).toISOString() }),
        reading(12, 5.5),
      ],
    });
    expect(mixed.status).toBe(200);
    expect(mixed.body.accepted).toBe(1);
    expect(mixed.body.rejected.map((r: { seq: number; code: string }) => [r.seq, r.code])).toEqual([
      [10, 'OUT_OF_RANGE'],
      [11, 'FUTURE_TIMESTAMP'],
    ]);
    const conflict = await a.nurse.post(`/api/patients/${a.patientId}/meter/readings`, {
      serial: 'CONTOUR-1001',
      readings: [reading(1, 9.9)],
    });
    expect(conflict.body.rejected[0].code).toBe('SEQ_CONFLICT');

    const badSerial = await a.nurse.get(
      `/api/patients/${a.patientId}/meter?serial=${encodeURIComponent('no spaces please')}`,
    );
    expect(badSerial.status).toBe(400);
    expect(badSerial.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'serial' });
    const tooMany = await a.nurse.post(`/api/patients/${a.patientId}/meter/readings`, {
      serial: 'CONTOUR-1001',
      readings: Array.from({ length: 501 }, (_, i) => reading(i, 5)),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.field).toBe('readings');
  });

  it("answers 404 for another team's patient, and refuses a meter paired with someone else", async () => {
    // Team B's nurse cannot even see team A's patient: not its meter, not sending for it.
    const status = await b.nurse.get(`/api/patients/${a.patientId}/meter?serial=CONTOUR-1001`);
    expect(status.status).toBe(404);
    const send = await b.nurse.post(`/api/patients/${a.patientId}/meter/readings`, {
      serial: 'CONTOUR-1001',
      readings: [reading(20, 5.5)],
    });
    expect(send.status).toBe(404);
    expect((await b.admin.post(`/api/patients/${a.patientId}/meter/pair`, { serial: 'OTHER-1' })).status).toBe(404);
    expect((await b.nurse.get(`/api/patients/${a.patientId}/meter/transfers`)).status).toBe(404);

    // Team A's meter read at team B's patient: refused with the reason, nothing stored.
    const elsewhere = await b.nurse.post(`/api/patients/${b.patientId}/meter/readings`, {
      serial: 'CONTOUR-1001',
      readings: [reading(21, 5.5)],
    });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.error.code).toBe('METER_PAIRED_ELSEWHERE');
    const none = await pool().query("select 1 from readings where device_serial = 'CONTOUR-1001' and seq >= 20");
    expect(none.rowCount).toBe(0);
    const anon = await new Client(clinic.system.url).get(`/api/patients/${a.patientId}/meter?serial=CONTOUR-1001`);
    expect(anon.status).toBe(401);
  });

  it('refuses a revoked meter and a CGM serial', async () => {
    await a.admin.post(`/api/devices/CONTOUR-1001/revoke`);
    const revoked = await a.nurse.get(`/api/patients/${a.patientId}/meter?serial=CONTOUR-1001`);
    expect(revoked.status).toBe(409);
    expect(revoked.body.error.code).toBe('METER_REVOKED');
    await a.admin.post('/api/devices', { serial: 'LIBRE-1', kind: 'cgm', patientId: a.patientId });
    const cgm = await a.nurse.get(`/api/patients/${a.patientId}/meter?serial=LIBRE-1`);
    expect(cgm.body.error.code).toBe('METER_NOT_BGM');
  });

  it("tells a patient's phone, by its device credential only, the highest seq stored", async () => {
    const url = `${clinic.system.url}/api/devices/me/high-water`;
    const before = await fetch(url, { headers: { authorization: `Device ${b.deviceId}:${b.deviceToken}` } });
    expect(before.status).toBe(200);
    expect(await before.json()).toEqual({ deviceId: b.deviceId, highWaterSeq: null });

    const gateway = await fetch(`${clinic.system.url}/api/devices/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Device ${b.deviceId}:${b.deviceToken}` },
      body: JSON.stringify({ readings: [reading(7, 5.5), reading(9, 6.5)] }),
    });
    expect(((await gateway.json()) as { accepted: number }).accepted).toBe(2);
    const after = await fetch(url, { headers: { authorization: `Device ${b.deviceId}:${b.deviceToken}` } });
    expect(await after.json()).toEqual({ deviceId: b.deviceId, highWaterSeq: 9 });

    const wrong = await fetch(url, { headers: { authorization: `Device ${b.deviceId}:not-the-token` } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('DEVICE_AUTH');
    expect((await fetch(url)).status).toBe(401);
    const audit = await pool().query(
      "select actor_device, patient_id from audit_events where action = 'device.high_water' and actor_device = $1",
      [b.deviceId],
    );
    expect(audit.rows).toEqual([
      { actor_device: b.deviceId, patient_id: b.patientId },
      { actor_device: b.deviceId, patient_id: b.patientId },
    ]);
  });

  it('lists the routes in the OpenAPI document', async () => {
    const doc = (await a.nurse.get('/api/openapi.json')).body;
    for (const path of [
      '/api/patients/{id}/meter',
      '/api/patients/{id}/meter/pair',
      '/api/patients/{id}/meter/readings',
      '/api/patients/{id}/meter/transfers',
      '/api/devices/me/high-water',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
  });
});
