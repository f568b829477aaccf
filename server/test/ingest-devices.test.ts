import { Queue } from 'bullmq';
import pg from 'pg';
import { queuePrefix, QUEUES } from '@glucoboard/core/wire';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, buildTeam, startClinic, startTestSystem, type TeamFixture, type TestSystem } from './support/clinic.ts';
import { sendReadings, Sockets } from './support/sockets.ts';

// SPEC section 4, "Devices": the device half of the wire contract, driven by real Socket.IO
// clients and a real HTTP gateway against a running system.
let env: TestSystem;
let A: TeamFixture;
let B: TeamFixture;
const sockets: Socket[] = [];

beforeAll(async () => {
  [env, A, B] = await startClinic('Ingest A', 'Ingest B');
});
afterAll(async () => {
  sockets.forEach((s) => s.disconnect());
  meters.closeAll();
  await env?.stop();
});

const MINUTE = 60_000;

const meters = new Sockets(() => env.system.url);
const meter = (team: TeamFixture) => meters.meter(team);
const send = sendReadings;

let nextSeq = 1000;
function readings(count: number, overrides: Record<string, unknown> = {}) {
  const start = Date.now() - count * 5 * MINUTE;
  return Array.from({ length: count }, (_, i) => ({
    seq: nextSeq++,
    measuredAt: new Date(start + i * 5 * MINUTE).toISOString(),
    mmol: 5 + (i % 50) / 10,
    ...overrides,
  }));
}

const rowsOf = async (team: TeamFixture) =>
  (
    await env.system.db.pool.query<{ n: number }>('select count(*)::int as n from readings where device_serial = $1', [
      team.deviceId,
    ])
  ).rows[0]!.n;

