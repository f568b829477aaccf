/**
 * Device protocol load (SPEC section 4, "Devices"): each VU is one meter on Socket.IO namespace
 * `/devices`, spoken by hand over k6's WebSocket (framing in ./socketio.ts), sending a batch of
 * readings every INTERVAL_S seconds and timing the ack.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 -e DEVICES=$PWD/.data/demo-devices.json load/src/devices-ws.ts
 *
 * Settings (`-e NAME=value`):
 *   DEVICES      the device file (required): a JSON array of { deviceId, token, kind, patientId,
 *                teamId, nextSeq }, the format of the demo's DATA_DIR/demo-devices.json. k6 resolves
 *                a relative path against this script's folder, so pass an absolute one.
 *   BASE_URL     default http://127.0.0.1:3000 (ws:// or wss:// is derived from it)
 *   VUS          meters to run (default: every device in the file); VU n is device n
 *   DURATION     default 1m
 *   INTERVAL_S   seconds between a meter's batches (default 5)
 *   BATCH        readings per batch (default 1, at most 500)
 *   SEQ_BASE     added to each device's nextSeq, so that reruns never reuse a (deviceId, seq)
 *                (default: the clock at setup, in tenths of a millisecond)
 *   ACK_TIMEOUT_S  an ack later than this counts as lost (default 10)
 *
 * Uses `k6/websockets` (in k6 core since v0.54; `k6/experimental/websockets` is its deprecated
 * former name, and the blocking `k6/ws` is the legacy API): its global event loop lets timers,
 * the socket and the ack bookkeeping live side by side in one VU.
 */
import { check, sleep } from 'k6';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'k6/timers';
import type { IntervalID, TimeoutID } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { baseUrlOf, durationMs, nextGlucose, numberSetting } from './common.ts';
import { decodeFrame, encodeConnect, encodeDisconnect, encodeEvent, PONG_FRAME, socketIoUrl } from './socketio.ts';

interface Device {
  deviceId: string;
  token: string;
  kind: 'bgm' | 'cgm';
  patientId: string;
  teamId: string;
  nextSeq: number;
}

/** The contract's ack of a `readings` batch. */
type ReadingsAck =
  | {
      ok: true;
      accepted: number;
      duplicates: number;
      rejected: { index: number; seq: number | null; code: string; message: string; field?: string }[];
    }
  | { ok: false; code: string; message: string; retryAfterMs?: number };

const NSP = '/devices';
const MAX_BATCH = 500;

function parseDevices(text: string, source: string): Device[] {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data)) throw new Error(`${source} must hold a JSON array of devices`);
  return data.map((entry: unknown, i): Device => {
    const e = (entry ?? {}) as Record<string, unknown>;
    for (const field of ['deviceId', 'token', 'patientId', 'teamId']) {
      if (typeof e[field] !== 'string' || e[field] === '') throw new Error(`${source}, device ${i + 1}: no ${field}`);
    }
    if (e['kind'] !== 'bgm' && e['kind'] !== 'cgm')
      throw new Error(`${source}, device ${i + 1}: kind is not bgm or cgm`);
    const nextSeq = e['nextSeq'];
    if (typeof nextSeq !== 'number' || !Number.isSafeInteger(nextSeq) || nextSeq < 0) {
      throw new Error(`${source}, device ${i + 1}: nextSeq is not a whole number >= 0`);
    }
    return e as unknown as Device;
  });
}

const DEVICES_FILE = __ENV.DEVICES;
if (!DEVICES_FILE) throw new Error('set DEVICES to a device file, e.g. -e DEVICES=$PWD/.data/demo-devices.json');
// One copy for all VUs (a plain open() per VU would hold the whole file once per meter).
const devices = new SharedArray('devices', () => parseDevices(open(DEVICES_FILE), DEVICES_FILE));

const BASE_URL = baseUrlOf(__ENV.BASE_URL);
const WS_URL = socketIoUrl(BASE_URL);
const METERS = Math.min(devices.length, numberSetting('VUS', __ENV.VUS, devices.length, 1));
const DURATION_MS = durationMs('DURATION', __ENV.DURATION, '1m');
const INTERVAL_MS = numberSetting('INTERVAL_S', __ENV.INTERVAL_S, 5, 0.05) * 1000;
const BATCH = Math.min(MAX_BATCH, Math.floor(numberSetting('BATCH', __ENV.BATCH, 1, 1)));
const ACK_TIMEOUT_MS = numberSetting('ACK_TIMEOUT_S', __ENV.ACK_TIMEOUT_S, 10, 0.1) * 1000;

export const options: Options = {
  scenarios: {
    meters: {
      executor: 'constant-vus',
      vus: METERS,
      duration: `${Math.ceil(DURATION_MS / 1000)}s`,
      // Time for the last batches' acks; a session stops sending at the end of DURATION.
      gracefulStop: `${Math.ceil(ACK_TIMEOUT_MS / 1000) + 5}s`,
    },
  },
  thresholds: {
    device_ack_ms: ['p(99)<100'],
    checks: ['rate>0.99'],
  },
};

