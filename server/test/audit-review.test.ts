import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { swedishDayIndex, swedishLocalDate, swedishLocalTime } from '@glucoboard/core/domain';
import { PASSWORD, startClinic, type Clinic, type TeamFixture } from './support/clinic.ts';
import type { Client } from './support/http.ts';

// Issue 15, section 4: searching the audit trail, the patient's access extract (PDL 8:5) and the
// systematic log review (HSLF-FS 2016:40 4:9), against a real server and PostgreSQL. The reviewed
// period lies three weeks back; its events are planted there as the trail writes them (an INSERT:
// the trail is append-only, not write-once-now), so the Swedish hours they fall in are known
// whatever the clock says when the test runs.

let env: Clinic;
let sys: Client;
let A: TeamFixture;
let B: TeamFixture;
let heavy: { id: string; client: Client };
let visitorId: string;
let nurse2Id: string;
const extra: string[] = []; // more patients of team A
const day0 = swedishDayIndex(Date.now()) - 21;
const at = (day: number, hours: number) => new Date(swedishLocalTime(day0 + day, hours));
const period = { from: at(0, 0).toISOString(), to: at(3, 0).toISOString() };
const inPeriod = `from=${encodeURIComponent(period.from)}&to=${encodeURIComponent(period.to)}`;

async function plant(
  when: Date,
  userId: string,
  action: string,
  patientId: string,
  teamId: string,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await env.system.db.pool.query(
    `insert into audit_events (at, actor_kind, actor_user_id, action, patient_id, team_id, origin, detail)
     values ($1, 'user', $2, $3, $4, $5, '10.1.2.3', $6)`,
    [when, userId, action, patientId, teamId, JSON.stringify(detail)],
  );
}

async function newUser(email: string, name: string, teamId: string | null): Promise<string> {
  const user = await sys.post('/api/users', { email, name, password: PASSWORD });
  if (teamId) await sys.post(`/api/teams/${teamId}/members`, { userId: user.body.id, role: 'nurse' });
  return user.body.id;
}

beforeAll(async () => {
  [env, A, B] = await startClinic('Team A', 'Team B');
  sys = env.sysadmin;
  for (let i = 0; i < 12; i++) {
    const patient = await A.admin.post('/api/patients', { name: `Extra patient ${i}`, teamId: A.teamId });
    extra.push(patient.body.id);
  }
  heavy = { id: await newUser('heavy@team-a.example.se', 'Heavy Reader', A.teamId), client: env.client() };
  await heavy.client.login('heavy@team-a.example.se', PASSWORD);
  nurse2Id = await newUser('nurse2@team-a.example.se', 'Second Nurse', A.teamId);
  visitorId = await newUser('visitor@example.se', 'Former Member', null);
  // Team B may read A's patient (e.g. a consulting clinic).
  expect((await A.admin.post(`/api/patients/${A.patientId}/access`, { teamId: B.teamId })).status).toBe(201);

  // The ordinary work of the period: members of team A, in the daytime, a patient or two a day.
  await plant(at(0, 10), A.nurseId, 'patient.read', A.patientId, A.teamId);
  await plant(at(0, 10.1), A.nurseId, 'readings.read', A.patientId, A.teamId);
  await plant(at(1, 14), A.nurseId, 'patient.read', extra[0]!, A.teamId);
  // The board lists every patient of the team: no volume finding for that.
  for (const p of [A.patientId, ...extra]) await plant(at(1, 9), nurse2Id, 'board.read', p, A.teamId);
  await plant(at(1, 9.5), nurse2Id, 'patient.read', A.patientId, A.teamId);
  await plant(at(2, 8.25), A.adminId, 'patient.read', A.patientId, A.teamId);
  // What deserves a look: team B's nurse through the grant, a read at 22:00, a day of 12 patients,
  // and someone who is no member of team A (any more).
  await plant(at(1, 11), B.nurseId, 'patient.read', A.patientId, A.teamId, { via: 'granted' });
  await plant(at(2, 22), A.nurseId, 'patient.read', extra[1]!, A.teamId);
  for (const [i, p] of extra.entries()) await plant(at(2, 13 + i / 30), heavy.id, 'patient.read', p, A.teamId);
  await plant(at(0, 12), visitorId, 'patient.read', A.patientId, A.teamId);
  // Team B's own night: only team B's review shows it.
  await plant(at(1, 23), B.nurseId, 'patient.read', B.patientId, B.teamId);
});
afterAll(() => env?.stop());

