import type { MessageKey, MessageParams } from '$lib/i18n/translate';
import { ApiError } from '$lib/api/http';
import { deviceHighWater, meterStatus, pairMeter, sendBatch } from './api';
import { chooseMeter, GlucoseMeterLink, MeterError } from './bluetooth';
import { loadCredential, type MeterCredential } from './credential';
import {
  batchesOf,
  indexedDbStore,
  MeterOutbox,
  type BatchAck,
  type FlushOutcome,
  type OutboxEntry,
  type SendChannel,
} from './outbox';
import { clockDriftMinutes, linkDecoder, mergeRecord, readingsOf, recordsRequest, type RawRecord } from './records';
import { resultsOfBatch, type ReadingResult } from './results';
import type { BluetoothMeterDevice } from './web-bluetooth';

/**
 * One visit's read of a meter, as the meter page shows it: choose, connect, ask for the records
 * since the last one Glucoboard has, collect them (resuming after a lost link from the last one
 * received), queue them in the outbox and send. The two ways in differ only in `target`.
 */

export type MeterTarget =
  | { kind: 'nurse'; patientId: string; patientName: string }
  | { kind: 'phone'; credential: MeterCredential };

export type Phase = 'idle' | 'choosing' | 'connecting' | 'reading' | 'unpaired' | 'sending' | 'done' | 'cut' | 'failed';

export interface Problem {
  key: MessageKey;
  params?: MessageParams;
}

/** The phone remembers the last seq it queued per meter: a read while offline starts after it. */
const QUEUED_KEY = (serial: string) => `glucoboard.meter.queued.${serial}`;
/** The browser's id of the meter a patient's phone reads under its credential. */
const PHONE_METER_KEY = (deviceId: string) => `glucoboard.meter.phone-meter.${deviceId}`;

function browserStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

let sharedOutbox: MeterOutbox | undefined;
/** One outbox per page (IndexedDB), one flush at a time across tabs (Web Locks). */
export function meterOutbox(): MeterOutbox {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  sharedOutbox ??= new MeterOutbox(
    indexedDbStore(indexedDB),
    locks
      ? { request: (name, callback) => locks.request(name, callback) as Promise<Awaited<ReturnType<typeof callback>>> }
      : undefined,
  );
  return sharedOutbox;
}

export class MeterReading {
  phase = $state<Phase>('idle');
  received = $state(0);
  serial = $state<string | null>(null);
  driftMinutes = $state<number | null>(null);
  problem = $state<Problem | null>(null);
  results = $state<ReadingResult[]>([]);
  acks = $state<BatchAck[]>([]);
  /** Readings in the outbox, of this read and earlier ones. */
  waiting = $state(0);
  nothingNew = $state(false);
  canPair = $state(false);

  #device: BluetoothMeterDevice | undefined;
  #link: GlucoseMeterLink | undefined;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- private bookkeeping of the read, never rendered
  #records = new Map<number, RawRecord>();
  #lastReceived: number | null = null;
  #highWater: number | null = null;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- private bookkeeping of the read, never rendered
  #entries = new Set<string>();

  constructor(
    private readonly target: () => MeterTarget | null,
    private readonly timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone,
  ) {}

  get busy(): boolean {
    return ['choosing', 'connecting', 'reading', 'sending'].includes(this.phase);
  }

