import { readingFingerprint, type DeviceKind } from '@glucoboard/core/domain';
import { validateReadingsBatch } from '@glucoboard/core/wire';
import type { TimerHost } from '../../src/scheduler.ts';
import type { UplinkFactory } from '../../src/uplink.ts';

/**
 * An in-memory server that keeps the device contract (SPEC section 4) with core's own validator and
 * the storage rule of (deviceId, seq): stored once, a resend a duplicate, other content SEQ_CONFLICT.
 * It runs on the test's virtual time, so whole fleets run deterministically in milliseconds.
 */
export class FakeServer {
  /** device\0seq -> fingerprint of the stored reading. */
  readonly stored = new Map<string, string>();
  /** Every batch as it arrived: device, size and virtual time. */
  readonly batches: { deviceId: string; size: number; at: number; answer: string }[] = [];
  readonly connects: { deviceId: string; at: number; ok: boolean }[] = [];
  latencyMs = 5;
  /** How long a handshake takes (default: latencyMs). */
  handshakeMs: number | undefined;
  /** Refuse every n-th batch with OVERLOADED (0: never). */
  overloadEvery = 0;
  overloadRetryAfterMs = 200;
  /** Most handshakes in progress at once. */
  maxHandshakes = 0;
  #handshakes = 0;
  #batchCount = 0;
  readonly #devices = new Map<string, { token: string; kind: DeviceKind }>();

  constructor(readonly host: TimerHost) {}

  pair(deviceId: string, token: string, kind: DeviceKind): void {
    this.#devices.set(deviceId, { token, kind });
  }

  uplinks(): UplinkFactory {
    return (credentials, events) => {
      let open = true;
      const later = (fn: () => void, ms = this.latencyMs) =>
        this.host.setTimer(() => {
          if (open) fn();
        }, ms);
      const device = this.#devices.get(credentials.deviceId);
      const ok = device !== undefined && device.token === credentials.token;
      this.connects.push({ deviceId: credentials.deviceId, at: this.host.now(), ok });
      this.maxHandshakes = Math.max(this.maxHandshakes, ++this.#handshakes);
      let handshaking = true;
      const handshakeOver = () => {
        if (handshaking) this.#handshakes--;
        handshaking = false;
      };
      later(() => {
        handshakeOver();
        if (ok) events.connected();
        else events.refused('DEVICE_AUTH', 'unknown or revoked device, or wrong token');
      }, this.handshakeMs);
      return {
        sendReadings: (payload, onAck) => {
          // The server handles what arrived even if the client goes away before the ack.
          const answer = this.#handle(credentials.deviceId, device!.kind, payload);
          later(() => onAck(answer));
        },
        close: () => {
          open = false;
          handshakeOver();
        },
      };
    };
  }

  #handle(deviceId: string, kind: DeviceKind, payload: unknown): unknown {
    const size = Array.isArray((payload as { readings?: unknown }).readings)
      ? (payload as { readings: unknown[] }).readings.length
      : 0;
    const record = (answer: string) => this.batches.push({ deviceId, size, at: this.host.now(), answer });
    if (this.overloadEvery > 0 && ++this.#batchCount % this.overloadEvery === 0) {
      record('OVERLOADED');
      return { ok: false, code: 'OVERLOADED', message: 'busy', retryAfterMs: this.overloadRetryAfterMs };
    }
    const verdict = validateReadingsBatch(payload, { deviceKind: kind, now: this.host.now() });
    if (!verdict.ok) {
      record(verdict.code);
      return verdict;
    }
    let accepted = 0;
    let duplicates = 0;
    const rejected: { index: number; seq: number | null; code: string; message: string }[] = verdict.rejected.map(
      (r) => ({ index: r.index, seq: r.seq, code: r.code, message: r.message }),
    );
    for (const { index, reading } of verdict.accepted) {
      const key = `${deviceId}\u0000${reading.seq}`;
      const fingerprint = readingFingerprint(reading);
      const known = this.stored.get(key);
      if (known === undefined) {
        this.stored.set(key, fingerprint);
        accepted++;
      } else if (known === fingerprint) {
        duplicates++;
      } else {
        rejected.push({ index, seq: reading.seq, code: 'SEQ_CONFLICT', message: 'another reading has this seq' });
      }
    }
    rejected.sort((a, b) => a.index - b.index);
    record('ok');
    return { ok: true, accepted, duplicates, rejected };
  }
}
