import { REPLACEMENT_REASONS } from '@glucoboard/core/domain';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClinic, type Clinic, type TeamFixture } from './support/clinic.ts';
import { sendReadings, Sockets } from './support/sockets.ts';

// Meters lent from patient to patient and replaced (docs/follow-up.md, "Meters"), against a
// running system with real Socket.IO meters and boards.
let env: Clinic;
let A: TeamFixture;
let B: TeamFixture;
/** A second patient of team A, who gets A's meter on loan. */
let nextPatientId: string;
const sockets = new Sockets(() => env.system.url);
const stray: Socket[] = [];

beforeAll(async () => {
  [env, A, B] = await startClinic('Loans A', 'Loans B');
  nextPatientId = (await A.admin.post('/api/patients', { name: 'Next patient of A', teamId: A.teamId })).body.id;
});
afterAll(async () => {
  sockets.closeAll();
  stray.forEach((s) => s.disconnect());
  await env?.stop();
});

const MINUTE = 60_000;
const db = () => env.system.db.pool;

const refusedHandshake = (deviceId: string, token: string) => {
  const socket = io(`${env.system.url}/devices`, {
    auth: { deviceId, token },
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
  });
  stray.push(socket);
  return new Promise<string | undefined>((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => resolve(err.data?.code));
  });
};

const patientOfReading = async (serial: string, seq: number) =>
  (
    await db().query<{ patient_id: string }>('select patient_id from readings where device_serial = $1 and seq = $2', [
      serial,
      seq,
    ])
  ).rows.map((r) => r.patient_id);

const auditOf = async (action: string, actor: string) =>
  (
    await db().query<{ patient_id: string | null; team_id: string | null; detail: Record<string, unknown> }>(
      'select patient_id, team_id, detail from audit_events where action = $1 and actor_user_id = $2 order by id',
      [action, actor],
    )
  ).rows;

async function pairMeter(team: TeamFixture, serial: string, patientId: string, kind: 'bgm' | 'cgm' = 'bgm') {
  const paired = await team.admin.post('/api/devices', { serial, kind, patientId });
  expect(paired.status, paired.text).toBe(201);
  return { deviceId: serial, deviceToken: paired.body.token as string };
}

