import http from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSecret } from '@glucoboard/core/platform';
import { DEVICE_AUTH_LIMITS } from '../src/realtime/auth-throttle.ts';
import { DEVICE_FRAME_LIMIT_BYTES, LONGEST_READING } from '../src/realtime/frame-limit.ts';
import { addPatientsWithMeters, ADMIN, buildTeam, startTestSystem, type TeamFixture } from './support/clinic.ts';
import { sendReadings, type ReadingsAck } from './support/sockets.ts';

// Issue 18, the device side: failed authentications throttled (item 4), readings emits without a
// proper ack (7), frame and body limits (8) and the gateway's content type (9). Real servers, real
// Socket.IO clients; "other sources" are other loopback addresses (127.0.0.x) bound by the client.
let env: Awaited<ReturnType<typeof startTestSystem>>;
let team: TeamFixture;
let meters: Array<{ patientId: string; deviceId: string; deviceToken: string }>;
const open: Socket[] = [];

beforeAll(async () => {
  env = await startTestSystem('postgres');
  const sys = await env.client().login(ADMIN.email, ADMIN.password);
  team = await buildTeam(sys, env.system.url, 'Hardening');
  meters = await addPatientsWithMeters(team.admin, team.teamId, 6, 'hardening');
});
afterAll(async () => {
  open.forEach((s) => s.disconnect());
  await env?.stop();
});

type ConnectError = Error & { data?: { code: string; message: string; retryAfterMs?: number } };

/** One handshake attempt from `source`: connected, or the connect_error's data. */
function attempt(auth: { deviceId: string; token: string }, source = '127.0.0.1') {
  const socket = io(`${env.system.url}/devices`, {
    auth,
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    localAddress: source,
  } as Parameters<typeof io>[1]);
  return new Promise<{ socket: Socket } | { refused: NonNullable<ConnectError['data']> }>((resolve, reject) => {
    socket.once('connect', () => {
      open.push(socket);
      resolve({ socket });
    });
    socket.once('connect_error', (err: ConnectError) => {
      socket.close();
      if (err.data) resolve({ refused: err.data });
      else reject(err);
    });
  });
}

async function connect(auth: { deviceId: string; token: string }, source?: string): Promise<Socket> {
  const result = await attempt(auth, source);
  if ('refused' in result) throw new Error(`refused: ${JSON.stringify(result.refused)}`);
  return result.socket;
}

const refusal = async (auth: { deviceId: string; token: string }, source?: string) => {
  const result = await attempt(auth, source);
  return 'refused' in result ? result.refused : 'connected';
};

