import { io as connect, type Socket } from 'socket.io-client';
import type { DeviceRecord } from '../device-file.ts';

/**
 * The alerts profile's measuring instrument: meters of their own team that fall into a hypo at
 * known instants, and a real board client of that team. Alert latency is from just before the
 * hypo reading is emitted to the board's `alert` event for that patient; each probe then recovers
 * so its alert resolves. Every probe must give exactly one critical alert event.
 */
export interface ProbeResult {
  probes: number;
  latenciesMs: number[];
  /** Probes whose alert never reached the board within the timeout. */
  missing: number;
  /** Critical `alert` events beyond the first for a probe's patient. */
  duplicateEvents: number;
  /** The hypo reading sent -> its `reading` event on the board. */
  readingLatenciesMs: number[];
  /** Probe readings (three per probe) whose `reading` event never reached the board. */
  missingReadings: number;
  /** `reading` events beyond the first for one probe reading. */
  duplicateReadingEvents: number;
}

interface Ack {
  ok: boolean;
  accepted?: number;
  code?: string;
}

export async function runHypoProbes(options: {
  /** Where the probes' meters connect. */
  url: string;
  /** Where the board client connects (default `url`): another server in the scale-out profile. */
  boardUrl?: string;
  /** Session cookie of a member of the probes' team. */
  cookie: string;
  devices: readonly DeviceRecord[];
  /** Pause between probes (ms), spreading them over the load. */
  spacingMs: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const board = connect(`${options.boardUrl ?? options.url}/board`, {
    transports: ['websocket'],
    extraHeaders: { cookie: options.cookie },
    forceNew: true,
  });
  const events = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  board.on('alert', (alert: { patientId: string; severity: string }) => {
    const at = performance.now();
    if (alert.severity !== 'critical') return;
    events.set(alert.patientId, (events.get(alert.patientId) ?? 0) + 1);
    waiting.get(alert.patientId)?.(at);
  });
  // Every reading event of a probe's patient, by patient and instant: each must arrive exactly once.
  const probePatients = new Set(options.devices.map((d) => d.patientId));
  const readingEvents = new Map<string, number>();
  const readingWaiting = new Map<string, (at: number) => void>();
  board.on('reading', (reading: { patientId: string; measuredAt: string }) => {
    const at = performance.now();
    if (!probePatients.has(reading.patientId)) return;
    const key = `${reading.patientId} ${new Date(reading.measuredAt).toISOString()}`;
    readingEvents.set(key, (readingEvents.get(key) ?? 0) + 1);
    readingWaiting.get(key)?.(at);
  });
  await connected(board);
  const result: ProbeResult = {
    probes: 0,
    latenciesMs: [],
    missing: 0,
    duplicateEvents: 0,
    readingLatenciesMs: [],
    missingReadings: 0,
    duplicateReadingEvents: 0,
  };
  const sentReadings: string[] = [];
  try {
    for (const device of options.devices) {
      if (options.signal?.aborted) break;
      const meter = connect(`${options.url}/devices`, {
        transports: ['websocket'],
        auth: { deviceId: device.deviceId, token: device.token },
        forceNew: true,
      });
      try {
        await connected(meter);
        let seq = device.nextSeq;
        const reading = (mmol: number, agoMs = 0) => ({
          seq: seq++,
          measuredAt: new Date(Date.now() - agoMs).toISOString(),
          mmol,
          kind: 'cgm',
        });
        const sendProbe = async (value: ReturnType<typeof reading>) => {
          sentReadings.push(`${device.patientId} ${value.measuredAt}`);
          return send(meter, [value]);
        };
        await sendProbe(reading(6.2, 60_000));
        const arrived = new Promise<number | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), timeoutMs);
          waiting.set(device.patientId, (at) => {
            clearTimeout(timer);
            resolve(at);
          });
        });
        const hypo = reading(2.4);
        const shown = new Promise<number | undefined>((resolve) => {
          const key = `${device.patientId} ${hypo.measuredAt}`;
          const timer = setTimeout(() => resolve(undefined), timeoutMs);
          readingWaiting.set(key, (seenAt) => {
            clearTimeout(timer);
            readingWaiting.delete(key);
            resolve(seenAt);
          });
        });
        const sentAt = performance.now();
        const ack = await sendProbe(hypo);
        const at = ack.ok && ack.accepted === 1 ? await arrived : undefined;
        const readingAt = ack.ok && ack.accepted === 1 ? await shown : undefined;
        if (readingAt !== undefined) result.readingLatenciesMs.push(readingAt - sentAt);
        waiting.delete(device.patientId);
        result.probes++;
        if (at === undefined) result.missing++;
        else result.latenciesMs.push(at - sentAt);
        // Back in range: the alert resolves, as a nurse would see it.
        await sendProbe(reading(6.4));
        device.nextSeq = seq;
      } finally {
        meter.disconnect();
      }
      await new Promise((resolve) => setTimeout(resolve, options.spacingMs));
    }
    // Late duplicates would arrive after their probe; give them a moment.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const count of events.values()) result.duplicateEvents += Math.max(0, count - 1);
    for (const key of sentReadings) {
      const count = readingEvents.get(key) ?? 0;
      if (count === 0) result.missingReadings++;
      result.duplicateReadingEvents += Math.max(0, count - 1);
    }
    return result;
  } finally {
    board.disconnect();
  }
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

const send = (socket: Socket, readings: unknown[]) =>
  socket.timeout(30_000).emitWithAck('readings', { readings }) as Promise<Ack>;