describe('lending a meter on to another patient', () => {
  it('moves live readings to the new patient at once; old readings stay; the old memory is refused', async () => {
    const board = await sockets.board(A.nurse.cookie!);
    const meter = await sockets.meter(A);
    const before = Date.now();
    const first = await sendReadings(meter, {
      readings: [{ seq: 1, measuredAt: new Date(before - 10 * MINUTE).toISOString(), mmol: 6.1 }],
    });
    expect(first).toMatchObject({ ok: true, accepted: 1 });

    // The previous patient's hypo, still in the meter's memory when it is handed on.
    const memory = { seq: 2, measuredAt: new Date(Date.now() - 2 * MINUTE).toISOString(), mmol: 2.5 };
    const droppedByServer = new Promise<string>((resolve) => meter.once('disconnect', resolve));
    const lent = await A.admin.post(`/api/devices/${A.deviceId}/lend`, { patientId: nextPatientId });
    expect(lent.status, lent.text).toBe(200);
    expect(lent.body).toMatchObject({
      deviceId: A.deviceId,
      kind: 'bgm',
      patientId: nextPatientId,
      previousPatientId: A.patientId,
    });
    expect(lent.body.token).toMatch(/\S{20,}/);
    // The old patient's phone is cut off at once: its socket is closed and its token refused.
    expect(await droppedByServer).toBe('io server disconnect');
    expect(await refusedHandshake(A.deviceId, A.deviceToken)).toBe('DEVICE_AUTH');

    const renewed = await sockets.meter({ deviceId: A.deviceId, deviceToken: lent.body.token });
    const now = { seq: 3, measuredAt: new Date().toISOString(), mmol: 7.4 };
    const ack = await sendReadings(renewed, {
      readings: [memory, { seq: 1, measuredAt: new Date(before - 10 * MINUTE).toISOString(), mmol: 6.1 }, now],
    });
    expect(ack).toMatchObject({ ok: true, accepted: 1, duplicates: 0 });
    expect(ack.rejected).toEqual([
      expect.objectContaining({ index: 0, seq: 2, code: 'BEFORE_ASSIGNMENT', field: 'measuredAt' }),
      expect.objectContaining({ index: 1, seq: 1, code: 'BEFORE_ASSIGNMENT', field: 'measuredAt' }),
    ]);

    expect(await patientOfReading(A.deviceId, 1)).toEqual([A.patientId]);
    expect(await patientOfReading(A.deviceId, 2)).toEqual([]);
    expect(await patientOfReading(A.deviceId, 3)).toEqual([nextPatientId]);
    await expect
      .poll(() => (board.heard.get('reading') ?? []) as Array<{ patientId: string; mmol: number }>)
      .toContainEqual(expect.objectContaining({ patientId: nextPatientId, mmol: 7.4 }));
    const heard = (board.heard.get('reading') ?? []) as Array<{ patientId: string; mmol: number }>;
    expect(heard.filter((r) => r.mmol === 2.5)).toEqual([]);

    const from = new Date(before - 60 * MINUTE).toISOString();
    const oldPatient = await A.nurse.get(`/api/patients/${A.patientId}/readings?from=${from}`);
    expect(oldPatient.body.readings.map((r: { seq: number }) => r.seq)).toEqual([1]);
    const newPatient = await A.nurse.get(`/api/patients/${nextPatientId}/readings?from=${from}`);
    expect(newPatient.body.readings.map((r: { seq: number }) => r.seq)).toEqual([3]);
    // The hypo never reached the new patient, so nothing alerts on them.
    const alerts = await A.nurse.get(`/api/alerts?state=all&teamId=${A.teamId}`);
    expect(alerts.body.alerts.filter((a: { patientId: string }) => a.patientId === nextPatientId)).toEqual([]);

    // The same rule on the gateway (HTTP) path.
    const gateway = await fetch(`${env.system.url}/api/devices/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Device ${A.deviceId}:${lent.body.token}` },
      body: JSON.stringify({ readings: [{ ...memory, seq: 4 }] }),
    });
    expect(await gateway.json()).toMatchObject({ ok: true, accepted: 0, rejected: [{ code: 'BEFORE_ASSIGNMENT' }] });
  });

  it("keeps a meter's older memory at its first pairing: those readings are its first patient's own", async () => {
    const patient = (await A.admin.post('/api/patients', { name: 'First owner', teamId: A.teamId })).body.id;
    const meter = await sockets.meter(await pairMeter(A, 'first-owner-meter', patient));
    const ack = await sendReadings(meter, {
      readings: [{ seq: 1, measuredAt: new Date(Date.now() - 2 * 24 * 60 * MINUTE).toISOString(), mmol: 5.5 }],
    });
    expect(ack).toMatchObject({ ok: true, accepted: 1, rejected: [] });
  });

  it('refuses a loan to the patient who has the meter, and to a team the admin does not administer', async () => {
    const meter = await pairMeter(A, 'same-patient-meter', A.patientId);
    const same = await A.admin.post(`/api/devices/${meter.deviceId}/lend`, { patientId: A.patientId });
    expect(same.status).toBe(409);
    expect(same.body.error).toMatchObject({ code: 'SAME_PATIENT', field: 'patientId' });
    const elsewhere = await A.admin.post(`/api/devices/${meter.deviceId}/lend`, { patientId: B.patientId });
    expect(elsewhere.status).toBe(404);
    const byNurse = await A.nurse.post(`/api/devices/${meter.deviceId}/lend`, { patientId: nextPatientId });
    expect(byNurse.status).toBe(403);
    const bad = await A.admin.post(`/api/devices/${meter.deviceId}/lend`, { patientId: 'nobody' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('patientId');
  });
});

