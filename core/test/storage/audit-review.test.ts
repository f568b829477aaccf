import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMember,
  auditReviews,
  createPatient,
  createTeam,
  createUser,
  recordAuditReview,
  searchAuditEvents,
  teamAccessHours,
  type Database,
} from '../../src/storage/index.ts';
import { BACKENDS, openTestDatabase } from '../support/databases.ts';

// The review's and the search's SQL on both backends (the embedded PGlite with TimescaleDB, and
// plain PostgreSQL): hour groups, reach facts, exact paging and the append-only review records.

describe.each(BACKENDS)('audit review storage on the %s backend', (backend) => {
  let db: Database & { dispose(): Promise<void> };
  let teamId: string;
  let otherTeamId: string;
  let nurse: string;
  let outsider: string;
  let patient: string;

  const insert = (at: string, userId: string, detail: Record<string, unknown> = {}, team = teamId) =>
    db.pool.query(
      `insert into audit_events (at, actor_kind, actor_user_id, action, patient_id, team_id, detail)
       values ($1, 'user', $2, 'patient.read', $3, $4, $5)`,
      [at, userId, patient, team, JSON.stringify(detail)],
    );

  beforeAll(async () => {
    db = await openTestDatabase(backend);
    teamId = (await createTeam(db.pool, { name: 'Ward' })).id;
    otherTeamId = (await createTeam(db.pool, { name: 'Consult' })).id;
    nurse = (await createUser(db.pool, { email: 'n@example.se', name: 'Nurse', passwordHash: null })).id;
    outsider = (await createUser(db.pool, { email: 'o@example.se', name: 'Outsider', passwordHash: null })).id;
    await addMember(db.pool, teamId, nurse, 'nurse');
    await addMember(db.pool, otherTeamId, outsider, 'nurse');
    patient = (await createPatient(db.pool, { teamId, name: 'Patient' })).id;
    // Two reads in one UTC hour, one in the next; the same microsecond-apart pair twice.
    await insert('2026-11-10T09:05:00.000001Z', nurse);
    await insert('2026-11-10T09:05:00.000002Z', nurse);
    await insert('2026-11-10T09:55:00Z', nurse);
    await insert('2026-11-10T10:00:00Z', nurse);
    await insert('2026-11-10T21:00:00Z', outsider, { via: 'granted' });
    await insert('2026-11-10T21:30:00Z', outsider, {}, otherTeamId);
  }, 120_000);
  afterAll(() => db?.dispose());

  it('groups accesses by user, patient and UTC hour, with the recorded reach and membership', async () => {
    const rows = await teamAccessHours(
      db.pool,
      teamId,
      new Date('2026-11-10T00:00:00Z'),
      new Date('2026-11-11T00:00:00Z'),
    );
    const view = rows
      .map((r) => ({
        user: r.userId === nurse ? 'nurse' : 'outsider',
        hour: r.hourStart.toISOString(),
        via: r.via,
        member: r.memberOfTeam,
        events: r.events,
        actions: r.actions,
        first: r.firstAt.toISOString(),
      }))
      .sort((a, b) => a.hour.localeCompare(b.hour));
    expect(view).toEqual([
      {
        user: 'nurse',
        hour: '2026-11-10T09:00:00.000Z',
        via: null,
        member: true,
        events: 3,
        actions: ['patient.read'],
        first: '2026-11-10T09:05:00.000Z',
      },
      {
        user: 'nurse',
        hour: '2026-11-10T10:00:00.000Z',
        via: null,
        member: true,
        events: 1,
        actions: ['patient.read'],
        first: '2026-11-10T10:00:00.000Z',
      },
      {
        user: 'outsider',
        hour: '2026-11-10T21:00:00.000Z',
        via: 'granted',
        member: false,
        events: 1,
        actions: ['patient.read'],
        first: '2026-11-10T21:00:00.000Z',
      },
    ]);
  });

  it('pages a search exactly, even between events a microsecond apart', async () => {
    const seen: string[] = [];
    let before: { at: string; id: string } | null = null;
    for (let page = 0; page < 10; page++) {
      const found = await searchAuditEvents(db.pool, {
        patientId: patient,
        from: new Date(0),
        to: new Date('2027-01-01T00:00:00Z'),
        teamIds: null,
        limit: 1,
        before,
      });
      seen.push(...found.events.map((e) => String(e.id)));
      if (!found.nextCursor) break;
      const [at, id] = found.nextCursor.split('~') as [string, string];
      before = { at, id };
    }
    const all = await db.pool.query<{ id: string }>(
      'select id from audit_events where patient_id = $1 order by at desc, id desc',
      [patient],
    );
    expect(seen).toEqual(all.rows.map((r) => String(r.id)));
    expect(seen).toHaveLength(6);
  });

  it('records reviews, lists those overlapping a period, and refuses to change or delete them', async () => {
    const review = await recordAuditReview(db.pool, {
      teamId,
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-12-01T00:00:00Z'),
      reviewedBy: nurse,
      conclusion: 'Nothing unusual.',
      events: 5,
      findings: 1,
      rules: { workdayStartHour: 7 },
    });
    expect(review).toMatchObject({ teamId, reviewerName: 'Nurse', conclusion: 'Nothing unusual.', findings: 1 });
    const overlap = (from: string, to: string) =>
      auditReviews(db.pool, teamId, { from: new Date(from), to: new Date(to) }).then((r) => r.map((x) => x.id));
    expect(await overlap('2026-11-30T00:00:00Z', '2026-12-05T00:00:00Z')).toEqual([review.id]);
    expect(await overlap('2026-12-01T00:00:00Z', '2026-12-05T00:00:00Z')).toEqual([]);
    expect(await auditReviews(db.pool, otherTeamId)).toEqual([]);
    await expect(db.pool.query(`update audit_reviews set conclusion = 'x'`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query('delete from audit_reviews')).rejects.toThrow(/append-only/);
    await expect(
      db.pool.query(
        `insert into audit_reviews (team_id, period_from, period_to, reviewed_by, events, findings)
         values ($1, '2026-12-01', '2026-11-01', $2, 0, 0)`,
        [teamId, nurse],
      ),
    ).rejects.toThrow(/check/);
  });
});
