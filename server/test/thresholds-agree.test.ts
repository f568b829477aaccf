import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, addPatientsWithMeters, buildTeam, startTestSystem, type TeamFixture } from './support/clinic.ts';

// Issue 12 item 2: the thresholds in effect, and what makes a patient "CGM" for them, have one
// definition: the board, the patients API and the workers' no-data scan agree on every patient.
const MINUTE = 60_000;

let env: Awaited<ReturnType<typeof startTestSystem>>;
let team: TeamFixture;
const patients: Record<string, string> = {};

beforeAll(async () => {
  env = await startTestSystem('postgres', { NO_DATA_SCAN_SECONDS: '1' });
  const sys = await env.client().login(ADMIN.email, ADMIN.password);
  team = await buildTeam(sys, env.system.url, 'Thresholds agree');
  const send = async (deviceId: string, token: string, kind: 'bgm' | 'cgm') => {
    const answer = await fetch(`${env.system.url}/api/devices/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Device ${deviceId}:${token}` },
      body: JSON.stringify({
        readings: [{ seq: 1, measuredAt: new Date(Date.now() - 40 * MINUTE).toISOString(), mmol: 6, kind }],
      }),
    });
    expect(((await answer.json()) as { accepted: number }).accepted).toBe(1);
  };
  // A fingerstick meter; a CGM; a fingerstick meter that sent CGM-kind readings (the old
  // disagreement: "CGM" by the batch's readings, or by the paired device); a fingerstick patient
  // with a 20-minute override. Each last measured 40 minutes ago.
  const [bgm] = await addPatientsWithMeters(team.admin, team.teamId, 1, 'agree-bgm', 'bgm');
  const [cgm] = await addPatientsWithMeters(team.admin, team.teamId, 1, 'agree-cgm', 'cgm');
  const [mixed] = await addPatientsWithMeters(team.admin, team.teamId, 1, 'agree-mixed', 'bgm');
  const [override] = await addPatientsWithMeters(team.admin, team.teamId, 1, 'agree-override', 'bgm');
  await team.admin.request('PUT', `/api/patients/${override!.patientId}/thresholds`, { noDataMinutes: 20 });
  await send(bgm!.deviceId, bgm!.deviceToken, 'bgm');
  await send(cgm!.deviceId, cgm!.deviceToken, 'cgm');
  await send(mixed!.deviceId, mixed!.deviceToken, 'cgm');
  await send(override!.deviceId, override!.deviceToken, 'bgm');
  Object.assign(patients, {
    bgm: bgm!.patientId,
    cgm: cgm!.patientId,
    mixed: mixed!.patientId,
    override: override!.patientId,
  });
});
afterAll(() => env?.stop());

describe('the thresholds in effect', () => {
  it('are the same on the board, in the patients API and in the no-data scan', async () => {
    const expected: Record<string, number> = { bgm: 2880, cgm: 30, mixed: 2880, override: 20 };
    const board = await team.nurse.get(`/api/board?teamId=${team.teamId}`);
    for (const [name, id] of Object.entries(patients)) {
      const row = board.body.patients.find((p: { id: string }) => p.id === id);
      const api = await team.nurse.get(`/api/patients/${id}/thresholds`);
      expect([name, row.statistics.noDataMinutes, api.body.effective.noDataMinutes]).toEqual([
        name,
        expected[name],
        expected[name],
      ]);
    }
    // Silent for 40 minutes: the scan opens no_data for exactly those whose period is shorter.
    const noData = async () =>
      (
        await env.system.db.pool.query<{ patient_id: string }>(
          `select patient_id from alerts where rule = 'no_data' and patient_id = any($1::uuid[])`,
          [Object.values(patients)],
        )
      ).rows.map((r) => r.patient_id);
    await expect.poll(async () => (await noData()).length, { timeout: 10_000 }).toBe(2);
    await new Promise((r) => setTimeout(r, 2500)); // two more scans: nothing else opens
    expect((await noData()).sort()).toEqual([patients.cgm, patients.override].sort());
  });
  it("falls back to the team's values when a team change makes a patient's overrides cross, and still alerts", async () => {
    const [patient] = await addPatientsWithMeters(team.admin, team.teamId, 1, 'agree-crossed', 'bgm');
    expect(
      (await team.admin.request('PUT', `/api/patients/${patient!.patientId}/thresholds`, { urgentLow: 3.8 })).status,
    ).toBe(200);
    expect((await team.admin.request('PUT', `/api/teams/${team.teamId}/thresholds`, { low: 3.7 })).status).toBe(200);
    const answer = await team.nurse.get(`/api/patients/${patient!.patientId}/thresholds`);
    expect(answer.body).toMatchObject({ conflict: true, effective: { urgentLow: 3.0, low: 3.7 } });
    const sent = await fetch(`${env.system.url}/api/devices/readings`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Device ${patient!.deviceId}:${patient!.deviceToken}`,
      },
      body: JSON.stringify({ readings: [{ seq: 1, measuredAt: new Date().toISOString(), mmol: 2.6 }] }),
    });
    expect(((await sent.json()) as { accepted: number }).accepted).toBe(1);
    const alerts = async () =>
      (
        await env.system.db.pool.query(`select rule from alerts where patient_id = $1 and rule = 'urgent_low'`, [
          patient!.patientId,
        ])
      ).rowCount;
    await expect.poll(alerts, { timeout: 10_000 }).toBe(1);
  });
});