describe('a revoked meter stays revoked', () => {
  it('answers 409 to a new token for a revoked meter, which stays revoked; reactivation is explicit', async () => {
    const meter = await pairMeter(A, 'revoked-meter', A.patientId);
    expect((await A.admin.post(`/api/devices/${meter.deviceId}/revoke`)).status).toBe(200);
    const rotated = await A.admin.post(`/api/devices/${meter.deviceId}/rotate`);
    expect(rotated.status).toBe(409);
    expect(rotated.body.error.code).toBe('DEVICE_REVOKED');
    const listed = await A.admin.get(`/api/patients/${A.patientId}/devices`);
    const row = listed.body.devices.find((d: { deviceId: string }) => d.deviceId === meter.deviceId);
    expect(row.revokedAt).not.toBeNull();
    expect(await refusedHandshake(meter.deviceId, meter.deviceToken)).toBe('DEVICE_AUTH');

    const back = await A.admin.post(`/api/devices/${meter.deviceId}/reactivate`);
    expect(back.status, back.text).toBe(200);
    expect(await refusedHandshake(meter.deviceId, back.body.token)).toBe('connected');
    const again = await A.admin.post(`/api/devices/${meter.deviceId}/reactivate`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('DEVICE_NOT_REVOKED');
    expect((await A.admin.post(`/api/devices/${meter.deviceId}/rotate`)).status).toBe(200);
  });
});

describe('replacing a meter', () => {
  const replaced: Record<string, { old: string; next: string; token: string }> = {};

  it.each(REPLACEMENT_REASONS.map((reason, i) => [reason, i % 2 === 0 ? 'bgm' : 'cgm'] as const))(
    'replaces under %s (%s): the new meter takes over, the old one is retired',
    async (reason, kind) => {
      const old = await pairMeter(A, `old-${reason}`, A.patientId, kind);
      const socket = await sockets.meter(old);
      const dropped = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      const cause =
        reason === 'complaint' ? 'display shows E-4 after every strip' : reason === 'other' ? 'x' : undefined;
      const made = await A.admin.post(`/api/devices/${old.deviceId}/replace`, {
        newSerial: `new-${reason}`,
        reason,
        ...(cause ? { cause } : {}),
      });
      expect(made.status, made.text).toBe(201);
      expect(made.body).toMatchObject({
        deviceId: `new-${reason}`,
        kind,
        patientId: A.patientId,
        retired: { deviceId: old.deviceId, reason },
      });
      expect(await dropped).toBe('io server disconnect');
      expect(await refusedHandshake(old.deviceId, old.deviceToken)).toBe('DEVICE_AUTH');
      const fresh = await sockets.meter({ deviceId: `new-${reason}`, deviceToken: made.body.token });
      const ack = await sendReadings(fresh, { readings: [{ seq: 1, measuredAt: new Date().toISOString(), mmol: 6 }] });
      expect(ack).toMatchObject({ ok: true, accepted: 1 });
      expect(await patientOfReading(`new-${reason}`, 1)).toEqual([A.patientId]);

      // Retired for good: no new token, no loan, no re-pairing, no second replacement.
      for (const [path, body] of [
        [`/api/devices/${old.deviceId}/rotate`, {}],
        [`/api/devices/${old.deviceId}/reactivate`, {}],
        [`/api/devices/${old.deviceId}/lend`, { patientId: nextPatientId }],
        [`/api/devices/${old.deviceId}/replace`, { newSerial: `newer-${reason}`, reason: 'defect' }],
        ['/api/devices', { serial: old.deviceId, kind, patientId: nextPatientId }],
      ] as const) {
        const refused = await A.admin.post(path, body);
        expect(refused.status, path).toBe(409);
        expect(refused.body.error.code, path).toBe('DEVICE_RETIRED');
      }
      const listed = await A.admin.get(`/api/patients/${A.patientId}/devices`);
      const oldRow = listed.body.devices.find((d: { deviceId: string }) => d.deviceId === old.deviceId);
      expect(oldRow.retiredAt).not.toBeNull();
      expect(oldRow.revokedAt).not.toBeNull();
      replaced[reason] = { old: old.deviceId, next: `new-${reason}`, token: made.body.token };
    },
  );

  it('requires the cause in words for a complaint, and a serial never paired', async () => {
    const old = await pairMeter(A, 'complaint-no-cause', A.patientId);
    for (const body of [
      { newSerial: 'unused-1', reason: 'complaint' },
      { newSerial: 'unused-1', reason: 'complaint', cause: '   ' },
      { newSerial: 'unused-1', reason: 'complaint', cause: null },
    ]) {
      const refused = await A.admin.post(`/api/devices/${old.deviceId}/replace`, body);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'cause' });
    }
    const unknownReason = await A.admin.post(`/api/devices/${old.deviceId}/replace`, {
      newSerial: 'unused-1',
      reason: 'dropped',
    });
    expect(unknownReason.status).toBe(400);
    expect(unknownReason.body.error.field).toBe('reason');
    const taken = await A.admin.post(`/api/devices/${old.deviceId}/replace`, {
      newSerial: 'same-patient-meter',
      reason: 'defect',
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: 'DEVICE_EXISTS', field: 'newSerial' });
    // Refused whole: the old meter is still live.
    const listed = await A.admin.get(`/api/patients/${A.patientId}/devices`);
    expect(listed.body.devices.find((d: { deviceId: string }) => d.deviceId === old.deviceId).retiredAt).toBeNull();
  });

  it('lists every meter per patient and every patient per serial, with who and why', async () => {
    const adminName = 'admin of Loans A';
    const previous = await A.nurse.get(`/api/patients/${A.patientId}/device-history`);
    expect(previous.status).toBe(200);
    const first = previous.body.assignments.find((a: { deviceId: string }) => a.deviceId === A.deviceId);
    expect(first).toMatchObject({
      kind: 'bgm',
      patient: { id: A.patientId, name: 'Patient of Loans A' },
      startReason: 'paired',
      startedBy: { name: adminName },
      endReason: 'loan',
      endedBy: { name: adminName },
    });
    expect(first.endedAt).not.toBeNull();
    const complaint = previous.body.assignments.find((a: { deviceId: string }) => a.deviceId === 'old-complaint');
    expect(complaint).toMatchObject({
      endReason: 'retired',
      replacedBy: { deviceId: 'new-complaint', reason: 'complaint', cause: 'display shows E-4 after every strip' },
    });
    const successor = previous.body.assignments.find((a: { deviceId: string }) => a.deviceId === 'new-complaint');
    expect(successor).toMatchObject({
      startReason: 'replacement',
      endedAt: null,
      replaced: { deviceId: 'old-complaint', reason: 'complaint' },
    });

    const next = await A.nurse.get(`/api/patients/${nextPatientId}/device-history`);
    expect(next.body.assignments).toEqual([
      expect.objectContaining({
        deviceId: A.deviceId,
        startReason: 'loan',
        endedAt: null,
        startedBy: expect.anything(),
      }),
    ]);

    const bySerial = await A.nurse.get(`/api/devices/${A.deviceId}/history`);
    expect(bySerial.status).toBe(200);
    expect(
      bySerial.body.assignments.map((a: { patient: { id: string }; startReason: string; endReason: string | null }) => [
        a.patient.id,
        a.startReason,
        a.endReason,
      ]),
    ).toEqual([
      [A.patientId, 'paired', 'loan'],
      [nextPatientId, 'loan', null],
    ]);
    const [was, is] = bySerial.body.assignments;
    expect(was.endedAt).toBe(is.startedAt);
  });

  it('reports replacements by reason and kind over a period, as JSON and as CSV', async () => {
    const report = await A.nurse.get(`/api/teams/${A.teamId}/device-replacements`);
    expect(report.status, report.text).toBe(200);
    expect(report.body.total).toBe(REPLACEMENT_REASONS.length);
    expect(report.body.byKind).toEqual({ bgm: 3, cgm: 2 });
    expect(report.body.byReason.complaint).toEqual({ total: 1, bgm: 1, cgm: 0 });
    expect(report.body.byReason.lost).toEqual({ total: 1, bgm: 0, cgm: 1 });
    expect(new Date(report.body.period.from).getTime()).toBeLessThanOrEqual(Date.now());
    expect(report.body.replacements.filter((r: { reason: string }) => r.reason === 'complaint')).toEqual([
      expect.objectContaining({
        oldDeviceId: 'old-complaint',
        newDeviceId: 'new-complaint',
        kind: 'bgm',
        cause: 'display shows E-4 after every strip',
        patient: { id: A.patientId, name: 'Patient of Loans A' },
        replacedBy: expect.objectContaining({ name: 'admin of Loans A' }),
      }),
    ]);

    const past = await A.nurse.get(
      `/api/teams/${A.teamId}/device-replacements?from=2020-01-01T00:00:00Z&to=2021-01-01T00:00:00Z`,
    );
    expect(past.body).toMatchObject({ total: 0, replacements: [], byReason: { complaint: { total: 0 } } });
    const backwards = await A.nurse.get(
      `/api/teams/${A.teamId}/device-replacements?from=2021-01-01T00:00:00Z&to=2020-01-01T00:00:00Z`,
    );
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.field).toBe('from');

    const csv = await A.nurse.get(`/api/teams/${A.teamId}/device-replacements?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="meter-replacements-/);
    const lines = csv.text.trimEnd().split('\n');
    expect(lines[0]).toBe('replaced_at,kind,reason,cause,old_serial,new_serial,replaced_by');
    expect(lines).toHaveLength(1 + REPLACEMENT_REASONS.length);
    expect(lines.find((l) => l.includes(',complaint,'))).toMatch(
      /^\d{4}-\d\d-\d\dT[^,]+,bgm,complaint,display shows E-4 after every strip,old-complaint,new-complaint,admin of Loans A$/,
    );
    expect(csv.text).not.toContain('Patient of Loans A');
  });
});

describe('team isolation and the audit trail', () => {
  it("answers 404 for another team's meter history, report and changes", async () => {
    for (const caller of [B.admin, B.nurse]) {
      for (const path of [
        `/api/devices/${A.deviceId}/history`,
        `/api/patients/${A.patientId}/device-history`,
        `/api/teams/${A.teamId}/device-replacements`,
        `/api/teams/${A.teamId}/device-replacements?format=csv`,
      ]) {
        const answer = await caller.get(path);
        expect(answer.status, path).toBe(404);
        expect(answer.body.error.code).toBe('NOT_FOUND');
      }
      for (const [path, body] of [
        [`/api/devices/${A.deviceId}/lend`, { patientId: B.patientId }],
        [`/api/devices/${A.deviceId}/replace`, { newSerial: 'intruder-new', reason: 'defect' }],
        [`/api/devices/${A.deviceId}/reactivate`, {}],
      ] as const) {
        const answer = await caller.post(path, body);
        expect(answer.status, path).toBe(404);
      }
    }
    expect((await B.admin.get('/api/devices/never-paired/history')).status).toBe(404);
    // A's meter is where it was.
    const still = await A.nurse.get(`/api/devices/${A.deviceId}/history`);
    expect(still.body.assignments.at(-1)).toMatchObject({ patient: { id: nextPatientId }, endedAt: null });
  });

  it('records each change and each read with who did it and for which patient', async () => {
    expect(await auditOf('device.loan.end', A.adminId)).toContainEqual(
      expect.objectContaining({
        patient_id: A.patientId,
        team_id: A.teamId,
        detail: expect.objectContaining({ deviceId: A.deviceId, toPatientId: nextPatientId }),
      }),
    );
    expect(await auditOf('device.loan.start', A.adminId)).toContainEqual(
      expect.objectContaining({
        patient_id: nextPatientId,
        detail: expect.objectContaining({ fromPatientId: A.patientId }),
      }),
    );
    const replacements = await auditOf('device.replace', A.adminId);
    expect(replacements.map((e) => e.detail.reason).sort()).toEqual([...REPLACEMENT_REASONS].sort());
    expect(replacements.every((e) => e.patient_id === A.patientId && !('cause' in e.detail))).toBe(true);
    expect(await auditOf('device.reactivate', A.adminId)).toHaveLength(1);
    expect((await auditOf('device.pair', A.adminId)).length).toBeGreaterThan(0);
    const historyReads = await auditOf('device.history', A.nurseId);
    expect(historyReads.map((e) => e.patient_id)).toEqual(expect.arrayContaining([A.patientId, nextPatientId]));
    expect(await auditOf('device.replacements', A.nurseId)).toContainEqual(
      expect.objectContaining({ patient_id: A.patientId, team_id: A.teamId }),
    );
    expect(await auditOf('device.replacements.export', A.nurseId)).toEqual([
      expect.objectContaining({ patient_id: null, team_id: A.teamId, detail: expect.objectContaining({ rows: 5 }) }),
    ]);
  });
});
