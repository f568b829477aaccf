import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCgmSlots } from '@glucoboard/core/domain';
import { boardView } from '@glucoboard/core/wire';
import type { BoardPatientCounts } from '@glucoboard/core/storage';
import { BACKENDS } from '@glucoboard/core/test-support/databases';
import { StatisticsMemo } from '../src/api/board.ts';
import { ADMIN, buildTeam, startTestSystem, type TeamFixture } from './support/clinic.ts';
import type { Client } from './support/http.ts';

// Issue 7, "The live board": GET /api/board?teamId= gives every patient of the team in the SPEC's
// triage order (section 3). Patients are made through the API; their readings and alerts go straight
// into the database, as history and the workers would leave them, so no rule evaluation moves a
// patient to another category while the test looks.
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface Row {
  id: string;
  name: string;
  triage: { category: string; rank: number; since: string | null; measure: number | null };
  statistics: Record<string, unknown> & { ranges: Record<string, number | null> };
  alerts: { open: number; acknowledged: number; worstSeverity: string | null; escalated: boolean };
  sparkline: Array<
    [at: number, mmol: number | null, min: number | null, max: number | null, count: number, flag: string | null]
  >;
  recentCgm: Array<{ measuredAt: string; mmol: number }>;
  lastReading: { measuredAt: string; mmol: number | null; flag: string | null; kind: string } | null;
  lastReviewed: { at: string; by: { id: string; name: string } | null } | null;
  monitoring: string;
}