/** A counter's value in /metrics (0 while it has no sample). */
async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${env.system.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels},process="server"} `));
  return line ? Number(line.split(' ')[1]) : 0;
}
const verifications = (result: 'ok' | 'refused') =>
  metric('glucoboard_device_auth_verifications_total', `result="${result}"`);

/** POST /api/devices/readings from a chosen local address (Node's fetch cannot bind one). */
function gateway(
  body: string,
  headers: Record<string, string>,
  source = '127.0.0.1',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: ReadingsAck }> {
  const url = new URL('/api/devices/readings', env.system.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', localAddress: source, headers: { 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const json = { 'content-type': 'application/json' };
const deviceAuth = (m: { deviceId: string; deviceToken: string }, token = m.deviceToken) => ({
  ...json,
  authorization: `Device ${m.deviceId}:${token}`,
});

let nextSeq = 1;
const plainReadings = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    seq: nextSeq++,
    measuredAt: new Date(Date.now() - (count - i) * 60_000).toISOString(),
    mmol: 6.1,
  }));

describe('failed device authentications are throttled (item 4)', () => {
  it('stops checking wrong tokens for one id after its limit, and answers OVERLOADED with retryAfterMs', async () => {
    const target = meters[0]!;
    const limit = DEVICE_AUTH_LIMITS.device.failures;
    const before = await verifications('refused');
    for (let i = 0; i < limit; i++) {
      expect(await refusal({ deviceId: target.deviceId, token: newSecret() }, '127.0.0.2')).toMatchObject({
        code: 'DEVICE_AUTH',
      });
    }
    // From here on no token is hashed: the count of argon2 checks stops growing.
    for (let i = 0; i < 5; i++) {
      const refused = await refusal({ deviceId: target.deviceId, token: newSecret() }, '127.0.0.2');
      expect(refused).toEqual({ code: 'OVERLOADED', message: expect.any(String), retryAfterMs: expect.any(Number) });
      expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
      expect((refused as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(
        DEVICE_AUTH_LIMITS.device.windowMs,
      );
    }
    expect((await verifications('refused')) - before).toBe(limit);
    expect(await metric('glucoboard_device_auth_throttled_total', 'scope="device"')).toBeGreaterThanOrEqual(5);
    // A throttled id is told to wait even with its right token: it may be the real meter.
    expect(await refusal({ deviceId: target.deviceId, token: target.deviceToken })).toMatchObject({
      code: 'OVERLOADED',
    });
  });

  it('holds under a concurrent flood: at most a few checks past the limit, however many arrive at once', async () => {
    const target = meters[1]!;
    const before = await verifications('refused');
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => refusal({ deviceId: target.deviceId, token: newSecret() }, '127.0.0.3')),
    );
    const checked = (await verifications('refused')) - before;
    // Verifications run in 8 slots; each checks the count when its turn comes.
    expect(checked).toBeGreaterThanOrEqual(DEVICE_AUTH_LIMITS.device.failures);
    expect(checked).toBeLessThanOrEqual(DEVICE_AUTH_LIMITS.device.failures + 8);
    expect(answers.filter((a) => a !== 'connected' && a.code === 'OVERLOADED').length).toBe(60 - checked);
  });

  it('keeps a cached meter connecting and its acks flowing while its own id and other ids are flooded', async () => {
    const real = meters[2]!;
    const auth = { deviceId: real.deviceId, token: real.deviceToken };
    const live = await connect(auth); // verified once: now cached
    const okBefore = await verifications('ok');
    // The attacker floods the real meter's id and random ids from another address.
    const flood = Promise.all(
      Array.from({ length: 80 }, (_, i) =>
        refusal({ deviceId: i % 2 ? real.deviceId : `NO-SUCH-${i}`, token: newSecret() }, '127.0.0.4'),
      ),
    );
    const acks: ReadingsAck[] = [];
    for (let i = 0; i < 5; i++) acks.push(await sendReadings(live, { readings: plainReadings(3) }));
    const reconnected = await connect(auth); // a new connection with the cached token
    acks.push(await sendReadings(reconnected, { readings: plainReadings(2) }));
    const answers = await flood;
    expect(acks.every((a) => a.ok)).toBe(true);
    expect(answers.filter((a) => a !== 'connected' && a.code === 'OVERLOADED').length).toBeGreaterThan(30);
    expect(await verifications('ok')).toBe(okBefore); // the cache answered, no hash
  });

  it('throttles an address trying many ids, while a meter never seen before connects from elsewhere', async () => {
    const source = '127.0.0.5';
    for (let i = 0; i < DEVICE_AUTH_LIMITS.source.failures; i++) {
      expect(await refusal({ deviceId: `SCAN-${i}`, token: newSecret() }, source)).toMatchObject({
        code: 'DEVICE_AUTH',
      });
    }
    expect(await refusal({ deviceId: 'SCAN-next', token: newSecret() }, source)).toMatchObject({
      code: 'OVERLOADED',
    });
    expect(await metric('glucoboard_device_auth_throttled_total', 'scope="source"')).toBeGreaterThanOrEqual(1);
    const fresh = meters[3]!;
    const socket = await connect({ deviceId: fresh.deviceId, token: fresh.deviceToken }, '127.0.0.6');
    expect(await sendReadings(socket, { readings: plainReadings(1) })).toMatchObject({ ok: true, accepted: 1 });
  });

  it('throttles the HTTP gateway alike: 401 DEVICE_AUTH, then 429 OVERLOADED with Retry-After', async () => {
    const target = meters[4]!;
    const body = JSON.stringify({ readings: plainReadings(1) });
    expect((await gateway(body, deviceAuth(target))).status).toBe(200); // cached from here on
    for (let i = 0; i < DEVICE_AUTH_LIMITS.device.failures; i++) {
      const answer = await gateway(body, deviceAuth(target, newSecret()), '127.0.0.7');
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ ok: false, code: 'DEVICE_AUTH' });
    }
    const throttled = await gateway(body, deviceAuth(target, newSecret()), '127.0.0.7');
    expect(throttled.status).toBe(429);
    expect(throttled.body).toEqual({
      ok: false,
      code: 'OVERLOADED',
      message: expect.any(String),
      retryAfterMs: expect.any(Number),
    });
    expect(Number(throttled.headers['retry-after'])).toBe(Math.ceil(throttled.body.retryAfterMs! / 1000));
    // The same counters as the handshake: the socket is throttled for this id too...
    expect(await refusal({ deviceId: target.deviceId, token: newSecret() })).toMatchObject({ code: 'OVERLOADED' });
    // ...and the gateway's own cached good credential still posts.
    const good = await gateway(JSON.stringify({ readings: plainReadings(1) }), deviceAuth(target));
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ ok: true, accepted: 1 });
  });
});

describe('readings emits without a proper ack (item 7)', () => {
  it('answers INVALID_PAYLOAD to an emit with no payload or extra arguments, and drops one with no ack', async () => {
    const m = meters[5]!;
    const socket = await connect({ deviceId: m.deviceId, token: m.deviceToken });
    const noPayload = (await socket.timeout(10_000).emitWithAck('readings')) as ReadingsAck;
    expect(noPayload).toEqual({ ok: false, code: 'INVALID_PAYLOAD', message: expect.any(String) });
    const extra = (await socket
      .timeout(10_000)
      .emitWithAck('readings', { readings: plainReadings(1) }, 'extra')) as ReadingsAck;
    expect(extra).toMatchObject({ ok: false, code: 'INVALID_PAYLOAD' });

    const rows = async () =>
      (await env.system.db.pool.query('select count(*)::int as n from readings where device_serial = $1', [m.deviceId]))
        .rows[0].n as number;
    const stored = await rows();
    const dropped = await metric('glucoboard_device_events_without_ack_total', 'event="readings"');
    socket.emit('readings', { readings: plainReadings(2) }); // no ack at all
    // socket.io-client sends a function that is not last as data (null): no ack reaches the server.
    socket.emit('readings', () => undefined, { readings: plainReadings(2) });
    await expect.poll(() => metric('glucoboard_device_events_without_ack_total', 'event="readings"')).toBe(dropped + 2);
    // The connection still works, and nothing of the dropped emits was stored.
    expect(await sendReadings(socket, { readings: plainReadings(1) })).toMatchObject({ ok: true, accepted: 1 });
    expect(await rows()).toBe(stored + 1);
  });
});

/** A reading of LONGEST_READING's length at the current time: every field at its longest legal length. */
function longestReading(seq: number, at: number) {
  // +01:00 with nanoseconds: the wall-clock time one hour ahead of UTC.
  const local = new Date(at + 3_600_000).toISOString().slice(0, 23);
  const reading = { ...LONGEST_READING, seq, measuredAt: `${local}456789+01:00` };
  expect(JSON.stringify(reading).length).toBe(JSON.stringify(LONGEST_READING).length);
  return reading;
}
const longestBatch = (count: number, seqFrom: number) =>
  Array.from({ length: count }, (_, i) => longestReading(seqFrom - i, Date.now() - (i + 1) * 60_000));

describe('frame and body limits (item 8)', () => {
  let seqFrom = Number.MAX_SAFE_INTEGER;
  const batch = (count: number) => {
    const readings = longestBatch(count, seqFrom);
    seqFrom -= count;
    return readings;
  };

  it('takes 500 readings of the longest legal size, refuses 501 with BATCH_TOO_LARGE, and closes above the limit', async () => {
    const socket = await connect({ deviceId: team.deviceId, token: team.deviceToken });
    expect(await sendReadings(socket, { readings: batch(500) })).toEqual({
      ok: true,
      accepted: 500,
      duplicates: 0,
      rejected: [],
    });
    expect(await sendReadings(socket, { readings: batch(501) })).toMatchObject({ ok: false, code: 'BATCH_TOO_LARGE' });
    // Fields the contract does not name travel too: a batch padded to just under the limit is answered.
    const padded = { readings: batch(500), note: 'x'.repeat(DEVICE_FRAME_LIMIT_BYTES - 120_000) };
    expect(JSON.stringify(padded).length).toBeGreaterThan(1_000_000); // over Socket.IO's default
    expect(await sendReadings(socket, padded)).toMatchObject({ ok: true, accepted: 500 });
    // Above it engine.io closes the connection: no ack, a disconnect.
    const closed = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    socket.emit('readings', { readings: [], note: 'x'.repeat(DEVICE_FRAME_LIMIT_BYTES) }, () => {
      throw new Error('answered a frame above the limit');
    });
    expect(['transport close', 'transport error']).toContain(await closed);
  });

  it('gives the gateway the same room: 500 longest readings 200, 501 and over 1 MiB 413 BATCH_TOO_LARGE', async () => {
    const auth = deviceAuth({ deviceId: team.deviceId, deviceToken: team.deviceToken });
    const ok = await gateway(JSON.stringify({ readings: batch(500) }), auth);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, accepted: 500 });
    const tooMany = await gateway(JSON.stringify({ readings: batch(501) }), auth);
    expect(tooMany.status).toBe(413);
    expect(tooMany.body).toMatchObject({ ok: false, code: 'BATCH_TOO_LARGE' });
    const tooBig = await gateway(JSON.stringify({ readings: [], note: 'x'.repeat(DEVICE_FRAME_LIMIT_BYTES) }), auth);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toEqual({ ok: false, code: 'BATCH_TOO_LARGE', message: expect.any(String) });
  });
});

describe("the gateway's content type (item 9)", () => {
  it('answers a body not declared JSON with the ack shape, 415 INVALID_PAYLOAD', async () => {
    const authorization = `Device ${team.deviceId}:${team.deviceToken}`;
    const body = JSON.stringify({ readings: plainReadings(1) });
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1']) {
      const answer = await gateway(body, { 'content-type': contentType, authorization });
      expect(answer.status, contentType).toBe(415);
      expect(answer.body, contentType).toEqual({ ok: false, code: 'INVALID_PAYLOAD', message: expect.any(String) });
    }
  });
});