  /** The whole read, from the browser's chooser on. */
  async read(): Promise<void> {
    this.#reset();
    try {
      this.phase = 'choosing';
      this.#device = await chooseMeter();
      await this.#connectAndRead(false);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** After a lost link: the same meter again, from the last record received. */
  async resume(): Promise<void> {
    if (!this.#device) return this.read();
    this.problem = null;
    try {
      await this.#connectAndRead(true);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** A team admin pairs the unpaired meter with the patient, then the read goes on. */
  async pair(): Promise<void> {
    const target = this.target();
    if (target?.kind !== 'nurse' || !this.serial) return;
    this.problem = null;
    try {
      const status = await pairMeter(target.patientId, this.serial);
      this.#highWater = status.highWaterSeq;
      await this.#transfer();
    } catch (err) {
      this.#fail(err);
    }
  }

  async #connectAndRead(resuming: boolean): Promise<void> {
    const target = this.target();
    if (!target || !this.#device) return;
    this.phase = 'connecting';
    this.#link?.close();
    this.#link = new GlucoseMeterLink(this.#device, linkDecoder);
    const info = await this.#link.open();
    if (resuming && this.serial !== null && info.serial !== this.serial)
      throw new MeterError('connect-failed', 'another meter answered');
    this.serial = info.serial;
    this.driftMinutes = clockDriftMinutes(info.clock, this.timeZone);
    if (!resuming) {
      const known = await this.#knownHighWater(target, info.serial);
      if (known === 'unpaired') return;
      this.#highWater = known;
    }
    await this.#transfer();
  }

  /** The highest seq Glucoboard has for the meter, or 'unpaired' (the page asks to pair it). */
  async #knownHighWater(target: MeterTarget, serial: string): Promise<number | null | 'unpaired'> {
    const queued = Number(browserStorage()?.getItem(QUEUED_KEY(storedUnder(target, serial))) ?? NaN);
    const local = Number.isInteger(queued) ? queued : null;
    const later = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
    if (target.kind === 'phone') {
      // A browser cannot read the meter's serial (see bluetooth.ts): the phone keeps to the meter
      // it first read with this credential (the browser's own id of that meter).
      const storage = browserStorage();
      const key = PHONE_METER_KEY(target.credential.deviceId);
      const known = storage?.getItem(key);
      const chosen = this.#device?.id ?? '';
      if (!known) storage?.setItem(key, chosen);
      else if (known !== chosen) {
        this.problem = { key: 'meter.phone.wrongMeter', params: { serial, paired: target.credential.deviceId } };
        this.phase = 'failed';
        this.#link?.close();
        return 'unpaired';
      }
      try {
        return later(await deviceHighWater(target.credential), local);
      } catch (err) {
        // Offline: what the phone queued itself is the best it knows; a repeat is a duplicate anyway.
        if (err instanceof ApiError && err.status !== 0) throw err;
        if (err instanceof TypeError || (err instanceof ApiError && err.status === 0)) return local;
        throw err;
      }
    }
    try {
      const status = await meterStatus(target.patientId, serial);
      if (status.state === 'unpaired') {
        this.canPair = status.canPair;
        // Only a team admin can go on from here (pair, then read on the same connection).
        if (!status.canPair) this.#link?.close();
        this.phase = 'unpaired';
        return 'unpaired';
      }
      return later(status.highWaterSeq, local);
    } catch (err) {
      if (err instanceof ApiError && err.status === 0) return local;
      throw err;
    }
  }

  async #transfer(): Promise<void> {
    const link = this.#link;
    if (!link) return;
    this.phase = 'reading';
    const command = recordsRequest(this.#highWater, this.#lastReceived);
    const end = await link.transfer(command, (record) => {
      mergeRecord(this.#records, record);
      this.#lastReceived = this.#lastReceived === null ? record.seq : Math.max(this.#lastReceived, record.seq);
      this.received = this.#records.size;
    });
    link.close();
    if (!end.ok) throw new MeterError('racp-failed', String(end.code));
    await this.#send();
  }

  async #send(): Promise<void> {
    const target = this.target();
    if (!target || !this.serial) return;
    const { readings, unreadable } = readingsOf(this.#records.values(), this.timeZone);
    const channel: SendChannel =
      target.kind === 'nurse'
        ? { kind: 'nurse', patientId: target.patientId }
        : { kind: 'phone', deviceId: target.credential.deviceId };
    const rows: ReadingResult[] = [
      ...readings.map((reading): ReadingResult => ({ seq: reading.seq, reading, status: 'waiting' })),
      ...unreadable.map((u): ReadingResult => ({ seq: u.seq, reading: null, status: 'unreadable', code: u.reason })),
    ].sort((a, b) => b.seq - a.seq);
    this.results = rows;
    this.nothingNew = this.#records.size === 0;
    if (readings.length > 0) {
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- private bookkeeping of the read, never rendered
      const entries = batchesOf(channel, storedUnder(target, this.serial), readings, new Date());
      for (const entry of entries) this.#entries.add(entry.id);
      await meterOutbox().enqueue(entries);
      browserStorage()?.setItem(
        QUEUED_KEY(storedUnder(target, this.serial)),
        String(Math.max(...readings.map((r) => r.seq))),
      );
    }
    this.phase = 'sending';
    await this.flush();
    this.phase = 'done';
  }

  /** Sends what waits in the outbox (also when the phone comes back online). */
  async flush(): Promise<void> {
    const outbox = meterOutbox();
    const target = this.target();
    const credentialOf = (deviceId: string) => {
      if (target?.kind === 'phone' && target.credential.deviceId === deviceId) return target.credential;
      const stored = loadCredential(browserStorage());
      return stored?.deviceId === deviceId ? stored : null;
    };
    const outcomes = await outbox.flush((entry) => sendBatch(entry, credentialOf));
    this.#apply(outcomes);
    this.waiting = (await outbox.pending()).reduce((n, e) => n + e.readings.length, 0);
  }

  #apply(outcomes: FlushOutcome[]): void {
    const mine = outcomes.filter((o) => this.#entries.has(o.entry.id));
    if (mine.length === 0) return;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- private bookkeeping of the read, never rendered
    const bySeq = new Map<number, ReadingResult>();
    for (const outcome of mine) {
      const results = outcomeResults(outcome, this.#highWater);
      for (const r of results) bySeq.set(r.seq, r);
      if (outcome.status === 'sent') this.acks = [...this.acks, outcome.ack];
      else this.problem = { key: 'meter.refused.other', params: { code: outcome.code } };
    }
    this.results = this.results.map((row) => bySeq.get(row.seq) ?? row);
  }

  #reset(): void {
    this.#link?.close();
    this.#link = undefined;
    this.#device = undefined;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- private bookkeeping of the read, never rendered
    this.#records = new Map();
    this.#lastReceived = null;
    this.#highWater = null;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- private bookkeeping of the read, never rendered
    this.#entries = new Set();
    this.received = 0;
    this.serial = null;
    this.driftMinutes = null;
    this.problem = null;
    this.results = [];
    this.acks = [];
    this.nothingNew = false;
    this.canPair = false;
  }

  #fail(err: unknown): void {
    if (err instanceof MeterError) {
      if (err.problem === 'connection-lost' || err.problem === 'timeout') {
        this.phase = 'cut';
        this.problem = { key: `meter.error.${err.problem}`, params: { count: this.#records.size } };
        return;
      }
      this.phase = 'failed';
      this.problem = { key: `meter.error.${err.problem}`, params: { code: err.message, count: this.#records.size } };
      return;
    }
    this.phase = 'failed';
    this.#link?.close();
    if (err instanceof ApiError) {
      const known: Record<string, MessageKey> = {
        METER_PAIRED_ELSEWHERE: 'meter.error.METER_PAIRED_ELSEWHERE',
        METER_REVOKED: 'meter.error.METER_REVOKED',
        METER_RETIRED: 'meter.error.METER_RETIRED',
        METER_NOT_BGM: 'meter.error.METER_NOT_BGM',
        METER_UNPAIRED: 'meter.error.METER_UNPAIRED',
        DEVICE_AUTH: 'meter.error.DEVICE_AUTH',
        NOT_FOUND: 'meter.error.NOT_FOUND',
        FORBIDDEN: 'meter.error.FORBIDDEN',
      };
      this.problem = known[err.code]
        ? { key: known[err.code]! }
        : { key: 'meter.error.other', params: { message: err.message } };
      return;
    }
    this.problem = { key: 'meter.error.other', params: { message: err instanceof Error ? err.message : String(err) } };
  }
}

/** The deviceId the readings are kept under: the phone's credential, or the meter a nurse read. */
const storedUnder = (target: MeterTarget, serial: string) =>
  target.kind === 'phone' ? target.credential.deviceId : serial;

function outcomeResults(outcome: FlushOutcome, highWater: number | null): ReadingResult[] {
  if (outcome.status === 'sent') return resultsOfBatch(outcome.entry.readings, outcome.ack, highWater);
  return outcome.entry.readings.map((reading) => ({
    seq: reading.seq,
    reading,
    status: 'refused' as const,
    code: outcome.code,
  }));
}

export type { OutboxEntry };