describe.each(BACKENDS)('the board on the %s backend', (backend) => {
  let env: Awaited<ReturnType<typeof startTestSystem>>;
  let A: TeamFixture;
  let B: TeamFixture;
  const ids: Record<string, string> = {};

  const sql = (text: string, values: unknown[]) => env.system.db.pool.query(text, values);

  /** Readings evenly spread over [fromDaysAgo, toDaysAgo], as stored history (no rule evaluation). */
  const history = async (
    patientId: string,
    values: ReadonlyArray<number | 'LO' | 'HI'>,
    fromDaysAgo: number,
    toDaysAgo: number,
    kind: 'bgm' | 'cgm' = 'bgm',
  ) => {
    const now = Date.now();
    const step = values.length > 1 ? ((fromDaysAgo - toDaysAgo) * DAY) / (values.length - 1) : 0;
    const at = values.map((_, i) => new Date(now - fromDaysAgo * DAY + i * step));
    await sql(
      `insert into readings (measured_at, patient_id, mmol, flag, kind, source)
       select t.at, $1, t.mmol, t.flag, $5, 'import' from unnest($2::timestamptz[], $3::float8[], $4::text[]) as t(at, mmol, flag)`,
      [
        patientId,
        at,
        values.map((v) => (typeof v === 'number' ? v : null)),
        values.map((v) => (typeof v === 'number' ? null : v)),
        kind,
      ],
    );
  };
  const times = (n: number, value: number | 'LO' | 'HI') => Array<number | 'LO' | 'HI'>(n).fill(value);
  const alert = (patientId: string, rule: string, severity: string, minutesAgo: number, state = 'open') =>
    sql(
      `insert into alerts (patient_id, team_id, rule, severity, state, opened_at, acknowledged_at, acknowledged_by)
       values ($1, $2, $3, $4, $5, $6, case when $5 = 'acknowledged' then now() end,
               case when $5 = 'acknowledged' then $7::uuid end)`,
      [patientId, A.teamId, rule, severity, state, new Date(Date.now() - minutesAgo * MINUTE), A.nurseId],
    );

  beforeAll(async () => {
    env = await startTestSystem(backend);
    const sys: Client = await env.client().login(ADMIN.email, ADMIN.password);
    A = await buildTeam(sys, env.system.url, 'Board A');
    B = await buildTeam(sys, env.system.url, 'Board B');
    const names = [
      'Critical newer',
      'Critical older',
      'Warning',
      'Acknowledged',
      'Very low',
      'Low',
      'Very high',
      'High',
      'TIR drop',
      'Little data',
      'Steady',
    ];
    for (const name of names) {
      const made = await A.admin.post('/api/patients', { name, teamId: A.teamId, labels: ['typ 1'] });
      expect(made.status).toBe(201);
      ids[name] = made.body.id;
    }
    ids['Patient of Board A'] = A.patientId; // a paired meter that never sent anything: too little data

    const inRange = times(50, 6.0);
    for (const name of ['Critical newer', 'Critical older', 'Warning', 'Acknowledged'])
      await history(ids[name]!, inRange, 13.5, 0.05);
    await alert(ids['Critical newer']!, 'urgent_low', 'critical', 10);
    await alert(ids['Critical older']!, 'urgent_high', 'critical', 30);
    await alert(ids.Warning!, 'high', 'warning', 60);
    await alert(ids.Acknowledged!, 'urgent_low', 'critical', 90, 'acknowledged');

    // 2 of 50 very low (4 %, one of them a meter's LO), 3 of 50 low (6 %), 4 of 50 very high (8 %),
    // 15 of 50 high (30 %); and 100 % in range falling to 80 % (20 % high, under the 25 % limit).
    await history(ids['Very low']!, [...times(48, 6.0), 'LO', 2.5], 13.5, 0.05);
    await history(ids.Low!, [...times(47, 6.0), 3.5, 3.8, 3.0], 13.5, 0.05);
    await history(ids['Very high']!, [...times(46, 6.0), 14.0, 'HI', 20.0, 15.5], 13.5, 0.05);
    await history(ids.High!, [...times(35, 6.0), ...times(15, 12.0)], 13.5, 0.05);
    await history(ids['TIR drop']!, inRange, 27.5, 14.5);
    await history(ids['TIR drop']!, [...times(40, 6.0), ...times(10, 11.0)], 13.5, 0.05);

    // A CGM wearer with four values in the last 20 minutes, and nothing else: far below 70 %.
    const sensor = await A.admin.post('/api/devices', {
      serial: `board-cgm-${backend}`,
      kind: 'cgm',
      patientId: ids['Little data'],
    });
    expect(sensor.status).toBe(201);
    await history(ids['Little data']!, [5.0, 5.5, 6.0, 6.5], 16 / (24 * 60), 1 / (24 * 60), 'cgm');

    // Steady: the 14 days in range, and the last 24 h every 5 minutes from a fingerstick meter.
    await history(ids.Steady!, inRange, 13.5, 1.5);
    await history(ids.Steady!, times(288, 6.5), 1 - 2 / (24 * 60), 2 / (24 * 60));
    expect((await A.nurse.post(`/api/patients/${ids.Steady}/review`)).status).toBe(200);

    // Team B has a patient of its own that team A must never see.
    await sql(
      `insert into readings (measured_at, patient_id, mmol, kind, source) values (now() - interval '1 hour', $1, 2.0, 'bgm', 'import')`,
      [B.patientId],
    );
  });
  afterAll(() => env?.stop());

  const board = async (client: Client, teamId: string) => {
    const answer = await client.get(`/api/board?teamId=${teamId}`);
    expect(answer.status, answer.text).toBe(200);
    return answer.body as {
      teamId: string;
      generatedAt: string;
      statisticsAt: string;
      patients: Row[];
      sparklineBinMinutes: number;
    };
  };

  it('orders the patients by triage: alerts oldest first, then the 14-day flags, too little data, the rest', async () => {
    const answer = await board(A.nurse, A.teamId);
    expect(answer.teamId).toBe(A.teamId);
    expect(Date.parse(answer.generatedAt) - Date.parse(answer.statisticsAt)).toBeLessThan(60_000);
    expect(answer.patients.map((p) => [p.name, p.triage.category])).toEqual([
      ['Critical older', 'critical_alert'],
      ['Critical newer', 'critical_alert'],
      // Issue 11 item 1: acknowledged is not resolved; the patient stays with the criticals, after the open ones.
      ['Acknowledged', 'critical_acknowledged'],
      ['Warning', 'warning_alert'],
      ['Very low', 'very_low'],
      ['Low', 'low'],
      ['Very high', 'very_high'],
      ['High', 'high'],
      ['TIR drop', 'tir_drop'],
      ['Little data', 'too_little_data'],
      ['Patient of Board A', 'too_little_data'],
      ['Steady', 'rest'],
    ]);
    const byName = new Map(answer.patients.map((p) => [p.name, p]));
    expect(byName.get('Very low')!.triage.measure).toBeCloseTo(4, 10);
    expect(byName.get('Low')!.triage.measure).toBeCloseTo(6, 10);
    expect(byName.get('Very high')!.triage.measure).toBeCloseTo(8, 10);
    expect(byName.get('High')!.triage.measure).toBeCloseTo(30, 10);
    expect(byName.get('TIR drop')!.triage.measure).toBeCloseTo(20, 10);
    expect(byName.get('TIR drop')!.statistics).toMatchObject({ count: 50, previousCount: 50 });
    expect(byName.get('TIR drop')!.statistics.previousRanges).toMatchObject({ inRange: 100 });
    expect(byName.get('Critical older')!.alerts).toEqual({
      open: 1,
      acknowledged: 0,
      worstSeverity: 'critical',
      escalated: false,
    });
    expect(byName.get('Acknowledged')!.alerts).toMatchObject({ open: 0, acknowledged: 1, worstSeverity: 'critical' });
    expect(byName.get('Steady')!.alerts).toMatchObject({ open: 0, acknowledged: 0, worstSeverity: null });
  });

  it('gives each row its last reading, 24 h sparkline, CGM trend input, sufficiency and last review', async () => {
    const answer = await board(A.nurse, A.teamId);
    const byName = new Map(answer.patients.map((p) => [p.name, p]));

    const steady = byName.get('Steady')!;
    expect(steady.monitoring).toBe('bgm');
    expect(steady.lastReading).toMatchObject({ mmol: 6.5, flag: null, kind: 'bgm' });
    expect(answer.sparklineBinMinutes).toBe(15);
    expect(steady.sparkline.length).toBeGreaterThanOrEqual(95);
    expect(steady.sparkline.length).toBeLessThanOrEqual(97);
    expect(
      steady.sparkline.every(
        ([, mmol, min, max, , flag]) => mmol === 6.5 && min === 6.5 && max === 6.5 && flag === null,
      ),
    ).toBe(true);
    expect(steady.sparkline.reduce((n, [, , , , count]) => n + count, 0)).toBe(288);
    // Bins on the clock's 15-minute grid, oldest first.
    expect(steady.sparkline.every(([at]) => at % (15 * 60_000) === 0)).toBe(true);
    expect(steady.sparkline.map(([at]) => at)).toEqual(steady.sparkline.map(([at]) => at).sort((a, b) => a - b));
    expect(() => boardView.parse(answer)).not.toThrow();
    expect(steady.statistics.dataSufficiency).toBeNull();
    expect(steady.statistics.tooLittleData).toBe(false);
    expect(steady.recentCgm).toEqual([]);
    expect(steady.lastReviewed).toMatchObject({ by: { id: A.nurseId, name: 'nurse of Board A' } });

    const cgm = byName.get('Little data')!;
    expect(cgm.monitoring).toBe('cgm');
    expect(cgm.recentCgm.map((r) => r.mmol)).toEqual([5.0, 5.5, 6.0, 6.5]);
    expect(cgm.lastReading).toMatchObject({ mmol: 6.5, kind: 'cgm' });
    // Four of the clock's 5-minute slots that the 14 days up to the counts' time overlap.
    const countedAt = new Date(answer.statisticsAt).getTime();
    expect(cgm.statistics.dataSufficiency).toBeCloseTo(
      (100 * 4) / expectedCgmSlots(countedAt - 14 * DAY, countedAt),
      10,
    );
    expect(cgm.statistics).toMatchObject({ tooLittleData: true, noDataMinutes: 30 });

    const none = byName.get('Patient of Board A')!;
    expect(none).toMatchObject({ lastReading: null, sparkline: [], monitoring: 'bgm', lastReviewed: null });
    expect(none.statistics).toMatchObject({ count: 0, noDataMinutes: 2880, tooLittleData: true });
    expect(none.statistics.ranges).toEqual({ veryLow: null, low: null, inRange: null, high: null, veryHigh: null });

    const veryLow = byName.get('Very low')!;
    expect(veryLow.lastReading).toMatchObject({ mmol: 2.5, flag: null });
  });

  it('counts time in ranges exactly as the summary does', async () => {
    const answer = await board(A.nurse, A.teamId);
    for (const name of ['Very low', 'Very high', 'High', 'Little data', 'Steady']) {
      const row = answer.patients.find((p) => p.name === name)!;
      const summary = (await A.nurse.get(`/api/patients/${row.id}/summary?days=14`)).body;
      expect(row.statistics.ranges, name).toEqual(summary.ranges);
      expect(row.statistics.count, name).toBe(summary.count);
      if (summary.dataSufficiency === null) expect(row.statistics.dataSufficiency).toBeNull();
      else expect(row.statistics.dataSufficiency).toBeCloseTo(summary.dataSufficiency, 6);
    }
  });

  it("answers 404 for another team's board, as for a team that does not exist", async () => {
    for (const caller of [B.nurse, B.admin]) {
      const answer = await caller.get(`/api/board?teamId=${A.teamId}`);
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe('NOT_FOUND');
    }
    const missing = await A.nurse.get('/api/board?teamId=00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    const own = await board(B.nurse, B.teamId);
    expect(own.patients.map((p) => p.id)).toEqual([B.patientId]);
    expect(own.patients[0]!.lastReading).toMatchObject({ mmol: 2.0 });
  });

  it('answers 400 without a team and 401 without a session', async () => {
    const noTeam = await A.nurse.get('/api/board');
    expect(noTeam.status).toBe(400);
    expect(noTeam.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'teamId' });
    expect((await A.nurse.get('/api/board?teamId=nope')).status).toBe(400);
    expect((await env.client().get(`/api/board?teamId=${A.teamId}`)).status).toBe(401);
  });

  it('records one board.read audit event per patient shown, with user, care unit and origin', async () => {
    const mark = await sql('select coalesce(max(id), 0)::int as id from audit_events', []);
    await board(A.nurse, A.teamId);
    const rows = await sql(
      `select actor_user_id, patient_id, team_id, origin, outcome from audit_events
       where id > $1 and action = 'board.read' order by id`,
      [mark.rows[0]!.id],
    );
    expect(rows.rows.map((r) => r.patient_id).sort()).toEqual(Object.values(ids).sort());
    for (const row of rows.rows) {
      expect(row).toMatchObject({ actor_user_id: A.nurseId, team_id: A.teamId, outcome: 'success' });
      expect(row.origin).toMatch(/127\.0\.0\.1/);
    }
    // The refused look at team A's board shows nobody, so it records no patient.
    const before = await sql(`select count(*)::int as n from audit_events where action = 'board.read'`, []);
    await B.nurse.get(`/api/board?teamId=${A.teamId}`);
    const after = await sql(`select count(*)::int as n from audit_events where action = 'board.read'`, []);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('shows a reading entered late in the sparkline bins the server kept from the last answer', async () => {
    const made = await A.admin.post('/api/patients', { name: 'Home visit', teamId: A.teamId, labels: [] });
    expect(made.status).toBe(201);
    const before = (await board(A.nurse, A.teamId)).patients.find((p) => p.id === made.body.id)!;
    expect(before.sparkline).toEqual([]);
    // Read off a meter at a home visit three hours after it was measured.
    const measuredAt = Date.now() - 3 * 60 * 60_000;
    const bin = Math.floor(measuredAt / (15 * 60_000)) * 15 * 60_000;
    const entered = await A.nurse.post(`/api/patients/${before.id}/readings`, {
      measuredAt: new Date(measuredAt).toISOString(),
      mmol: 4.4,
    });
    expect(entered.status, entered.text).toBe(201);
    const after = (await board(A.nurse, A.teamId)).patients.find((p) => p.id === before.id)!;
    expect(after.sparkline).toEqual([[bin, 4.4, 4.4, 4.4, 1, null]]);
  });

  it('describes the route and its answer in the OpenAPI document', async () => {
    const document = (await env.client().get('/api/openapi.json')).body;
    const operation = document.paths['/api/board'].get;
    expect(operation.parameters).toContainEqual(
      expect.objectContaining({ name: 'teamId', in: 'query', required: true }),
    );
    expect(Object.keys(operation.responses['200'].content['application/json'].schema.properties)).toEqual(
      expect.arrayContaining(['teamId', 'generatedAt', 'patients']),
    );
  });
});

describe('the memo of 14-day counts', () => {
  const zero = [0, 0, 0, 0, 0, 0, 0];
  const counts = (ids: string[]) =>
    new Map<string, BoardPatientCounts>(
      ids.map((id) => [id, { current: zero, previous: zero, cgmSlots: 0, cgmSeen: false }]),
    );

  it('computes a team once a minute, shares a computation in flight, and recomputes for a new patient', async () => {
    let clock = 1_000_000;
    const memo = new StatisticsMemo(60_000, () => clock);
    const calls: number[] = [];
    const compute = (ids: string[]) => async (now: Date) => {
      calls.push(now.getTime());
      return counts(ids);
    };
    const [first, second] = await Promise.all([
      memo.countsOf('team', ['a', 'b'], compute(['a', 'b'])),
      memo.countsOf('team', ['a', 'b'], compute(['a', 'b'])),
    ]);
    expect(calls).toEqual([1_000_000]);
    expect(first.at).toEqual(second.at);
    clock += 59_000;
    expect((await memo.countsOf('team', ['a'], compute(['a']))).at.getTime()).toBe(1_000_000);
    expect(calls).toHaveLength(1);
    await memo.countsOf('other team', ['x'], compute(['x']));
    expect(calls).toHaveLength(2);
    const withNew = await memo.countsOf('team', ['a', 'b', 'c'], compute(['a', 'b', 'c']));
    expect(withNew.at.getTime()).toBe(clock);
    expect(withNew.counts.has('c')).toBe(true);
    clock += 130_000;
    await memo.countsOf('team', ['a', 'b', 'c'], compute(['a', 'b', 'c']));
    expect(calls).toHaveLength(4);
  });

  it('after a minute answers at once from the counts it has and recounts behind the request, once', async () => {
    let clock = 1_000_000;
    const memo = new StatisticsMemo(60_000, () => clock, 60_000);
    let release: (() => void) | undefined;
    const calls: number[] = [];
    const compute = async (now: Date) => {
      calls.push(now.getTime());
      if (calls.length > 1) await new Promise<void>((resolve) => (release = resolve));
      return counts(['a']);
    };
    await memo.countsOf('team', ['a'], compute);
    clock += 61_000;
    // The recount is held open: the answers must not wait for it.
    const [stale, again] = await Promise.all([
      memo.countsOf('team', ['a'], compute),
      memo.countsOf('team', ['a'], compute),
    ]);
    expect(stale.at.getTime()).toBe(1_000_000);
    expect(again.at.getTime()).toBe(1_000_000);
    expect(calls).toEqual([1_000_000, 1_061_000]);
    release!();
    await new Promise((resolve) => setImmediate(resolve));
    expect((await memo.countsOf('team', ['a'], compute)).at.getTime()).toBe(1_061_000);
    expect(calls).toHaveLength(2);
  });

  it('waits for a recount when the counts it has are older than the minute and the stale time', async () => {
    let clock = 0;
    const memo = new StatisticsMemo(60_000, () => clock, 60_000);
    const calls: number[] = [];
    const compute = async (now: Date) => {
      calls.push(now.getTime());
      return counts(['a']);
    };
    await memo.countsOf('team', ['a'], compute);
    clock = 120_000;
    expect((await memo.countsOf('team', ['a'], compute)).at.getTime()).toBe(120_000);
    expect(calls).toEqual([0, 120_000]);
  });

  it('keeps the counts it has when a recount behind the requests fails', async () => {
    let clock = 0;
    const memo = new StatisticsMemo(60_000, () => clock, 60_000);
    let fail = false;
    const compute = async () => {
      if (fail) throw new Error('database restarting');
      return counts(['a']);
    };
    await memo.countsOf('team', ['a'], compute);
    fail = true;
    clock = 70_000;
    expect((await memo.countsOf('team', ['a'], compute)).at.getTime()).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    clock = 80_000;
    expect((await memo.countsOf('team', ['a'], compute)).at.getTime()).toBe(0);
    // Past the stale time the request waits, and sees the failure.
    clock = 121_000;
    await expect(memo.countsOf('team', ['a'], compute)).rejects.toThrow('database restarting');
  });

  it('keeps no failure: the next request tries again', async () => {
    const memo = new StatisticsMemo(60_000, () => 0);
    await expect(memo.countsOf('team', ['a'], () => Promise.reject(new Error('database restarting')))).rejects.toThrow(
      'database restarting',
    );
    const answer = await memo.countsOf('team', ['a'], async () => counts(['a']));
    expect(answer.counts.has('a')).toBe(true);
  });
});
