/**
 * The meter page's outbox: readings read from a meter wait here (IndexedDB on the phone) until
 * they are sent, so a read at a home visit without coverage is sent when the phone is back
 * online. Each batch is sent until the server answers it, then removed; the device path's
 * (deviceId, seq) idempotency makes a resend after a lost answer a duplicate, never a second row.
 */

/** Who sends the batch: a nurse signed in, for a patient; or a patient's phone, as its device. */
export type SendChannel = { kind: 'nurse'; patientId: string } | { kind: 'phone'; deviceId: string };

/** A reading in the device shape (SPEC section 4). */
export interface DeviceReadingOut {
  seq: number;
  measuredAt: string;
  mmol: number | null;
  flag?: 'LO' | 'HI' | null;
  kind?: 'bgm' | 'cgm' | 'control';
  meal?: 'before' | 'after' | null;
}

export interface OutboxEntry {
  /** Unique per batch: channel, meter and seq range, so the same batch queued twice is one entry. */
  id: string;
  channel: SendChannel;
  serial: string;
  readings: DeviceReadingOut[];
  queuedAt: string;
}

/** The answer to a batch (the device ack). */
export interface BatchAck {
  ok: true;
  accepted: number;
  duplicates: number;
  rejected: Array<{ index: number; seq: number | null; code: string; message: string }>;
}

/** Why a send did not get an ack: `retry` keeps the batch (offline, server busy), `refused` drops it. */
export class SendFailure extends Error {
  constructor(
    readonly disposition: 'retry' | 'refused',
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SendFailure';
  }
}

export interface OutboxStore {
  all(): Promise<OutboxEntry[]>;
  put(entry: OutboxEntry): Promise<void>;
  delete(id: string): Promise<void>;
}

export type Sender = (entry: OutboxEntry) => Promise<BatchAck>;

export type FlushOutcome =
  | { entry: OutboxEntry; status: 'sent'; ack: BatchAck }
  | { entry: OutboxEntry; status: 'refused'; code: string; message: string };

/** At most this many readings in one batch (the device path's limit). */
export const BATCH_LIMIT = 500;

export function batchId(channel: SendChannel, serial: string, readings: readonly DeviceReadingOut[]): string {
  const seqs = readings.map((r) => r.seq);
  const who = channel.kind === 'nurse' ? `nurse:${channel.patientId}` : `phone:${channel.deviceId}`;
  return `${who}|${serial}|${Math.min(...seqs)}-${Math.max(...seqs)}|${seqs.length}`;
}

/** The readings in batches of at most BATCH_LIMIT, in seq order. */
export function batchesOf(
  channel: SendChannel,
  serial: string,
  readings: readonly DeviceReadingOut[],
  now: Date,
): OutboxEntry[] {
  const ordered = [...readings].sort((a, b) => a.seq - b.seq);
  const entries: OutboxEntry[] = [];
  for (let i = 0; i < ordered.length; i += BATCH_LIMIT) {
    const part = ordered.slice(i, i + BATCH_LIMIT);
    entries.push({ id: batchId(channel, serial, part), channel, serial, readings: part, queuedAt: now.toISOString() });
  }
  return entries;
}

/**
 * The outbox: entries are put before any send, sent oldest first, removed only once answered.
 * One flush at a time (in this page; across tabs too where Web Locks exist), so no batch is sent
 * twice at once.
 */
export class MeterOutbox {
  #flushing: Promise<FlushOutcome[]> | null = null;

  constructor(
    private readonly store: OutboxStore,
    private readonly locks?: { request<T>(name: string, callback: () => Promise<T>): Promise<T> },
  ) {}

  async enqueue(entries: readonly OutboxEntry[]): Promise<void> {
    for (const entry of entries) await this.store.put(entry);
  }

  async pending(): Promise<OutboxEntry[]> {
    return sortByQueued(await this.store.all());
  }

  /** Sends what waits; stops at the first batch that must be retried (offline: all of them wait). */
  flush(send: Sender): Promise<FlushOutcome[]> {
    if (this.#flushing) return this.#flushing;
    const run = () => this.#flushOnce(send);
    this.#flushing = (this.locks ? this.locks.request('glucoboard-meter-outbox', run) : run()).finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #flushOnce(send: Sender): Promise<FlushOutcome[]> {
    const outcomes: FlushOutcome[] = [];
    for (const entry of sortByQueued(await this.store.all())) {
      try {
        const ack = await send(entry);
        await this.store.delete(entry.id);
        outcomes.push({ entry, status: 'sent', ack });
      } catch (err) {
        if (err instanceof SendFailure && err.disposition === 'refused') {
          // Refused whole (e.g. the meter is paired with someone else): resending cannot help.
          await this.store.delete(entry.id);
          outcomes.push({ entry, status: 'refused', code: err.code, message: err.message });
          continue;
        }
        break;
      }
    }
    return outcomes;
  }
}

const sortByQueued = (entries: OutboxEntry[]) =>
  [...entries].sort((a, b) => a.queuedAt.localeCompare(b.queuedAt) || a.id.localeCompare(b.id));

/** The outbox's store in the browser: one IndexedDB object store keyed by the batch id. */
export function indexedDbStore(factory: IDBFactory, name = 'glucoboard-meter'): OutboxStore {
  const STORE = 'outbox';
  let opened: Promise<IDBDatabase> | undefined;
  const database = () =>
    (opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const open = factory.open(name, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'id' });
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('IndexedDB could not be opened'));
    }));
  const run = async <T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const db = await database();
    return new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = act(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  };
  return {
    all: () => run('readonly', (s) => s.getAll() as IDBRequest<OutboxEntry[]>),
    put: async (entry) => {
      await run('readwrite', (s) => s.put(entry));
    },
    delete: async (id) => {
      await run('readwrite', (s) => s.delete(id));
    },
  };
}