describe('the readings event on /devices', () => {
  it('stores a batch, acks after commit, and shows it live on the own team board only', async () => {
    const nurseA = await env.client().login('nurse@ingest-a.example.se', 'a long enough password');
    const nurseB = await env.client().login('nurse@ingest-b.example.se', 'a long enough password');
    const boardA = io(`${env.system.url}/board`, {
      extraHeaders: { cookie: nurseA.cookie! },
      transports: ['websocket'],
      forceNew: true,
    });
    const boardB = io(`${env.system.url}/board`, {
      extraHeaders: { cookie: nurseB.cookie! },
      transports: ['websocket'],
      forceNew: true,
    });
    sockets.push(boardA, boardB);
    const seenA: unknown[] = [];
    const seenB: unknown[] = [];
    boardA.on('reading', (r) => seenA.push(r));
    boardB.on('reading', (r) => seenB.push(r));
    await Promise.all([boardA, boardB].map((b) => new Promise<void>((resolve) => b.once('connect', () => resolve()))));

    const socket = await meter(A);
    const before = await rowsOf(A);
    const batch = readings(3);
    const ack = await send(socket, { readings: batch });
    expect(ack).toEqual({ ok: true, accepted: 3, duplicates: 0, rejected: [] });
    expect(await rowsOf(A)).toBe(before + 3);
    await expect.poll(() => seenA.length).toBe(3);
    expect(seenA[0]).toEqual({
      patientId: A.patientId,
      teamId: A.teamId,
      measuredAt: batch[0]!.measuredAt,
      mmol: batch[0]!.mmol,
      flag: null,
      kind: 'bgm',
      source: 'device',
    });
    // B's board hears B's own reading, and nothing of A's before it.
    await send(await meter(B), { readings: readings(1) });
    await expect.poll(() => seenB.length).toBe(1);
    expect((seenB[0] as { teamId: string }).teamId).toBe(B.teamId);
  });

  it('counts a resend as duplicates, stores nothing twice, and refuses a changed reading as SEQ_CONFLICT', async () => {
    const socket = await meter(A);
    const batch = readings(20);
    expect(await send(socket, { readings: batch })).toMatchObject({ ok: true, accepted: 20, duplicates: 0 });
    const before = await rowsOf(A);
    expect(await send(socket, { readings: batch })).toEqual({ ok: true, accepted: 0, duplicates: 20, rejected: [] });
    const changed = [{ ...batch[3]!, mmol: 12.3 }, batch[4]];
    const ack = await send(socket, { readings: changed });
    expect(ack).toMatchObject({ ok: true, accepted: 0, duplicates: 1 });
    expect(ack.rejected).toEqual([
      { index: 0, seq: batch[3]!.seq, code: 'SEQ_CONFLICT', message: expect.any(String), field: 'seq' },
    ]);
    expect(await rowsOf(A)).toBe(before);
  });

  it('rejects each bad reading with its code and index, and stores the rest of the batch', async () => {
    const socket = await meter(A);
    const now = Date.now();
    const batch = [
      { seq: nextSeq++, measuredAt: new Date(now - MINUTE).toISOString(), mmol: 6.2 },
      { seq: nextSeq++, measuredAt: new Date(now - MINUTE).toISOString(), mmol: 40 },
      { seq: nextSeq++, measuredAt: new Date(now + 10 * MINUTE).toISOString(), mmol: 6 },
      { seq: nextSeq++, measuredAt: new Date(now - 91 * 24 * 60 * MINUTE).toISOString(), mmol: 6 },
      { seq: nextSeq++, measuredAt: '2026-11-24 10:00', mmol: 6 },
      { seq: -1, measuredAt: new Date(now).toISOString(), mmol: 6 },
      { seq: nextSeq++, measuredAt: new Date(now - 2 * MINUTE).toISOString(), mmol: null, flag: 'LO' },
      {
        seq: nextSeq++,
        measuredAt: new Date(now - 3 * MINUTE).toISOString(),
        mmol: 6.5,
        kind: 'control',
        meal: 'before',
      },
    ];
    const ack = await send(socket, { readings: batch });
    expect(ack).toMatchObject({ ok: true, accepted: 3, duplicates: 0 });
    expect(ack.rejected!.map((r) => [r.index, r.code, r.field])).toEqual([
      [1, 'OUT_OF_RANGE', 'mmol'],
      [2, 'FUTURE_TIMESTAMP', 'measuredAt'],
      [3, 'TOO_OLD', 'measuredAt'],
      [4, 'INVALID_READING', 'measuredAt'],
      [5, 'INVALID_READING', 'seq'],
    ]);
    expect(ack.rejected![0]!.seq).toBe(batch[1]!.seq);
    expect(ack.rejected![4]!.seq).toBeNull();
    const stored = await env.system.db.pool.query(
      'select seq, mmol, flag, kind, meal from readings where device_serial = $1 and seq = any($2) order by seq',
      [A.deviceId, [batch[0]!.seq, batch[6]!.seq, batch[7]!.seq]],
    );
    expect(stored.rows).toEqual([
      { seq: batch[0]!.seq, mmol: 6.2, flag: null, kind: 'bgm', meal: null },
      { seq: batch[6]!.seq, mmol: null, flag: 'LO', kind: 'bgm', meal: null },
      { seq: batch[7]!.seq, mmol: 6.5, flag: null, kind: 'control', meal: 'before' },
    ]);
  });

  it('refuses whole batches that are not a batch, or too large, and takes exactly 500', async () => {
    const socket = await meter(A);
    for (const payload of [null, 'readings', 42, [], {}, { readings: 'many' }, { readings: { 0: {} } }]) {
      const ack = await send(socket, payload);
      expect(ack, JSON.stringify(payload)).toMatchObject({
        ok: false,
        code: 'INVALID_PAYLOAD',
        message: expect.any(String),
      });
    }
    expect(await send(socket, { readings: readings(501) })).toMatchObject({ ok: false, code: 'BATCH_TOO_LARGE' });
    expect(await send(socket, { readings: readings(500) })).toMatchObject({ ok: true, accepted: 500, rejected: [] });
  });

  it('stores exactly one row per reading when many meters send and resend at once', async () => {
    const socketA = await meter(A);
    const socketB = await meter(B);
    const beforeA = await rowsOf(A);
    const beforeB = await rowsOf(B);
    const batchesA = Array.from({ length: 10 }, () => readings(30));
    const batchesB = Array.from({ length: 10 }, () => readings(30));
    // Every batch twice, all at once: the originals and their resends race each other.
    const acks = await Promise.all(
      [...batchesA, ...batchesA]
        .map((b) => send(socketA, { readings: b }))
        .concat([...batchesB, ...batchesB].map((b) => send(socketB, { readings: b }))),
    );
    expect(acks.every((a) => a.ok)).toBe(true);
    const accepted = acks.reduce((n, a) => n + (a.accepted ?? 0), 0);
    const duplicates = acks.reduce((n, a) => n + (a.duplicates ?? 0), 0);
    expect([accepted, duplicates]).toEqual([600, 600]);
    expect([await rowsOf(A), await rowsOf(B)]).toEqual([beforeA + 300, beforeB + 300]);
  });

  it('never acks ok when the database fails mid-write, and the resend then stores once', async () => {
    const socket = await meter(A);
    const before = await rowsOf(A);
    const batch = readings(5);
    // Hold the readings table so the writer's transaction waits inside its INSERT, then kill it.
    // The watcher is a connection of its own: pg_stat_activity is a snapshot per transaction.
    const blocker = new pg.Client({ connectionString: env.system.db.url });
    const watcher = new pg.Client({ connectionString: env.system.db.url });
    await Promise.all([blocker.connect(), watcher.connect()]);
    const waitingWriter = `from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%insert into reading_keys%'`;
    try {
      await blocker.query('begin');
      await blocker.query('lock table readings in access exclusive mode');
      const pending = send(socket, { readings: batch });
      await new Promise((r) => setTimeout(r, 500));
      await expect
        .poll(async () => (await watcher.query(`select count(*)::int as n ${waitingWriter}`)).rows[0].n, {
          timeout: 10_000,
        })
        .toBeGreaterThan(0);
      await watcher.query(`select pg_terminate_backend(pid) ${waitingWriter}`);
      const ack = await pending;
      expect(ack).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
      expect(ack.retryAfterMs).toBeGreaterThan(0);
    } finally {
      await blocker.query('rollback').catch(() => undefined);
      await Promise.all([blocker.end(), watcher.end()]);
    }
    expect(await rowsOf(A)).toBe(before);
    expect(await send(socket, { readings: batch })).toMatchObject({ ok: true, accepted: 5, duplicates: 0 });
    expect(await send(socket, { readings: batch })).toMatchObject({ ok: true, accepted: 0, duplicates: 5 });
    expect(await rowsOf(A)).toBe(before + 5);
  });
});

