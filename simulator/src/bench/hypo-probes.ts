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
}

interface Ack {
  ok: boolean;
  accepted?: number;
  code?: string;
}

export async function runHypoProbes(options: {
  url: string;
  /** Session cookie of a member of the probes' team. */
  cookie: string;
  devices: readonly DeviceRecord[];
  /** Pause between probes (ms), spreading them over the load. */
  spacingMs: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const board = connect(`${options.url}/board`, {
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
  await connected(board);
  const result: ProbeResult = { probes: 0, latenciesMs: [], missing: 0, duplicateEvents: 0 };
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
        await send(meter, [reading(6.2, 60_000)]);
        const arrived = new Promise<number | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), timeoutMs);
          waiting.set(device.patientId, (at) => {
            clearTimeout(timer);
            resolve(at);
          });
        });
        const sentAt = performance.now();
        const ack = await send(meter, [reading(2.4)]);
        const at = ack.ok && ack.accepted === 1 ? await arrived : undefined;
        waiting.delete(device.patientId);
        result.probes++;
        if (at === undefined) result.missing++;
        else result.latenciesMs.push(at - sentAt);
        // Back in range: the alert resolves, as a nurse would see it.
        await send(meter, [reading(6.4)]);
        device.nextSeq = seq;
      } finally {
        meter.disconnect();
      }
      await new Promise((resolve) => setTimeout(resolve, options.spacingMs));
    }
    // Late duplicates would arrive after their probe; give them a moment.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const count of events.values()) result.duplicateEvents += Math.max(0, count - 1);
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