type Finding = { reason: string; userId: string; patientId: string | null; day: string; [k: string]: unknown };
const key = (f: Finding) => `${f.reason} ${f.userId} ${f.patientId} ${f.day}`;

describe('searching the audit trail (GET /api/audit)', () => {
  it("finds a patient's events in a period, newest first, with the patient named", async () => {
    const answer = await A.admin.get(`/api/audit?patientId=${A.patientId}&${inPeriod}`);
    expect(answer.status).toBe(200);
    const events = answer.body.events as Array<{ at: string; userId: string; patientName: string }>;
    expect(events.map((e) => e.userId)).toEqual([
      A.adminId,
      B.nurseId,
      nurse2Id,
      nurse2Id,
      visitorId,
      A.nurseId,
      A.nurseId,
    ]);
    const times = events.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(events[0]!.patientName).toBe('Patient of Team A');
    expect(answer.body.nextCursor).toBe(null);
  });

  it("pages a user's events with nextCursor, no event twice and none left out", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: {
        status: number;
        body: { events: Array<{ id: string; patientId: string }>; nextCursor: string | null };
      } = await A.admin.get(
        `/api/audit?userId=${heavy.id}&${inPeriod}&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.events.map((e) => e.patientId));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...extra].reverse());
    const bad = await A.admin.get(`/api/audit?userId=${heavy.id}&cursor=not-a-cursor`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'cursor' });
  });

  it("shows a team admin her own teams' events only, and a sysadmin every team's", async () => {
    // Team B's nurse as seen by team A's admin: her read of A's patient, not of B's own.
    const bNurse = await A.admin.get(`/api/audit?userId=${B.nurseId}&${inPeriod}`);
    expect(bNurse.body.events.map((e: { patientId: string }) => e.patientId)).toEqual([A.patientId]);
    const byPeriod = await A.admin.get(`/api/audit?teamId=${A.teamId}&${inPeriod}&limit=1000`);
    expect(byPeriod.body.events).toHaveLength(2 + 1 + 13 + 1 + 1 + 1 + 1 + 12 + 1);
    expect(byPeriod.body.events.every((e: { teamId: string }) => e.teamId === A.teamId)).toBe(true);
    const noFilter = await A.admin.get(`/api/audit?${inPeriod}&limit=1000`);
    expect(noFilter.body.events).toHaveLength(byPeriod.body.events.length);
    expect((await A.admin.get(`/api/audit?teamId=${B.teamId}`)).status).toBe(404);
    expect((await A.admin.get(`/api/audit?patientId=${B.patientId}`)).status).toBe(404);
    const all = await sys.get(`/api/audit?${inPeriod}&limit=1000`);
    expect(all.body.events).toHaveLength(byPeriod.body.events.length + 1);
  });

  it('refuses nurses: 403 for their own team, 404 for another', async () => {
    for (const path of [
      `/api/audit?${inPeriod}`,
      `/api/audit?teamId=${A.teamId}`,
      `/api/audit?patientId=${A.patientId}`,
      `/api/patients/${A.patientId}/access-log`,
      `/api/teams/${A.teamId}/audit-review`,
      `/api/teams/${A.teamId}/audit-reviews`,
    ]) {
      const answer = await A.nurse.get(path);
      expect(answer.status, path).toBe(403);
      expect(answer.body.error.code).toBe('FORBIDDEN');
    }
    const record = await A.nurse.post(`/api/teams/${A.teamId}/audit-reviews`, period);
    expect(record.status).toBe(403);
    expect((await A.nurse.get(`/api/teams/${B.teamId}/audit-review`)).status).toBe(404);
  });
});

describe("the patient's access extract (PDL 8:5)", () => {
  it('says who looked, when, how they reached the patient and from which team, as JSON', async () => {
    const answer = await A.admin.get(`/api/patients/${A.patientId}/access-log?${inPeriod}`);
    expect(answer.status).toBe(200);
    const rows = answer.body.accesses as Array<Record<string, unknown>>;
    expect(rows.map((r) => r.userEmail)).toEqual([
      'nurse@team-a.example.se',
      'nurse@team-a.example.se',
      'visitor@example.se',
      'nurse2@team-a.example.se',
      'nurse2@team-a.example.se',
      'nurse@team-b.example.se',
      'admin@team-a.example.se',
    ]);
    expect(rows[0]).toMatchObject({
      action: 'patient.read',
      reach: 'responsible',
      userTeams: 'Team A',
      teamName: 'Team A',
    });
    expect(rows[2]).toMatchObject({ reach: 'outside', userTeams: null });
    expect(rows[5]).toMatchObject({ reach: 'granted', userTeams: 'Team B', teamName: 'Team A' });
  });

  it('gives the same as CSV, formulas neutralised, with neither name nor identity number in the file name', async () => {
    const csv = await A.admin.get(`/api/patients/${A.patientId}/access-log?format=csv&${inPeriod}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const disposition = csv.headers.get('content-disposition')!;
    expect(disposition).toContain(`access-log-${A.patientId}.csv`);
    expect(disposition).not.toMatch(/Patient|19121212|191212/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe("time,action,outcome,user,email,care unit,origin,reached via,user's teams");
    expect(lines).toHaveLength(8);
    expect(lines[6]).toMatch(
      /,patient\.read,success,nurse of Team B,nurse@team-b\.example\.se,Team A,10\.1\.2\.3,granted,Team B$/,
    );
  });

  it('records a real read through a grant as via granted, and the extract shows it', async () => {
    expect((await B.nurse.get(`/api/patients/${A.patientId}`)).status).toBe(200);
    const row = await env.system.db.pool.query(
      `select detail, team_id from audit_events where actor_user_id = $1 and patient_id = $2 and action = 'patient.read'
       order by id desc limit 1`,
      [B.nurseId, A.patientId],
    );
    expect(row.rows[0]).toMatchObject({ detail: { via: 'granted' }, team_id: A.teamId });
    const extract = await A.admin.get(`/api/patients/${A.patientId}/access-log`);
    expect(extract.body.accesses.at(-1)).toMatchObject({ userEmail: 'nurse@team-b.example.se', reach: 'granted' });
  });
});

describe('the systematic log review', () => {
  it('flags exactly the accesses that deserve a look, and none of the ordinary ones', async () => {
    const answer = await A.admin.get(`/api/teams/${A.teamId}/audit-review?${inPeriod}`);
    expect(answer.status).toBe(200);
    const findings = answer.body.findings as Finding[];
    const day = (d: number) => swedishLocalDate(at(d, 12).getTime());
    expect(findings.map(key).sort()).toEqual(
      [
        `granted ${B.nurseId} ${A.patientId} ${day(1)}`,
        `off_hours ${A.nurseId} ${extra[1]} ${day(2)}`,
        `high_volume ${heavy.id} null ${day(2)}`,
        `outside_team ${visitorId} ${A.patientId} ${day(0)}`,
      ].sort(),
    );
    const volume = findings.find((f) => f.reason === 'high_volume')!;
    expect(volume).toMatchObject({ distinctPatients: 12, threshold: 10, events: 12, userName: 'Heavy Reader' });
    const granted = findings.find((f) => f.reason === 'granted')!;
    expect(granted).toMatchObject({
      reach: 'granted',
      patientName: 'Patient of Team A',
      userEmail: 'nurse@team-b.example.se',
    });
    expect(findings.find((f) => f.reason === 'off_hours')!.firstAt).toBe(at(2, 22).toISOString());
    expect(answer.body).toMatchObject({
      events: 2 + 1 + 13 + 1 + 1 + 1 + 1 + 12 + 1,
      volume: { medianPerUserDay: 1, threshold: 10 },
      rules: { workdayStartHour: 7, workdayEndHour: 19, volumeMinimum: 10, volumeFactor: 3 },
    });
    // Findings are sorted newest first.
    const last = findings.map((f) => Date.parse(f.lastAt as string));
    expect([...last].sort((a, b) => b - a)).toEqual(last);
  });

  it("keeps each team's review to its own patients", async () => {
    const b = await B.admin.get(`/api/teams/${B.teamId}/audit-review?${inPeriod}`);
    expect(b.body.findings.map(key)).toEqual([
      `off_hours ${B.nurseId} ${B.patientId} ${swedishLocalDate(at(1, 23).getTime())}`,
    ]);
    expect((await B.admin.get(`/api/teams/${A.teamId}/audit-review?${inPeriod}`)).status).toBe(404);
  });

  it('records who reviewed which period, when, with a conclusion, and lists it', async () => {
    const before = Date.now();
    const made = await A.admin.post(`/api/teams/${A.teamId}/audit-reviews`, {
      ...period,
      conclusion: '  Grant to Team B agreed with the clinic; the late read was an on-call phone call.  ',
    });
    expect(made.status).toBe(201);
    expect(made.body.review).toMatchObject({
      teamId: A.teamId,
      from: period.from,
      to: period.to,
      reviewedBy: A.adminId,
      reviewerName: 'admin of Team A',
      conclusion: 'Grant to Team B agreed with the clinic; the late read was an on-call phone call.',
      findings: 4,
      events: 33,
    });
    expect(Date.parse(made.body.review.reviewedAt)).toBeGreaterThanOrEqual(before - 1000);
    const list = await A.admin.get(`/api/teams/${A.teamId}/audit-reviews`);
    expect(list.body.reviews.map((r: { id: string }) => r.id)).toEqual([made.body.review.id]);
    const run = await A.admin.get(`/api/teams/${A.teamId}/audit-review?${inPeriod}`);
    expect(run.body.reviews.map((r: { id: string }) => r.id)).toEqual([made.body.review.id]);
    // Another period's review does not list it; team B has none.
    const later = `from=${encodeURIComponent(at(5, 0).toISOString())}&to=${encodeURIComponent(at(6, 0).toISOString())}`;
    expect((await A.admin.get(`/api/teams/${A.teamId}/audit-review?${later}`)).body.reviews).toEqual([]);
    expect((await B.admin.get(`/api/teams/${B.teamId}/audit-reviews`)).body.reviews).toEqual([]);
  });

  it('refuses a period that is empty, reversed or longer than 93 days, naming the field', async () => {
    const reversed = await A.admin.post(`/api/teams/${A.teamId}/audit-reviews`, { from: period.to, to: period.from });
    expect(reversed.status).toBe(400);
    expect(reversed.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'from' });
    const long = await A.admin.get(
      `/api/teams/${A.teamId}/audit-review?from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z`,
    );
    expect(long.status).toBe(400);
    expect(long.body.error.message).toMatch(/93 days/);
    const missing = await A.admin.post(`/api/teams/${A.teamId}/audit-reviews`, { from: period.from });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe('to');
    const local = await A.admin.post(`/api/teams/${A.teamId}/audit-reviews`, { ...period, to: '2026-11-01T10:00:00' });
    expect(local.body.error.field).toBe('to');
  });

  it('is itself in the audit trail: searches, extracts, reviews run, recorded and listed', async () => {
    const rows = await env.system.db.pool.query<{ action: string; team_id: string | null }>(
      `select distinct action, team_id from audit_events where actor_user_id = $1 and action like 'audit.%'`,
      [A.adminId],
    );
    const seen = rows.rows.map((r) => `${r.action} ${r.team_id}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        `audit.read ${A.teamId}`,
        `audit.extract ${A.teamId}`,
        `audit.review.run ${A.teamId}`,
        `audit.review.record ${A.teamId}`,
        `audit.review.list ${A.teamId}`,
      ]),
    );
  });

  it('keeps the audit trail and the review records append-only in the database', async () => {
    const db = env.system.db.pool;
    await expect(
      db.query(`update audit_events set action = 'rewritten' where actor_user_id = $1`, [heavy.id]),
    ).rejects.toThrow(/append-only/);
    await expect(db.query('delete from audit_events where actor_user_id = $1', [heavy.id])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query(`update audit_reviews set conclusion = 'nothing to see'`)).rejects.toThrow(/append-only/);
    await expect(db.query('delete from audit_reviews')).rejects.toThrow(/append-only/);
    const kept = await db.query('select count(*)::int as n from audit_events where actor_user_id = $1', [heavy.id]);
    expect(kept.rows[0].n).toBeGreaterThanOrEqual(12);
  });
});
