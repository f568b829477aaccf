import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret, locateRedis, newSecret, type RedisEndpoint } from '@glucoboard/core/platform';
import { addMember, createPatient, createTeam, createUser, pairDevice } from '@glucoboard/core/storage';
import type { BoardReading } from '@glucoboard/core/wire';
import { openTestDatabase, silentLog } from '@glucoboard/core/test-support/databases';
import { dropRedisPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '@glucoboard/core/test-support/redis';
import { DEFAULT_SESSION_POLICY, openSession, SESSION_COOKIE } from '../src/access/sessions.ts';
import { createStreamsAdapter } from '../src/realtime/adapter.ts';
import { attachRealtime, teamRoom, userRoom, type Realtime } from '../src/realtime/index.ts';

type TestDb = Awaited<ReturnType<typeof openTestDatabase>>;

interface Served {
  url: string;
  realtime: Realtime;
  metrics: Registry;
}

interface Nurse {
  userId: string;
  cookie: string;
}

interface Device {
  deviceId: string;
  token: string;
  patientId: string;
  teamId: string;
}

let db: TestDb;
let redis: RedisEndpoint;
const prefix = uniqueRedisPrefix();
let teamA: string;
let teamB: string;
let server1: Served;
let server2: Served;
const clients: ClientSocket[] = [];
let serial = 0;

async function serve(): Promise<Served> {
  const httpServer = http.createServer();
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const metrics = new Registry();
  const realtime = await attachRealtime({
    httpServer,
    db,
    redis,
    redisPrefix: prefix,
    log: silentLog,
    metrics,
    sessionPolicy: DEFAULT_SESSION_POLICY,
  });
  return { url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`, realtime, metrics };
}

async function nurse(teamId: string | null): Promise<Nurse> {
  const n = ++serial;
  const user = await createUser(db.pool, {
    email: `nurse${n}@example.se`,
    name: `Nurse ${n}`,
    passwordHash: await hashSecret('correct horse battery staple'),
  });
  if (teamId) await addMember(db.pool, teamId, user.id, 'nurse');
  const { token } = await openSession(db.pool, user.id, DEFAULT_SESSION_POLICY, {
    origin: undefined,
    userAgent: 'vitest',
  });
  return { userId: user.id, cookie: `other=1; ${SESSION_COOKIE}=${token}` };
}

async function device(teamId: string): Promise<Device> {
  const patient = await createPatient(db.pool, { teamId, name: 'Test Patient' });
  const deviceId = `CGM-${++serial}`;
  const token = newSecret();
  await pairDevice(db.pool, {
    serial: deviceId,
    kind: 'cgm',
    patientId: patient.id,
    tokenHash: await hashSecret(token),
  });
  return { deviceId, token, patientId: patient.id, teamId };
}

function track(socket: ClientSocket): ClientSocket {
  clients.push(socket);
  return socket;
}

function board(served: Served, cookie?: string): ClientSocket {
  // forceNew: otherwise clients to one URL share a Manager, and with it the first one's headers.
  return track(
    connect(`${served.url}/board`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      extraHeaders: cookie === undefined ? {} : { cookie },
    }),
  );
}

function meter(served: Served, auth: unknown): ClientSocket {
  return track(
    connect(`${served.url}/devices`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      ...(auth === undefined ? {} : { auth: auth as Record<string, unknown> }),
    }),
  );
}

type ConnectError = Error & { data?: { code: string; message: string } };

function connected(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err: ConnectError) => reject(new Error(`refused: ${JSON.stringify(err.data)}`)));
  });
}

function refused(socket: ClientSocket): Promise<ConnectError> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected, but should have been refused')));
    socket.once('connect_error', (err: ConnectError) => resolve(err));
  });
}

/** Everything the socket receives as 'reading', in order. */
function readings(socket: ClientSocket): unknown[] {
  const got: unknown[] = [];
  socket.on('reading', (payload: unknown) => got.push(payload));
  return got;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function within<T>(promise: Promise<T>, what: string, timeoutMs = 5_000): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)),
  ]);
}

/** Emits `marker` to the user's own room and waits for it: everything emitted before has arrived. */
async function settle(served: Served, userId: string, got: unknown[], marker: string): Promise<void> {
  served.realtime.io.of('/board').to(userRoom(userId)).emit('reading', { marker });
  await until(() => got.some((r) => (r as { marker?: string }).marker === marker), `marker ${marker}`);
}

/** A `reading` event, told apart by its value. */
const reading = (teamId: string, n: number): BoardReading => ({
  patientId: 'p',
  teamId,
  measuredAt: new Date(n * 60_000).toISOString(),
  mmol: n,
  flag: null,
  kind: 'cgm',
  source: 'device',
});

beforeAll(async () => {
  db = await openTestDatabase('postgres');
  redis = await locateRedis({ redisUrl: TEST_REDIS_URL, dataDir: '/nonexistent', log: silentLog });
  teamA = (await createTeam(db.pool, { name: 'Team A' })).id;
  teamB = (await createTeam(db.pool, { name: 'Team B' })).id;
  server1 = await serve();
  server2 = await serve();
});

afterAll(async () => {
  for (const socket of clients) socket.close();
  await server1?.realtime.close();
  await server2?.realtime.close();
  await db?.dispose();
  await dropRedisPrefix(prefix);
});

describe('/board authentication', () => {
  it('refuses a handshake without a valid session with UNAUTHORIZED', async () => {
    const expired = await nurse(teamA);
    await db.pool.query(`update sessions set expires_at = now() - interval '1 second' where user_id = $1`, [
      expired.userId,
    ]);
    const idle = await nurse(teamA);
    await db.pool.query(`update sessions set last_seen_at = now() - interval '2 hours' where user_id = $1`, [
      idle.userId,
    ]);
    const attempts = {
      'no cookie': undefined,
      'no session cookie': 'theme=dark',
      'unknown session': `${SESSION_COOKIE}=${newSecret()}`,
      'malformed cookie': `${SESSION_COOKIE}=%E0%A4%A`,
      'expired session': expired.cookie,
      'idle session': idle.cookie,
    };
    for (const [what, cookie] of Object.entries(attempts)) {
      const err = await refused(board(server1, cookie));
      expect(err.data, what).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
    }
    // The same people with a fresh session get in: the refusals above were about the sessions.
    const fresh = await openSession(db.pool, expired.userId, DEFAULT_SESSION_POLICY, {
      origin: undefined,
      userAgent: undefined,
    });
    await connected(board(server1, `${SESSION_COOKIE}=${fresh.token}`));
  });

  it('serves nothing on the main namespace', async () => {
    const socket = track(connect(server1.url, { transports: ['websocket'], forceNew: true, reconnection: false }));
    expect((await refused(socket)).data?.code).toBe('NOT_FOUND');
  });
});

describe('/board rooms', () => {
  it("delivers a team's events to its members only, and no client event joins another room", async () => {
    const a = await nurse(teamA);
    const socket = board(server1, a.cookie);
    const got = readings(socket);
    await connected(socket);

    // Every plausible way a client might ask for another team's room.
    for (const event of ['join', 'subscribe', 'joinRoom', 'join-room', 'room:join', 'team:join', 'board:watch']) {
      socket.emit(event, teamB);
      socket.emit(event, teamRoom(teamB));
      socket.emit(event, { teamId: teamB, room: teamRoom(teamB) });
    }
    await settle(server1, a.userId, got, 'after client attempts');
    const inB = await server1.realtime.io.of('/board').in(teamRoom(teamB)).fetchSockets();
    expect(inB.map((s) => s.id)).not.toContain(socket.id);

    const io = server1.realtime.io.of('/board');
    io.to(teamRoom(teamB)).emit('reading', reading(teamB, 1));
    io.to(teamRoom(teamA)).emit('reading', reading(teamA, 2));
    await until(() => got.length === 2, 'the team A reading');
    expect(got).toEqual([{ marker: 'after client attempts' }, reading(teamA, 2)]);
  });

  it('follows membership changes live, without reconnecting', async () => {
    const x = await nurse(teamA);
    const socket = board(server1, x.cookie);
    const got = readings(socket);
    let connects = 0;
    socket.on('connect', () => connects++);
    const disconnects: string[] = [];
    socket.on('disconnect', (reason) => disconnects.push(reason));
    await connected(socket);
    const io = server1.realtime.io.of('/board');

    io.to(teamRoom(teamA)).emit('reading', reading(teamA, 1));
    await until(() => got.length === 1, 'a team A reading while a member');

    await db.pool.query('delete from memberships where user_id = $1 and team_id = $2', [x.userId, teamA]);
    server1.realtime.membershipChanged(x.userId, teamA, false);
    io.to(teamRoom(teamA)).emit('reading', reading(teamA, 2));
    await settle(server1, x.userId, got, 'left A');
    expect(got).toEqual([reading(teamA, 1), { marker: 'left A' }]);

    await addMember(db.pool, teamB, x.userId, 'nurse');
    server1.realtime.membershipChanged(x.userId, teamB, true);
    io.to(teamRoom(teamB)).emit('reading', reading(teamB, 3));
    io.to(teamRoom(teamA)).emit('reading', reading(teamA, 4));
    await settle(server1, x.userId, got, 'joined B');
    expect(got).toEqual([reading(teamA, 1), { marker: 'left A' }, reading(teamB, 3), { marker: 'joined B' }]);
    expect({ connects, disconnects, connected: socket.connected }).toEqual({
      connects: 1,
      disconnects: [],
      connected: true,
    });

    // A new tab of the same person starts from the database: B, not A.
    const second = board(server1, x.cookie);
    const secondGot = readings(second);
    await connected(second);
    io.to(teamRoom(teamA)).emit('reading', reading(teamA, 5));
    io.to(teamRoom(teamB)).emit('reading', reading(teamB, 6));
    await until(() => secondGot.length === 1, 'the team B reading in a new tab');
    expect(secondGot).toEqual([reading(teamB, 6)]);
  });
});

describe('/devices authentication', () => {
  it('refuses malformed auth, unknown devices and wrong tokens with DEVICE_AUTH', async () => {
    const d = await device(teamA);
    const attempts: Record<string, unknown> = {
      'no auth': undefined,
      'empty auth': {},
      numbers: { deviceId: 123, token: 456 },
      'number id': { deviceId: 123, token: d.token },
      'empty id': { deviceId: '', token: d.token },
      'empty token': { deviceId: d.deviceId, token: '' },
      'missing token': { deviceId: d.deviceId },
      'missing id': { token: d.token },
      'array token': { deviceId: d.deviceId, token: [d.token] },
      'huge token': { deviceId: d.deviceId, token: 'x'.repeat(10_000) },
      'wrong token': { deviceId: d.deviceId, token: newSecret() },
      "another device's token": { deviceId: d.deviceId, token: (await device(teamB)).token },
      'unknown device': { deviceId: 'NO-SUCH-DEVICE', token: d.token },
    };
    for (const [what, auth] of Object.entries(attempts)) {
      const err = await refused(meter(server1, auth));
      expect(err.data, what).toEqual({ code: 'DEVICE_AUTH', message: expect.any(String) });
    }
  });

  it('admits the right token, puts the device in its room and records when it was seen', async () => {
    const d = await device(teamB);
    const socket = meter(server1, { deviceId: d.deviceId, token: d.token });
    await connected(socket);
    const [server] = await server1.realtime.io.of('/devices').in(`device:${d.deviceId}`).fetchSockets();
    expect(server?.id).toBe(socket.id);
    // acceptsReadingsFrom null: a meter never lent keeps its whole memory (docs/follow-up.md, "Meters").
    expect(server?.data).toEqual({
      deviceId: d.deviceId,
      kind: 'cgm',
      patientId: d.patientId,
      teamId: teamB,
      acceptsReadingsFrom: null,
    });
    await until(async () => {
      const row = await db.pool.query('select last_seen_at from devices where serial = $1', [d.deviceId]);
      return row.rows[0]?.last_seen_at instanceof Date;
    }, 'last_seen_at');
  });

  it('revocation disconnects the live socket and the cached token no longer opens', async () => {
    const d = await device(teamA);
    const auth = { deviceId: d.deviceId, token: d.token };
    const live = meter(server1, auth);
    const disconnected = new Promise<string>((resolve) => live.once('disconnect', (reason) => resolve(reason)));
    await connected(live);

    // Revoked in the database but nobody told the realtime layer: the cached verification still
    // admits the token. This is what proves the cache is there (and why the call below exists).
    await db.pool.query('update devices set revoked_at = now() where serial = $1', [d.deviceId]);
    await connected(meter(server1, auth));

    await server1.realtime.deviceCredentialsChanged(d.deviceId);
    expect(await within(disconnected, 'the disconnect')).toBe('io server disconnect');
    live.connect(); // the same client trying again
    expect((await refused(live)).data?.code).toBe('DEVICE_AUTH');
    expect((await refused(meter(server1, auth))).data?.code).toBe('DEVICE_AUTH');
  });

  it('a new token replaces the old one at once', async () => {
    const d = await device(teamB);
    await connected(meter(server1, { deviceId: d.deviceId, token: d.token }));
    const token = newSecret();
    await db.pool.query('update devices set token_hash = $2 where serial = $1', [d.deviceId, await hashSecret(token)]);
    await server1.realtime.deviceCredentialsChanged(d.deviceId);
    expect((await refused(meter(server1, { deviceId: d.deviceId, token: d.token }))).data?.code).toBe('DEVICE_AUTH');
    await connected(meter(server1, { deviceId: d.deviceId, token }));
  });
});

describe('two servers sharing Redis and the database', () => {
  it('delivers a team event emitted on one server to a board on the other', async () => {
    const a = await nurse(teamA);
    const socket = board(server1, a.cookie);
    const got = readings(socket);
    await connected(socket);
    const io2 = server2.realtime.io.of('/board');
    io2.to(teamRoom(teamB)).emit('reading', reading(teamB, 1));
    io2.to(teamRoom(teamA)).emit('reading', reading(teamA, 2));
    await until(() => got.length === 1, 'the team A reading from server 2');
    await settle(server2, a.userId, got, 'settled');
    expect(got).toEqual([reading(teamA, 2), { marker: 'settled' }]);
  });

  it("shows committed readings published on one server to the team's boards on every server, once each", async () => {
    const a = await nurse(teamA);
    const b = await nurse(teamB);
    const on1 = board(server1, a.cookie);
    const on2 = board(server2, a.cookie);
    const other = board(server2, b.cookie);
    const [got1, got2, gotOther] = [readings(on1), readings(on2), readings(other)];
    await Promise.all([on1, on2, other].map(connected));
    server1.realtime.publishReadings([reading(teamA, 10), reading(teamB, 11), reading(teamA, 12)]);
    await until(() => got1.length === 2 && got2.length === 2 && gotOther.length === 1, 'the readings on every board');
    await settle(server1, a.userId, got1, 'done-1');
    await settle(server2, a.userId, got2, 'done-2');
    // The markers reach both of the nurse's boards; the readings, each exactly once.
    const plain = (got: unknown[]) => got.filter((r) => !(r as { marker?: string }).marker);
    expect(plain(got1)).toEqual([reading(teamA, 10), reading(teamA, 12)]);
    expect(plain(got2)).toEqual([reading(teamA, 10), reading(teamA, 12)]);
    expect(gotOther).toEqual([reading(teamB, 11)]);
  });

  it('applies a membership change made on one server to a board on the other', async () => {
    const x = await nurse(teamA);
    const socket = board(server1, x.cookie);
    const got = readings(socket);
    await connected(socket);
    const io2 = server2.realtime.io.of('/board');

    await db.pool.query('delete from memberships where user_id = $1 and team_id = $2', [x.userId, teamA]);
    server2.realtime.membershipChanged(x.userId, teamA, false);
    io2.to(teamRoom(teamA)).emit('reading', reading(teamA, 1));
    await settle(server2, x.userId, got, 'left A');
    expect(got).toEqual([{ marker: 'left A' }]);

    await addMember(db.pool, teamB, x.userId, 'nurse');
    server2.realtime.membershipChanged(x.userId, teamB, true);
    io2.to(teamRoom(teamB)).emit('reading', reading(teamB, 2));
    await until(() => got.length === 2, 'the team B reading after joining on server 2');
    expect(got).toEqual([{ marker: 'left A' }, reading(teamB, 2)]);
    expect(socket.connected).toBe(true);
  });

  it('revoking on one server disconnects the device on the other and clears its cache there', async () => {
    const d = await device(teamB);
    const auth = { deviceId: d.deviceId, token: d.token };
    const live = meter(server1, auth);
    const disconnected = new Promise<string>((resolve) => live.once('disconnect', (reason) => resolve(reason)));
    await connected(live);
    await db.pool.query('update devices set revoked_at = now() where serial = $1', [d.deviceId]);
    await connected(meter(server1, auth)); // cached on server 1

    await server2.realtime.deviceCredentialsChanged(d.deviceId);
    expect(await within(disconnected, 'the disconnect')).toBe('io server disconnect');
    expect((await refused(meter(server1, auth))).data?.code).toBe('DEVICE_AUTH');
  });

  it('counts connected devices and boards per server in the metrics', async () => {
    const served = await serve();
    try {
      const n = await nurse(teamA);
      const d = await device(teamA);
      await connected(board(served, n.cookie));
      await connected(board(served, n.cookie));
      await connected(meter(served, { deviceId: d.deviceId, token: d.token }));
      const text = await served.metrics.metrics();
      expect(text).toMatch(/^glucoboard_connected_boards 2$/m);
      expect(text).toMatch(/^glucoboard_connected_devices 1$/m);
    } finally {
      await served.realtime.close();
    }
    expect(await served.metrics.metrics()).not.toContain('glucoboard_connected');
  });
});

describe('the Redis streams adapter', () => {
  it('waits on the stream on its own connection, never on the one that publishes', async () => {
    const streams = await createStreamsAdapter({ redis, redisPrefix: prefix, log: silentLog });
    const io = new Server(http.createServer(), { adapter: streams.adapter });
    const watcher = new Redis(TEST_REDIS_URL);
    try {
      const [writerId, readerId] = await Promise.all([streams.writer.client('ID'), streams.reader.client('ID')]);
      expect(writerId).not.toBe(readerId);
      const commandOf = async (id: unknown) => {
        const list = (await watcher.client('LIST', 'ID', String(id))) as string;
        return /\bcmd=(\S+)/.exec(list)?.[1];
      };
      io.of('/x').emit('ping'); // the writer publishes...
      let readerSeenInXread = false;
      for (let i = 0; i < 20; i++) {
        expect(await commandOf(writerId)).not.toBe('xread');
        if ((await commandOf(readerId)) === 'xread') readerSeenInXread = true;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(readerSeenInXread).toBe(true); // ...while the reader waits on the stream
    } finally {
      watcher.disconnect();
      await io.close();
      await streams.close();
    }
  });
});