describe('POST /api/devices/readings (gateways)', () => {
  const post = (body: string, authorization?: string) =>
    fetch(`${env.system.url}/api/devices/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body,
    });

  it('takes the same body and gives the same answer as the readings event', async () => {
    const batch = readings(4);
    const auth = `Device ${B.deviceId}:${B.deviceToken}`;
    const first = await post(JSON.stringify({ readings: batch }), auth);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true, accepted: 4, duplicates: 0, rejected: [] });
    const again = await post(JSON.stringify({ readings: batch }), auth);
    expect(await again.json()).toEqual({ ok: true, accepted: 0, duplicates: 4, rejected: [] });
    const tooMany = await post(JSON.stringify({ readings: readings(501) }), auth);
    expect(tooMany.status).toBe(413);
    expect(await tooMany.json()).toMatchObject({ ok: false, code: 'BATCH_TOO_LARGE' });
    const broken = await post('{"readings": [', auth);
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ ok: false, code: 'INVALID_PAYLOAD' });
  });

  it('answers 401 DEVICE_AUTH to a wrong token, an unknown device or no credentials', async () => {
    for (const auth of [
      `Device ${B.deviceId}:wrong-token`,
      'Device no-such-meter:whatever',
      undefined,
      'Bearer something',
    ]) {
      const answer = await post(JSON.stringify({ readings: [] }), auth);
      expect(answer.status, String(auth)).toBe(401);
      expect(await answer.json()).toMatchObject({ ok: false, code: 'DEVICE_AUTH' });
    }
  });
});

describe('the pipeline in /metrics', () => {
  it('counts readings by outcome, code and protocol, batch sizes, write latency and the write queue', async () => {
    const text = await (await fetch(`${env.system.url}/metrics`)).text();
    for (const protocol of ['socketio', 'gateway']) {
      expect(text).toMatch(
        new RegExp(
          `^glucoboard_readings_total\\{outcome="accepted",code="",protocol="${protocol}",process="server"\\} [1-9]\\d*`,
          'm',
        ),
      );
      expect(text).toMatch(
        new RegExp(
          `^glucoboard_readings_total\\{outcome="duplicate",code="",protocol="${protocol}",process="server"\\} [1-9]\\d*`,
          'm',
        ),
      );
    }
    expect(text).toMatch(
      /^glucoboard_readings_total\{outcome="rejected",code="OUT_OF_RANGE",protocol="socketio",process="server"\} [1-9]\d*/m,
    );
    expect(text).toMatch(
      /^glucoboard_reading_batches_total\{result="BATCH_TOO_LARGE",protocol="gateway",process="server"\} [1-9]\d*/m,
    );
    expect(text).toMatch(/^glucoboard_reading_batch_size_count\{process="server"\} [1-9]\d*/m);
    expect(text).toMatch(/^glucoboard_db_write_seconds_count\{process="server"\} [1-9]\d*/m);
    expect(text).toMatch(/^glucoboard_write_queue_rows\{process="server"\} \d+/m);
    expect(text).toMatch(/^glucoboard_connected_devices\{process="server"\} \d+/m);
  });
});
describe('device status', () => {
  it('keeps battery, firmware and last seen up to date', async () => {
    const socket = await meter(B);
    await env.system.db.pool.query(`update devices set last_seen_at = now() - interval '1 day' where serial = $1`, [
      B.deviceId,
    ]);
    expect(await send(socket, { readings: readings(1) })).toMatchObject({ ok: true, accepted: 1 });
    const seen = await env.system.db.pool.query(
      `select last_seen_at > now() - interval '1 minute' as fresh from devices where serial = $1`,
      [B.deviceId],
    );
    expect(seen.rows[0].fresh).toBe(true);
    expect(await socket.timeout(10_000).emitWithAck('status', { batteryPercent: 64, firmware: '2.4.1' })).toEqual({
      ok: true,
    });
    expect(await socket.timeout(10_000).emitWithAck('status', { batteryPercent: 140 })).toMatchObject({
      ok: false,
      code: 'INVALID_PAYLOAD',
      field: 'batteryPercent',
    });
    const devices = await B.admin.get(`/api/patients/${B.patientId}/devices`);
    expect(devices.body.devices[0]).toMatchObject({ deviceId: B.deviceId, batteryPercent: 64, firmware: '2.4.1' });
  });
});

describe('the naive baseline (INGEST_MODE=naive, for the benchmark)', () => {
  it('answers the same acks, with one INSERT and one evaluation job per stored reading', async () => {
    const naive = await startTestSystem('postgres', { INGEST_MODE: 'naive' });
    try {
      const sys = await naive.client().login(ADMIN.email, ADMIN.password);
      const team = await buildTeam(sys, naive.system.url, 'Naive');
      const socket = io(`${naive.system.url}/devices`, {
        auth: { deviceId: team.deviceId, token: team.deviceToken },
        transports: ['websocket'],
        forceNew: true,
      });
      sockets.push(socket);
      const batch = readings(5);
      expect(await send(socket, { readings: batch })).toEqual({ ok: true, accepted: 5, duplicates: 0, rejected: [] });
      expect(await send(socket, { readings: batch })).toEqual({ ok: true, accepted: 0, duplicates: 5, rejected: [] });
      const queue = new Queue(QUEUES.evaluation, {
        connection: naive.system.redis.options,
        prefix: queuePrefix(naive.prefix),
      });
      try {
        // One job per stored reading, none for the duplicates; the alert worker runs each once.
        await expect.poll(async () => (await queue.getJobCounts('completed')).completed).toBe(5);
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
        expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(5);
      } finally {
        await queue.close();
      }
    } finally {
      await naive.stop();
    }
  });
});