const ackMs = new Trend('device_ack_ms', true);
const connectMs = new Trend('device_connect_ms', true);
const acked = new Counter('device_readings_acked');
const duplicates = new Counter('device_readings_duplicate');
const rejected = new Counter('device_readings_rejected');
const refusedBatches = new Counter('device_batches_refused');
const lostAcks = new Counter('device_acks_lost');
const connectErrors = new Counter('device_connect_errors');
const protocolErrors = new Counter('device_protocol_errors');

interface SetupData {
  seqBase: number;
}

export function setup(): SetupData {
  if (devices.length === 0) throw new Error(`${DEVICES_FILE} lists no devices`);
  const seqBase = numberSetting('SEQ_BASE', __ENV.SEQ_BASE, Date.now() * 10);
  if (!Number.isSafeInteger(seqBase)) throw new Error('SEQ_BASE must be a whole number');
  console.info(
    `${METERS} meter(s) of ${devices.length} in ${DEVICES_FILE}, ${BATCH} reading(s) every ${INTERVAL_MS / 1000} s, ` +
      `seq from nextSeq + ${seqBase}`,
  );
  return { seqBase };
}

/** What a VU remembers across iterations (a reconnect continues the meter's seq). */
const meter = { nextSeq: -1, glucose: 5 + Math.random() * 5, failures: 0, started: false };

const isAck = (value: unknown): value is ReadingsAck =>
  typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';

export default function (data: SetupData): void {
  const device = devices[exec.vu.idInTest - 1];
  if (!device) throw new Error(`VU ${exec.vu.idInTest} has no device: the file lists ${devices.length}`);
  if (meter.nextSeq < 0) meter.nextSeq = device.nextSeq + data.seqBase;

  const endAt = exec.scenario.startTime + DURATION_MS;
  const stopSendingAt = endAt - 500;
  if (Date.now() >= stopSendingAt) {
    // The run is over for this meter; idle out the last moment instead of reconnecting.
    sleep(Math.max(0, endAt - Date.now()) / 1000 + 0.1);
    return;
  }
  if (meter.failures > 0) {
    // After a refused or dropped session, back off (1, 2, 4 ... 30 s, with jitter) before reconnecting.
    const backoffS = Math.min(30, 2 ** (meter.failures - 1)) * (0.5 + Math.random() / 2);
    sleep(Math.min(backoffS, Math.max(0, stopSendingAt - Date.now()) / 1000));
    if (Date.now() >= stopSendingAt) return;
  } else if (!meter.started) {
    // Spread the first connections over one interval rather than all at once.
    sleep((Math.random() * INTERVAL_MS) / 1000);
  }
  meter.started = true;
  runSession(device, stopSendingAt);
}

/**
 * One connection: engine.io open -> socket.io CONNECT with auth -> a batch every INTERVAL_MS until
 * stopSendingAt -> wait for the outstanding acks -> DISCONNECT and close. Returns at once; k6 ends
 * the iteration when the socket is closed and no timer is left.
 */
