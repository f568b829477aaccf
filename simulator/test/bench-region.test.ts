import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarize } from '@glucoboard/core/domain';
import { createTeam, statisticsInputOf } from '@glucoboard/core/storage';
import { BACKENDS, openTestDatabase } from '@glucoboard/core/test-support/databases';
import { planRegion, seedRegion, SLOTS_PER_DAY, STALE_SLOTS } from '../src/bench/read/region.ts';

const DAY_MS = 86_400_000;

describe('the read benchmark region plan', () => {
  it('is about 80 million readings at full size, in teams of 1,000', () => {
    const plan = planRegion({
      patients: 10_000,
      fraction: 1,
      teamSize: 1000,
      days: 28,
      historyDays: 90,
      historyPatients: 50,
    });
    expect(plan).toMatchObject({ patients: 10_000, teams: 10, teamSize: 1000, days: 28, historyDays: 90 });
    expect(plan.readingsApprox).toBeGreaterThan(79_000_000);
    expect(plan.readingsApprox).toBeLessThan(82_000_000);
  });

  it('keeps whole teams when seeding a fraction, and never a team larger than the region', () => {
    expect(
      planRegion({ patients: 10_000, fraction: 0.1, teamSize: 1000, days: 28, historyDays: 90, historyPatients: 50 }),
    ).toMatchObject({ patients: 1000, teams: 1, teamSize: 1000 });
    expect(
      planRegion({ patients: 10_000, fraction: 0.25, teamSize: 1000, days: 28, historyDays: 90, historyPatients: 50 }),
    ).toMatchObject({ patients: 2500, teams: 3 });
    expect(
      planRegion({ patients: 30, fraction: 1, teamSize: 1000, days: 2, historyDays: 1, historyPatients: 50 }),
    ).toMatchObject({
      patients: 30,
      teams: 1,
      teamSize: 30,
      historyDays: 2,
      historyPatients: 30,
    });
  });
});

