import type { DeviceKind } from '@glucoboard/core/domain';
import { MAX_BATCH_READINGS } from '@glucoboard/core/wire';
import { backoffDelay, retryAfterDelay, type BackoffPolicy } from './backoff.ts';
import type { ConnectGate } from './connect-gate.ts';
import type { DeviceLedger } from './ledger.ts';
import {
  conflictingReading,
  EXPECTED_CODE,
  isBatchFault,
  malformedBatch,
  malformedReading,
  pickMalformedKind,
  usesSeq,
} from './malformed.ts';
import type { Measurement, MeasurementSchedule } from './measurements.ts';
import { Outbox, type Outgoing } from './outbox.ts';
import type { Scheduler, Timer } from './scheduler.ts';
import type { SimulatedClock } from './simulated-clock.ts';
import type { Tally } from './tally.ts';
import type { Uplink, UplinkFactory } from './uplink.ts';
import { readAck, toWire } from './wire.ts';

/** A device as provisioned: what it authenticates with and the seq it sends next. */
export interface MeterIdentity {
  deviceId: string;
  token: string;
  kind: DeviceKind;
  nextSeq: number;
}

/** How a meter behaves on the network and how much trouble it makes on purpose. */
export interface MeterBehaviour {
  ackTimeoutMs: number;
  backoff: BackoffPolicy;
  /** Share (0..0.5) of queued items that are malformed. */
  malformedShare: number;
  /** Share (0..1) of acks ignored as if lost on the way. */
  lostAckShare: number;
  /** Share (0..1) of batches after which the meter drops its connection with the batch in flight. */
  disconnectShare: number;
  /** Mean length (real ms) of a period out of range, for a meter that has them; null for one that does not. */
  outageMs: number | null;
  /** How far this meter's clock is ahead of true time (ms; negative: behind). */
  clockSkewMs: number;
  /** Readings per batch (at most the server's 500). */
  maxBatch: number;
}

/** What the meters of a run share: one scheduler, one clock, the connect gate and the books. */
export interface MeterContext {
  scheduler: Scheduler;
  clock: SimulatedClock;
  gate: ConnectGate;
  uplinks: UplinkFactory;
  tally: Tally;
}

export type MeterState =
  | 'idle' // not started
  | 'connecting' // waiting for the gate or the handshake
  | 'backoff' // waiting to reconnect
  | 'ready' // connected, nothing in flight
  | 'awaiting-ack' // connected, one batch in flight
  | 'retry-wait' // connected, told OVERLOADED/UNAVAILABLE: waiting retryAfterMs
  | 'out-of-range' // offline on purpose: measuring into the queue
  | 'refused' // DEVICE_AUTH: the server will never take this meter
  | 'stopped';

const TIMER_NAMES = ['measure', 'ack', 'retry', 'reconnect', 'outage'] as const;
type TimerName = (typeof TIMER_NAMES)[number];

const CONNECTED: ReadonlySet<MeterState> = new Set(['ready', 'awaiting-ack', 'retry-wait']);

interface Emission {
  items: Outgoing[];
  sentAt: number;
  /** Chosen at send time: this ack is "lost" and ignored when it comes. */
  dropAck: boolean;
  answered: boolean;
}

/**
 * One simulated meter: a state machine that measures on its own schedule, keeps what it measured in
 * a store-and-forward queue, and sends it in order, one batch in flight at a time, until each item
 * is settled by an ack. Its timers all live in the shared scheduler.
 *
 * Delivery is at least once, made exactly once by the server's (deviceId, seq) key: whenever the
 * meter cannot know whether a batch arrived (ack timeout, dropped connection) it sends it again,
 * and the server answers duplicates.
 */
export class Meter {
  readonly deviceId: string;
  readonly kind: DeviceKind;
  readonly #token: string;
  readonly #ctx: MeterContext;
  readonly #behaviour: MeterBehaviour;
  readonly #schedule: MeasurementSchedule;
  readonly #ledger: DeviceLedger;
  /** Malformed-input decisions: drawn per measurement, so they are the same whatever the network did. */
  readonly #faults: () => number;
  /** Network decisions: jitter, lost acks, dropped connections, outages. */
  readonly #network: () => number;
  readonly #outbox = new Outbox();

  #state: MeterState = 'idle';
  #nextSeq: number;
  #uplink: Uplink | null = null;
  #gateTicket: { cancel(): void } | null = null;
  #holdingGate = false;
  #failedConnects = 0;
  #everConnected = false;
  #current: Emission | null = null;
  #measuring = true;
  /** Malformed input, lost acks, dropped connections and outages: off once the run winds down. */
  #troublesome = true;
  #timers: Record<TimerName, Timer | null> = { measure: null, ack: null, retry: null, reconnect: null, outage: null };

