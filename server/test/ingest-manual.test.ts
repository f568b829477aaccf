import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClinic, type TeamFixture, type TestSystem } from './support/clinic.ts';

// SPEC section 4, "People": a reading typed in by a nurse (manual entry) takes the device's
// rules and path to the board and the alert rules.
let env: TestSystem;
let A: TeamFixture;
const sockets: Socket[] = [];

beforeAll(async () => {
  [env, A] = await startClinic('Ingest A');
});
afterAll(async () => {
  sockets.forEach((s) => s.disconnect());
  await env?.stop();
});

const MINUTE = 60_000;

describe('manual entry (POST /api/patients/:id/readings)', () => {
  it("stores a typed value as source manual with who entered it, queues it for evaluation and shows it on the team's board", async () => {
    const nurse = await env.client().login('nurse@ingest-a.example.se', 'a long enough password');
    const board = io(`${env.system.url}/board`, {
      extraHeaders: { cookie: nurse.cookie! },
      transports: ['websocket'],
      forceNew: true,
    });
    sockets.push(board);
    const seen: Array<{ source: string; mmol: number | null }> = [];
    board.on('reading', (r: { source: string; mmol: number | null }) => seen.push(r));
    await new Promise<void>((resolve) => board.once('connect', () => resolve()));

    // Newer than any reading before it: an older value would be history to the rules.
    const measuredAt = new Date(Date.now() - 1000).toISOString();
    const enteredAt = new Date();
    const answer = await nurse.post(`/api/patients/${A.patientId}/readings`, {
      measuredAt,
      mmol: 2.7,
      meal: 'before',
      note: 'read off the meter at the home visit',
    });
    expect(answer.status).toBe(201);
    expect(answer.body.reading).toMatchObject({
      patientId: A.patientId,
      measuredAt,
      mmol: 2.7,
      kind: 'bgm',
      source: 'manual',
      seq: null,
      enteredBy: A.nurseId,
    });
    const row = await env.system.db.pool.query(
      'select source, kind, entered_by, note, meal, device_serial from readings where patient_id = $1 and source = $2',
      [A.patientId, 'manual'],
    );
    expect(row.rows).toEqual([
      {
        source: 'manual',
        kind: 'bgm',
        entered_by: A.nurseId,
        note: 'read off the meter at the home visit',
        meal: 'before',
        device_serial: null,
      },
    ]);
    // The same path to the rules as a meter's reading: 2.7 opens (or joins) the urgent_low episode.
    await expect
      .poll(
        async () =>
          (
            await env.system.db.pool.query(
              `select 1 from alerts where patient_id = $1 and rule = 'urgent_low' and updated_at >= $2`,
              [A.patientId, enteredAt],
            )
          ).rowCount,
        { timeout: 15_000 },
      )
      .toBe(1);
    await expect.poll(() => seen.filter((r) => r.source === 'manual').map((r) => r.mmol)).toEqual([2.7]);
    const audit = await env.system.db.pool.query(
      `select 1 from audit_events where action = 'readings.manual_entry' and actor_user_id = $1 and patient_id = $2`,
      [A.nurseId, A.patientId],
    );
    expect(audit.rowCount).toBe(1);
  });

  it('holds a typed value to the device rules and codes', async () => {
    const nurse = await env.client().login('nurse@ingest-a.example.se', 'a long enough password');
    const path = `/api/patients/${A.patientId}/readings`;
    const cases: Array<[unknown, string, string | undefined]> = [
      [{ measuredAt: new Date().toISOString(), mmol: 45 }, 'OUT_OF_RANGE', 'mmol'],
      [{ measuredAt: new Date(Date.now() + 60 * MINUTE).toISOString(), mmol: 5 }, 'FUTURE_TIMESTAMP', 'measuredAt'],
      [{ measuredAt: new Date(Date.now() - 100 * 24 * 60 * MINUTE).toISOString(), mmol: 5 }, 'TOO_OLD', 'measuredAt'],
      [{ measuredAt: new Date().toISOString(), mmol: null }, 'INVALID_READING', 'mmol'],
      [{ measuredAt: 'yesterday', mmol: 5 }, 'VALIDATION_FAILED', 'measuredAt'],
      [{ measuredAt: new Date().toISOString(), mmol: '5,4' }, 'VALIDATION_FAILED', 'mmol'],
    ];
    for (const [body, code, field] of cases) {
      const answer = await nurse.post(path, body);
      expect(answer.status, code).toBe(400);
      expect(answer.body.error).toMatchObject({ code, ...(field ? { field } : {}) });
    }
    expect((await nurse.post(path, { measuredAt: new Date().toISOString(), mmol: null, flag: 'LO' })).status).toBe(201);
  });

  it('stores a form sent twice with one Idempotency-Key once, and replays the first answer', async () => {
    const nurse = await env.client().login('nurse@ingest-a.example.se', 'a long enough password');
    const path = `/api/patients/${A.patientId}/readings`;
    const entry = { measuredAt: new Date(Date.now() - 3 * MINUTE).toISOString(), mmol: 7.7, note: 'twice' };
    const count = async () =>
      (
        await env.system.db.pool.query<{ n: number }>(
          `select count(*)::int as n from readings where patient_id = $1 and note = 'twice'`,
          [A.patientId],
        )
      ).rows[0]!.n;
    const key = { 'idempotency-key': `form-${Date.now()}` };
    // A double click: both at once.
    const [one, two] = await Promise.all([
      nurse.request('POST', path, entry, key),
      nurse.request('POST', path, entry, key),
    ]);
    expect([one.status, two.status].sort()).toEqual([200, 201]);
    expect(one.body).toEqual(two.body);
    expect(await count()).toBe(1);
    const again = await nurse.request('POST', path, entry, key);
    expect(again.status).toBe(200);
    expect(await count()).toBe(1);
    const reused = await nurse.request('POST', path, { ...entry, mmol: 7.8 }, key);
    expect(reused.status).toBe(422);
    expect(reused.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' });
    const bad = await nurse.request('POST', path, entry, { 'idempotency-key': 'två ord' });
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'Idempotency-Key' });
    // Without a key every send is a new entry, as before.
    expect((await nurse.post(path, entry)).status).toBe(201);
    expect(await count()).toBe(2);
  });
});
