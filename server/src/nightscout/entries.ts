import type pg from 'pg';
import {
  storeNightscoutDocuments,
  type NightscoutDevice,
  type StoredNightscoutDocument,
} from '@glucoboard/core/storage';
import { MAX_BATCH_READINGS, normalizeEntry, objectIdFor, type NormalizedEntry } from '@glucoboard/core/wire';
import type { ReadingsAck } from '../ingest/ingest.ts';

/** The pipeline a Nightscout entry's reading goes through: the same ingest as /devices readings. */
export type Ingest = (device: NightscoutDevice, payload: unknown) => Promise<ReadingsAck>;

/** Ingest batches (of 500) sent at once per request. */
const INGEST_BATCHES_IN_FLIGHT = 4;

export type EntriesOutcome =
  | { ok: true; stored: StoredNightscoutDocument[]; entries: NormalizedEntry[] }
  | { ok: false; status: number; message: string; retryAfterMs?: number };

/**
 * Uploaded entries, in two steps. First their glucose readings go through ingest (group commit,
 * outbox, alert rules, live board events), in batches of ingest's size sent at once so the
 * writer coalesces them; the (deviceId, seq) key, seq made from (type, time), makes a resend a
 * duplicate there. Then every entry is kept as its Nightscout document, once per (type, time) of
 * the device. Only when both are committed is the request answered 200; any failure answers 503
 * and the uploader resends, which stores nothing twice.
 *
 * Readings ingest refuses (out of range, clock far off, older than 90 days) and entries that are
 * not glucose (sensor error codes below 39 mg/dL, calibrations) are kept as documents only.
 */
export async function acceptEntries(
  db: pg.Pool,
  ingest: Ingest,
  device: NightscoutDevice,
  raws: readonly unknown[],
  options: { v3?: boolean } = {},
): Promise<EntriesOutcome> {
  const entries: NormalizedEntry[] = [];
  for (const [index, raw] of raws.entries()) {
    const entry = normalizeEntry(raw, options);
    if ('ok' in entry) return { ok: false, status: 400, message: `entry ${index}: ${entry.message}` };
    entries.push(entry);
  }
  const readings = entries.flatMap((e) =>
    e.reading
      ? [
          {
            seq: e.reading.seq,
            measuredAt: e.reading.measuredAt.toISOString(),
            mmol: e.reading.mmol,
            kind: e.reading.kind,
          },
        ]
      : [],
  );
  const batches: (typeof readings)[] = [];
  for (let i = 0; i < readings.length; i += MAX_BATCH_READINGS) batches.push(readings.slice(i, i + MAX_BATCH_READINGS));
  // A few batches in flight: enough for the writer to coalesce them, never a back-fill's whole
  // 10,000+ readings queued at once (past its queue bound it would answer OVERLOADED every time).
  const acks: ReadingsAck[] = [];
  for (let i = 0; i < batches.length; i += INGEST_BATCHES_IN_FLIGHT) {
    const wave = batches.slice(i, i + INGEST_BATCHES_IN_FLIGHT);
    acks.push(...(await Promise.all(wave.map((batch) => ingest(device, { readings: batch })))));
    if (acks.some((ack) => !ack.ok)) break;
  }
  const refused = acks.find((ack) => !ack.ok);
  if (refused && !refused.ok) {
    return { ok: false, status: 503, message: refused.message, retryAfterMs: refused.retryAfterMs };
  }
  const stored = await storeNightscoutDocuments(
    db,
    entries.map((e) => ({
      collection: 'entries',
      patientId: device.patientId,
      deviceSerial: device.deviceId,
      scope: device.deviceId,
      dedupeKey: e.dedupeKey,
      identifier: e.identifier,
      objectId: objectIdFor(device.deviceId, 'entries', e.dedupeKey),
      dateMs: e.instantMs,
      doc: e.doc,
    })),
  );
  return { ok: true, stored, entries };
}

/** A stored entry as v1 answers it: the document with its `_id`. */
export const v1Document = (stored: StoredNightscoutDocument): Record<string, unknown> => ({
  _id: stored.objectId,
  ...stored.doc,
});