function runSession(device: Device, stopSendingAt: number): void {
  const openedAt = Date.now();
  const ws = new WebSocket(WS_URL, null, { tags: { device_kind: device.kind } });
  const pending = new Map<number, { sentAt: number; timer: TimeoutID }>();
  let nextAckId = 0;
  let connected = false;
  let finishing = false;
  let firstSend: TimeoutID | undefined;
  let sending: IntervalID | undefined;
  let watchdog: TimeoutID | undefined;

  const send = (frame: string) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(frame);
  };
  const stopTimers = () => {
    if (firstSend !== undefined) clearTimeout(firstSend);
    if (sending !== undefined) clearInterval(sending);
    if (watchdog !== undefined) clearTimeout(watchdog);
    firstSend = sending = watchdog = undefined;
  };
  let sessionFailed = false;
  /** This session went wrong (refused, dropped, silent): the next one backs off first. Counted once. */
  const failed = () => {
    if (sessionFailed) return;
    sessionFailed = true;
    meter.failures += 1;
  };
  const close = () => {
    stopTimers();
    if (ws.readyState === WebSocket.OPEN) {
      if (connected) send(encodeDisconnect(NSP));
      ws.close();
    }
  };
  // Engine.IO: the server pings every pingInterval; no ping within pingInterval + pingTimeout means the link is dead.
  const armWatchdog = (ms: number) => {
    if (watchdog !== undefined) clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      console.warn(`${device.deviceId}: no ping from the server for ${ms} ms; closing`);
      failed();
      close();
    }, ms);
  };
  let pingWindowMs = 45_000;

  const finish = () => {
    finishing = true;
    if (firstSend !== undefined) clearTimeout(firstSend);
    if (sending !== undefined) clearInterval(sending);
    firstSend = sending = undefined;
    if (pending.size === 0) close();
  };

  const sendBatch = () => {
    const now = Date.now();
    if (now >= stopSendingAt) return finish();
    const readings = [];
    for (let i = 0; i < BATCH; i++) {
      meter.glucose = nextGlucose(meter.glucose, Math.random);
      readings.push({
        seq: meter.nextSeq++,
        // The newest reading is now; earlier ones of a larger batch a second apart.
        measuredAt: new Date(now - (BATCH - 1 - i) * 1000).toISOString(),
        mmol: meter.glucose,
        flag: null,
        kind: device.kind,
        meal: null,
      });
    }
    const id = nextAckId++;
    const timer = setTimeout(() => {
      pending.delete(id);
      lostAcks.add(1);
      check(null, { 'ack: in time': () => false });
      if (finishing && pending.size === 0) close();
    }, ACK_TIMEOUT_MS);
    pending.set(id, { sentAt: now, timer });
    send(encodeEvent(NSP, 'readings', [{ readings }], id));
  };

  const onAck = (id: number, args: unknown[]) => {
    const entry = pending.get(id);
    if (!entry) return; // already counted as lost
    clearTimeout(entry.timer);
    pending.delete(id);
    const ack = args[0];
    const ms = Date.now() - entry.sentAt;
    if (!isAck(ack)) {
      protocolErrors.add(1);
      check(ack, { 'ack: ok': () => false });
    } else if (ack.ok) {
      ackMs.add(ms, { result: 'ok' });
      acked.add(ack.accepted);
      duplicates.add(ack.duplicates);
      for (const r of ack.rejected) rejected.add(1, { code: r.code });
      check(ack, {
        'ack: ok': () => true,
        'ack: every reading stored': (a) => a.ok && a.rejected.length === 0 && a.accepted + a.duplicates === BATCH,
      });
    } else {
      ackMs.add(ms, { result: ack.code });
      refusedBatches.add(1, { code: ack.code });
      check(ack, { 'ack: ok': () => false });
    }
    if (finishing && pending.size === 0) close();
  };

  ws.onmessage = (event) => {
    if (!event || typeof event.data !== 'string') {
      protocolErrors.add(1);
      return;
    }
    const frame = decodeFrame(event.data);
    switch (frame.kind) {
      case 'open':
        pingWindowMs = frame.handshake.pingInterval + frame.handshake.pingTimeout;
        armWatchdog(pingWindowMs);
        send(encodeConnect(NSP, { deviceId: device.deviceId, token: device.token }));
        break;
      case 'ping':
        send(PONG_FRAME);
        armWatchdog(pingWindowMs);
        break;
      case 'connect':
        connected = true;
        meter.failures = 0;
        connectMs.add(Date.now() - openedAt);
        check(frame, { 'connect: accepted': () => true });
        // Meters are not in step: the first batch at a random point of the first interval.
        firstSend = setTimeout(
          () => {
            firstSend = undefined;
            sendBatch();
            if (!finishing) sending = setInterval(sendBatch, INTERVAL_MS);
          },
          Math.random() * Math.min(INTERVAL_MS, Math.max(0, stopSendingAt - Date.now())),
        );
        break;
      case 'connect_error': {
        const code = (frame.data as { code?: unknown } | undefined)?.code;
        connectErrors.add(1, { code: typeof code === 'string' ? code : 'unknown' });
        check(frame, { 'connect: accepted': () => false });
        console.warn(`${device.deviceId}: connect refused: ${String(code)} ${frame.message}`);
        failed();
        close();
        break;
      }
      case 'ack':
        onAck(frame.id, frame.args);
        break;
      case 'disconnect':
      case 'close':
        // Dropped by the server (e.g. the device revoked, or the server shutting down).
        console.warn(`${device.deviceId}: disconnected by the server`);
        connected = false;
        failed();
        close();
        break;
      case 'invalid':
        protocolErrors.add(1);
        console.warn(`${device.deviceId}: unexpected frame: ${frame.reason}`);
        break;
      default:
        // pong, noop, and server-sent events (none are defined for /devices): nothing to do.
        break;
    }
  };

  ws.onerror = (event) => {
    if (!connected) {
      connectErrors.add(1, { code: 'WEBSOCKET' });
      check(null, { 'connect: accepted': () => false });
    }
    console.warn(`${device.deviceId}: websocket error: ${event?.error ?? 'unknown'}`);
    failed();
    close();
  };

  ws.onclose = () => {
    stopTimers();
    // Batches still waiting when the link went away were not acked: a real meter would resend them.
    for (const { timer } of pending.values()) {
      clearTimeout(timer);
      lostAcks.add(1);
      check(null, { 'ack: in time': () => false });
    }
    pending.clear();
    // Any close but the one at the end of the run is a failure (already counted if we closed on one).
    if (!finishing) failed();
  };
}