  constructor(
    identity: MeterIdentity,
    parts: {
      context: MeterContext;
      behaviour: MeterBehaviour;
      schedule: MeasurementSchedule;
      ledger: DeviceLedger;
      faults: () => number;
      network: () => number;
    },
  ) {
    this.deviceId = identity.deviceId;
    this.kind = identity.kind;
    this.#token = identity.token;
    this.#nextSeq = identity.nextSeq;
    this.#ctx = parts.context;
    this.#behaviour = parts.behaviour;
    this.#schedule = parts.schedule;
    this.#ledger = parts.ledger;
    this.#faults = parts.faults;
    this.#network = parts.network;
  }

  get state(): MeterState {
    return this.#state;
  }

  /** The seq this meter would give its next reading (for a device file of a following run). */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Items measured or made and not yet settled by an ack. */
  get pending(): number {
    return this.#outbox.pending;
  }

  /** Nothing more to send and nothing in flight (or the meter can never send again). */
  get settled(): boolean {
    if (this.#state === 'refused' || this.#state === 'stopped') return true;
    return this.#outbox.pending === 0 && this.#current === null;
  }

  /** Measures everything due so far (a backfill, if simulated time starts after the schedule), then connects. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#measure();
    if (this.#behaviour.outageMs !== null) {
      // The first outage starts within three outage lengths, so that even a short run sees some.
      this.#timers.outage = this.#ctx.scheduler.after(this.#network() * 3 * this.#behaviour.outageMs, () =>
        this.#goOutOfRange(),
      );
    }
    this.#connect();
  }

  /**
   * The run is winding down: no more measurements and no more trouble on purpose; a meter out of
   * range comes back so that its queue can drain.
   */
  finishMeasuring(): void {
    this.#measuring = false;
    this.#troublesome = false;
    this.#cancel('measure');
    this.#cancel('outage');
    if (this.#state === 'out-of-range') this.#connect();
  }

  stop(): void {
    if (this.#state === 'stopped') return;
    this.#leaveConnection();
    for (const name of TIMER_NAMES) this.#cancel(name);
    this.#current = null;
    this.#state = 'stopped';
  }

  // --- Measuring -------------------------------------------------------------------------------

  #measure(): void {
    this.#timers.measure = null;
    if (!this.#measuring || this.#state === 'stopped' || this.#state === 'refused') return;
    const { clock, scheduler } = this.#ctx;
    const simNow = clock.simAt(scheduler.now());
    while (this.#schedule.nextAt <= simNow) this.#record(this.#schedule.take());
    // At least 1 ms on: rounding in the clock must never make a meter wake up for nothing, in a loop.
    const wakeAt = Math.max(clock.realAt(this.#schedule.nextAt), scheduler.now() + 1);
    this.#timers.measure = scheduler.at(wakeAt, () => this.#measure());
    if (this.#state === 'ready') this.#pump();
  }

  #record(measurement: Measurement): void {
    const { tally } = this.#ctx;
    const reading = toWire(measurement, this.#nextSeq++, this.#behaviour.clockSkewMs);
    const item: Outgoing = {
      type: 'reading',
      payload: reading,
      seq: reading.seq,
      reading,
      expect: 'stored',
      sends: 0,
      settled: false,
    };
    this.#outbox.push(item);
    tally.generated++;

    const share = this.#behaviour.malformedShare;
    // An extra malformed item with probability share / (1 - share) makes `share` of all items malformed.
    if (!(share > 0) || !this.#troublesome || this.#faults() >= share / (1 - share)) return;
    const kind = pickMalformedKind(this.#faults);
    if (kind === 'seq-conflict') {
      item.conflict = conflictingReading(reading); // sent once the original is known to be stored
    } else if (isBatchFault(kind)) {
      this.#outbox.push({
        type: 'batch',
        payload: malformedBatch(kind),
        expect: EXPECTED_CODE[kind],
        sends: 0,
        settled: false,
      });
      tally.malformed++;
    } else {
      const seq = usesSeq(kind) ? this.#nextSeq++ : null;
      const base = toWire(measurement, seq ?? reading.seq, this.#behaviour.clockSkewMs);
      const payload = malformedReading(kind, base, this.#ctx.scheduler.now(), this.#faults);
      this.#outbox.push({ type: 'reading', payload, seq, expect: EXPECTED_CODE[kind], sends: 0, settled: false });
      tally.malformed++;
    }
  }

  // --- Connection ------------------------------------------------------------------------------

  #connect(): void {
    if (this.#state === 'stopped' || this.#state === 'refused' || CONNECTED.has(this.#state)) return;
    if (this.#state === 'connecting') return;
    this.#cancel('reconnect');
    this.#state = 'connecting';
    this.#gateTicket = this.#ctx.gate.acquire(() => {
      this.#gateTicket = null;
      this.#holdingGate = true;
      this.#uplink = this.#ctx.uplinks(
        { deviceId: this.deviceId, token: this.#token },
        {
          connected: () => this.#onConnected(),
          refused: (code, message) => this.#onRefused(code, message),
          disconnected: (reason) => this.#onDisconnected(reason),
        },
      );
    });
  }

  #releaseGate(): void {
    if (this.#holdingGate) {
      this.#holdingGate = false;
      this.#ctx.gate.release();
    }
    this.#gateTicket?.cancel();
    this.#gateTicket = null;
  }

  #onConnected(): void {
    if (this.#state !== 'connecting') return;
    const { tally } = this.#ctx;
    this.#releaseGate();
    this.#failedConnects = 0;
    this.#state = 'ready';
    tally.connected++;
    if (this.#everConnected) tally.reconnects++;
    else tally.everConnected++;
    this.#everConnected = true;
    this.#pump();
  }

  #onRefused(code: string | undefined, message: string): void {
    if (this.#state !== 'connecting') return;
    const { tally } = this.#ctx;
    this.#releaseGate();
    this.#uplink?.close();
    this.#uplink = null;
    tally.count(tally.connectErrors, code ?? 'NETWORK');
    if (code === 'DEVICE_AUTH') {
      // Wrong token or revoked: retrying cannot help, and would cost the server an argon2 hash each time.
      tally.refusedMeters++;
      tally.finding(`${this.deviceId}: refused (${message})`);
      this.stop();
      this.#state = 'refused';
      return;
    }
    this.#scheduleReconnect();
  }

  #onDisconnected(_reason: string): void {
    if (!CONNECTED.has(this.#state) && this.#state !== 'connecting') return;
    this.#leaveConnection();
    this.#scheduleReconnect();
  }

  /** Closes the connection, whatever stage it is in, and forgets the batch in flight (it will be resent). */
  #leaveConnection(): void {
    if (CONNECTED.has(this.#state)) this.#ctx.tally.connected--;
    this.#releaseGate();
    this.#uplink?.close();
    this.#uplink = null;
    this.#current = null;
    this.#cancel('ack');
    this.#cancel('retry');
    this.#cancel('reconnect');
  }

  #scheduleReconnect(): void {
    this.#state = 'backoff';
    const delay = backoffDelay(this.#failedConnects++, this.#behaviour.backoff, this.#network);
    this.#timers.reconnect = this.#ctx.scheduler.after(delay, () => {
      this.#timers.reconnect = null;
      this.#connect();
    });
  }

  #goOutOfRange(): void {
    this.#timers.outage = null;
    const outageMs = this.#behaviour.outageMs;
    if (!this.#troublesome || outageMs === null || this.#state === 'stopped' || this.#state === 'refused') return;
    this.#leaveConnection();
    this.#state = 'out-of-range';
    this.#ctx.tally.outages++;
    const { scheduler } = this.#ctx;
    this.#timers.outage = scheduler.after(outageMs * (0.5 + this.#network()), () => {
      this.#timers.outage = null;
      if (this.#state !== 'out-of-range') return;
      this.#connect();
      // Exponential gaps (mean three outage lengths) between outages.
      const gap = -Math.log(Math.max(this.#network(), Number.EPSILON)) * 3 * outageMs;
      this.#timers.outage = scheduler.after(gap, () => this.#goOutOfRange());
    });
  }

  // --- Sending ---------------------------------------------------------------------------------

  #pump(): void {
    if (this.#state !== 'ready' || !this.#uplink) return;
    const batch = this.#outbox.takeBatch(Math.min(this.#behaviour.maxBatch, MAX_BATCH_READINGS));
    if (batch.length > 0) this.#emit(batch);
  }

  #emit(items: Outgoing[]): void {
    const { tally, scheduler } = this.#ctx;
    const uplink = this.#uplink!;
    const now = scheduler.now();
    const emission: Emission = {
      items,
      sentAt: now,
      dropAck: this.#troublesome && this.#behaviour.lostAckShare > 0 && this.#network() < this.#behaviour.lostAckShare,
      answered: false,
    };
    const probe = items[0]!.type === 'batch';
    for (const item of items) {
      if (item.sends > 0 && !probe) tally.resent++;
      item.sends++;
    }
    if (!probe) tally.sent += items.length;
    tally.batches++;
    tally.firstSendAt ??= now;
    this.#current = emission;
    this.#state = 'awaiting-ack';
    this.#timers.ack = scheduler.after(this.#behaviour.ackTimeoutMs, () => this.#onAckTimeout(emission));
    uplink.sendReadings(probe ? items[0]!.payload : { readings: items.map((i) => i.payload) }, (ack) =>
      this.#onAck(emission, ack),
    );
    const dropConnection =
      this.#troublesome && this.#behaviour.disconnectShare > 0 && this.#network() < this.#behaviour.disconnectShare;
    if (dropConnection && this.#uplink === uplink && this.#state === 'awaiting-ack') {
      // As if the phone walked out of range right after sending: the ack can never arrive.
      tally.forcedDisconnects++;
      this.#leaveConnection();
      this.#scheduleReconnect();
    }
  }

  #onAckTimeout(emission: Emission): void {
    this.#timers.ack = null;
    if (this.#current !== emission) return;
    // The batch may or may not have been stored; sending it again is safe, the server answers duplicates.
    this.#ctx.tally.ackTimeouts++;
    this.#current = null;
    this.#state = 'ready';
    this.#pump();
  }

  #onAck(emission: Emission, raw: unknown): void {
    if (this.#state === 'stopped' || emission.answered) return;
    const { tally, scheduler } = this.#ctx;
    if (emission.dropAck) {
      tally.lostAcks++;
      return;
    }
    emission.answered = true;
    const now = scheduler.now();
    tally.latency.record(now - emission.sentAt);
    tally.lastAckAt = now;
    const isCurrent = this.#current === emission;
    if (isCurrent) {
      this.#current = null;
      this.#cancel('ack');
    }

    const ack = readAck(raw);
    if (ack === null) {
      tally.count(tally.refusedBatches, 'BAD_ACK');
      tally.finding(`${this.deviceId}: an ack not in the contract's shape`);
      if (isCurrent) this.#waitAndResend(undefined);
      return;
    }
    if (!ack.ok) {
      tally.count(tally.refusedBatches, ack.code);
      if (ack.code === 'OVERLOADED' || ack.code === 'UNAVAILABLE') {
        if (isCurrent) this.#waitAndResend(ack.retryAfterMs);
        return;
      }
      // Refused for what it is (INVALID_PAYLOAD, BATCH_TOO_LARGE): resending cannot help.
      for (const item of emission.items) this.#settleRejected(item, ack.code);
    } else {
      tally.accepted += ack.accepted;
      tally.duplicates += ack.duplicates;
      const codes = new Map<number, string>();
      for (const r of ack.rejected) {
        codes.set(r.index, r.code);
        tally.count(tally.rejected, r.code);
      }
      emission.items.forEach((item, index) => {
        const code = codes.get(index);
        if (code === undefined) this.#settleStored(item);
        else this.#settleRejected(item, code);
      });
    }
    if (isCurrent) {
      this.#state = 'ready';
      this.#pump();
    }
  }

  #waitAndResend(retryAfterMs: number | undefined): void {
    this.#state = 'retry-wait';
    this.#timers.retry = this.#ctx.scheduler.after(retryAfterDelay(retryAfterMs, this.#network), () => {
      this.#timers.retry = null;
      if (this.#state !== 'retry-wait') return;
      this.#state = 'ready';
      this.#pump();
    });
  }

  #settleStored(item: Outgoing): void {
    if (!this.#outbox.settle(item)) return;
    const { tally } = this.#ctx;
    if (item.expect !== 'stored') {
      tally.malformedUnexpected++;
      tally.finding(`${this.deviceId}: malformed input meant for ${item.expect} was accepted`);
      return;
    }
    if (item.type !== 'reading' || !item.reading) return;
    this.#ledger.stored(item.reading);
    if (item.conflict) {
      this.#outbox.push({
        type: 'reading',
        payload: item.conflict,
        seq: item.conflict.seq,
        expect: EXPECTED_CODE['seq-conflict'],
        sends: 0,
        settled: false,
      });
      tally.malformed++;
    }
  }

  #settleRejected(item: Outgoing, code: string): void {
    if (!this.#outbox.settle(item)) return;
    const { tally } = this.#ctx;
    const seq = item.type === 'reading' ? item.seq : null;
    if (item.expect === code) {
      tally.malformedAsExpected++;
    } else if (item.expect === 'stored') {
      tally.count(tally.unexpectedRejections, code);
      tally.finding(`${this.deviceId}: seq ${seq} rejected with ${code}`);
    } else {
      tally.malformedUnexpected++;
      tally.finding(`${this.deviceId}: malformed input meant for ${item.expect} got ${code}`);
    }
    this.#ledger.rejected({ seq, code, expected: item.expect });
  }

  #cancel(name: TimerName): void {
    this.#timers[name]?.cancel();
    this.#timers[name] = null;
  }
}
