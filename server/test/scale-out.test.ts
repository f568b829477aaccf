import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@glucoboard/core/test-support/databases';
import { freePort, runEntryPoint, waitForOk, type RunningProcess } from '@glucoboard/core/test-support/processes';
import { dropRedisPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '@glucoboard/core/test-support/redis';
import pg from 'pg';
import { ADMIN, addPatientsWithMeters, buildTeam, type TeamFixture } from './support/clinic.ts';
import { Client } from './support/http.ts';
import { sendReadings, Sockets } from './support/sockets.ts';

// Issue 17, goal 3: scale out is proven, not assumed. Two server processes (RUN_WORKERS=0) and two
// workers processes on one PostgreSQL database and one Redis prefix, as `npm start` and
// `npm run workers` run them: a board on server A sees what meters send to server B, each reading
// and each alert exactly once, and the two workers evaluating one outbox raise one alert per episode.

const MINUTE = 60_000;
const START_MS = 90_000;
const prefix = uniqueRedisPrefix();
const processes: RunningProcess[] = [];
let database: TestDatabase;
let serverA: string;
let serverB: string;
let team: TeamFixture;
let meters: Awaited<ReturnType<typeof addPatientsWithMeters>>;
let pool: pg.Pool;
const sockets = { a: new Sockets(() => serverA), b: new Sockets(() => serverB) };

async function startServer(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const proc = runEntryPoint('server/src/main.ts', { ...env, PORT: String(port), RUN_WORKERS: '0' });
  processes.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitForOk(`${url}/readyz`, proc, START_MS);
  return url;
}

async function startWorkers(env: Record<string, string>): Promise<void> {
  const port = await freePort();
  const proc = runEntryPoint('workers/src/main.ts', { ...env, WORKER_HEALTH_PORT: String(port) });
  processes.push(proc);
  await waitForOk(`http://127.0.0.1:${port}/healthz`, proc, START_MS);
}

beforeAll(async () => {
  database = await createTestDatabase('postgres');
  const env = {
    DATABASE_URL: database.databaseUrl!,
    DATA_DIR: database.dataDir,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DEMO: '0',
    HOST: '127.0.0.1',
  };
  // A first: it migrates; B and the workers find the schema in place.
  serverA = await startServer(env);
  serverB = await startServer(env);
  await Promise.all([startWorkers(env), startWorkers(env)]);
  pool = new pg.Pool({ connectionString: database.databaseUrl!, max: 2 });
  const sysadmin = await new Client(serverA).login(ADMIN.email, ADMIN.password);
  team = await buildTeam(sysadmin, serverA, 'Scale out');
  meters = await addPatientsWithMeters(team.admin, team.teamId, 4, `scale-${prefix}`);
}, 4 * START_MS);

afterAll(async () => {
  sockets.a.closeAll();
  sockets.b.closeAll();
  await pool?.end();
  for (const proc of processes) proc.child.kill('SIGTERM');
  await Promise.all(processes.map((p) => p.exited));
  await database?.dispose();
  await dropRedisPrefix(prefix);
});

/** Events of one name heard by a board, for one patient. */
const heardFor = (heard: Map<string, unknown[]>, event: string, patientId: string) =>
  (heard.get(event) ?? []).filter((p) => (p as { patientId: string }).patientId === patientId) as Array<
    Record<string, unknown>
  >;

let seq = 0;
const lows = (count: number, endAgo: number) => {
  const end = Date.now() - endAgo;
  return Array.from({ length: count }, (_, i) => ({
    seq: seq++,
    measuredAt: new Date(end - (count - 1 - i) * MINUTE).toISOString(),
    mmol: 2.8 - (i % 3) / 10,
    kind: 'cgm',
  }));
};

describe('two servers and two workers processes on one database and Redis', () => {
  it('a board on server A sees a reading and an alert ingested on server B exactly once; two workers raise one alert', async () => {
    // The nurse signed in on A; the board connects to A only.
    const { heard } = await sockets.a.board(team.nurse.cookie!);
    const [normal, low, ...others] = meters;

    // One ordinary reading through B: its `reading` event reaches A's board, once.
    const meterB = await sockets.b.meter(normal!);
    const measuredAt = new Date(Date.now() - MINUTE).toISOString();
    expect(
      await sendReadings(meterB, { readings: [{ seq: seq++, measuredAt, mmol: 6.3, kind: 'cgm' }] }),
    ).toMatchObject({ ok: true, accepted: 1 });
    await expect.poll(() => heardFor(heard, 'reading', normal!.patientId).length, { timeout: 15_000 }).toBe(1);
    expect(heardFor(heard, 'reading', normal!.patientId)[0]).toMatchObject({
      patientId: normal!.patientId,
      teamId: team.teamId,
      mmol: 6.3,
      kind: 'cgm',
    });
    expect(new Date(heardFor(heard, 'reading', normal!.patientId)[0]!.measuredAt as string).toISOString()).toBe(
      measuredAt,
    );

    // Urgent lows in several batches, through B for one patient and through both servers for the
    // others, so that both workers take evaluation jobs of the same episodes.
    const lowB = await sockets.b.meter(low!);
    const batches = 6;
    for (let b = 0; b < batches; b++) {
      expect(await sendReadings(lowB, { readings: lows(3, (batches - b) * 3 * MINUTE) })).toMatchObject({
        ok: true,
        accepted: 3,
      });
    }
    await Promise.all(
      others.map(async (m, i) => {
        const socket = await (i % 2 === 0 ? sockets.a : sockets.b).meter(m);
        for (let b = 0; b < batches; b++) {
          expect(await sendReadings(socket, { readings: lows(3, (batches - b) * 3 * MINUTE) })).toMatchObject({
            ok: true,
          });
        }
      }),
    );

    // Every committed batch evaluated: the outbox is empty.
    await expect
      .poll(async () => Number((await pool.query('select count(*) as n from evaluation_outbox')).rows[0].n), {
        timeout: 60_000,
        interval: 200,
      })
      .toBe(0);
    await expect.poll(() => heardFor(heard, 'alert', low!.patientId).length, { timeout: 15_000 }).toBe(1);
    // Late duplicates would come after the first; give them time to show.
    await new Promise((r) => setTimeout(r, 1500));

    expect(heardFor(heard, 'alert', low!.patientId)).toEqual([
      expect.objectContaining({ patientId: low!.patientId, severity: 'critical', rule: 'urgent_low' }),
    ]);
    const alertRows = await pool.query<{ patient_id: string; n: string }>(
      `select patient_id, count(*) as n from alerts where rule = 'urgent_low' and patient_id = any($1::uuid[])
         group by patient_id`,
      [[low!.patientId, ...others.map((m) => m.patientId)]],
    );
    expect(new Map(alertRows.rows.map((r) => [r.patient_id, Number(r.n)]))).toEqual(
      new Map([low!, ...others].map((m) => [m.patientId, 1])),
    );
    for (const m of [low!, ...others]) expect(heardFor(heard, 'alert', m.patientId)).toHaveLength(1);

    // Each reading the board heard, exactly once, and every one stored (B's and A's alike).
    const readingEvents = heard.get('reading') ?? [];
    const keys = readingEvents.map((r) => {
      const e = r as { patientId: string; measuredAt: string };
      return `${e.patientId} ${new Date(e.measuredAt).toISOString()}`;
    });
    expect(new Set(keys).size).toBe(keys.length);
    const stored = await pool.query<{ n: string }>(
      'select count(*) as n from readings where patient_id = any($1::uuid[])',
      [meters.map((m) => m.patientId)],
    );
    expect(keys.length).toBe(Number(stored.rows[0]!.n));
  }, 180_000);
});