describe.each(BACKENDS)('seeding a region on %s', (backend) => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  const plan = planRegion({ patients: 40, fraction: 1, teamSize: 20, days: 2, historyDays: 4, historyPatients: 3 });
  const now = new Date();
  let anchor: Date;
  let readings: number;
  let teamIds: string[];
  let indexesBefore: string[];
  const indexesOf = async () =>
    (
      await db.pool.query<{ d: string }>(
        `select indexdef as d from pg_indexes where schemaname = current_schema() and tablename = 'readings' order by 1`,
      )
    ).rows.map((r) => r.d);

  beforeAll(async () => {
    db = await openTestDatabase(backend);
    indexesBefore = await indexesOf();
    teamIds = [];
    for (let t = 0; t < plan.teams; t++) teamIds.push((await createTeam(db.pool, { name: `Region ${t}` })).id);
    ({ anchor, readings } = await seedRegion(db.pool, plan, { seed: 'test', teamIds, now, log: () => undefined }));
  }, 120_000);
  afterAll(() => db?.dispose());

  it('gives every patient a 5-minute CGM history of the planned length, a few sensor gaps, values a CGM shows', async () => {
    const stored = await db.pool.query<{ n: string }>('select count(*) as n from readings');
    expect(Number(stored.rows[0]!.n)).toBe(readings);
    expect(Math.abs(readings - plan.readingsApprox) / plan.readingsApprox).toBeLessThan(0.01);
    const perPatient = await db.pool.query<{
      team: string;
      n: number;
      newest: Date;
      oldest: Date;
      steps: number;
      bad: number;
    }>(
      `select p.team_id as team, count(*)::int as n, max(r.measured_at) as newest, min(r.measured_at) as oldest,
              count(*) filter (where extract(epoch from r.measured_at - r.prev) not in (300, 600))::int as steps,
              count(*) filter (where not ((r.mmol between 2.2 and 22.0 and r.flag is null) or (r.mmol is null and r.flag = 'LO')))::int as bad
       from (select *, lag(measured_at) over (partition by patient_id order by measured_at) as prev from readings) r
       join patients p on p.id = r.patient_id
       group by p.id, p.team_id, p.display_name order by p.display_name`,
    );
    expect(perPatient.rows).toHaveLength(plan.patients);
    perPatient.rows.forEach((row, i) => {
      const n = i + 1;
      const days = n <= plan.historyPatients ? plan.historyDays : plan.days;
      const slots = days * SLOTS_PER_DAY - (n % 20 === 0 ? STALE_SLOTS : 0);
      expect(row.n).toBeLessThanOrEqual(slots);
      expect(row.n).toBeGreaterThanOrEqual(Math.floor(slots * 0.98));
      expect(row.team).toBe(teamIds[Math.floor(i / plan.teamSize)]);
      expect(row.steps).toBe(0); // 5 minutes apart, or 10 across a gap
      expect(row.bad).toBe(0);
      const staleMs = n % 20 === 0 ? STALE_SLOTS * 300_000 : 0;
      expect(anchor.getTime() - row.newest.getTime()).toBeGreaterThanOrEqual(staleMs);
      expect(anchor.getTime() - row.newest.getTime()).toBeLessThanOrEqual(staleMs + 600_000);
      expect(anchor.getTime() - row.oldest.getTime()).toBeGreaterThan((days - 0.01) * DAY_MS - 3_600_000);
    });
  });

  it("leaves the readings' indexes as the migrations made them", async () => {
    expect(indexesBefore.length).toBeGreaterThanOrEqual(2);
    expect(await indexesOf()).toEqual(indexesBefore);
  });

  it('has each patient paired with a CGM, its last reading in the no-data state, and a summary a clinician would recognise', async () => {
    const state = await db.pool.query<{ missing: number }>(
      `select count(*)::int as missing from patients p
       left join patient_reading_state s on s.patient_id = p.id
       left join lateral (select max(measured_at) as m from readings r where r.patient_id = p.id) r on true
       where s.last_reading_at is distinct from r.m
          or not exists (select 1 from devices d where d.patient_id = p.id and d.kind = 'cgm' and d.revoked_at is null)`,
    );
    expect(state.rows[0]!.missing).toBe(0);
    const patient = await db.pool.query<{ id: string }>(`select id from patients order by display_name limit 1`);
    const input = await statisticsInputOf(db.pool, patient.rows[0]!.id, new Date(now.getTime() - 4 * DAY_MS), now);
    expect(input.monitoring).toBe('cgm');
    const summary = summarize(input.readings, { now, days: 4, deviceKind: 'cgm', targetProfile: 'standard' });
    expect(summary.mean).toBeGreaterThan(4);
    expect(summary.mean).toBeLessThan(14);
    expect(summary.count).toBe(input.readings.length);
  });
});

describe('the seeded table on PostgreSQL', () => {
  it('holds readings in arrival order across patients, as meters deliver them (not one patient after another)', async () => {
    const db = await openTestDatabase('postgres');
    try {
      const plan = planRegion({ patients: 10, fraction: 1, teamSize: 10, days: 2, historyDays: 3, historyPatients: 2 });
      const team = await createTeam(db.pool, { name: 'Order' });
      await seedRegion(db.pool, plan, { seed: 'order', teamIds: [team.id], now: new Date(), log: () => undefined });
      // A plain table's ctid order is its insertion order.
      const order = await db.pool.query<{ back: number; switches: number }>(
        `select count(*) filter (where measured_at < prev_at)::int as back,
                count(*) filter (where patient_id <> prev_patient)::int as switches
         from (select measured_at, patient_id, lag(measured_at) over (order by ctid) as prev_at,
                      lag(patient_id) over (order by ctid) as prev_patient from readings) x`,
      );
      expect(order.rows[0]!.back).toBe(0);
      expect(order.rows[0]!.switches).toBeGreaterThan(2 * 288 * 9 * 0.9);
    } finally {
      await db.dispose();
    }
  });
});
