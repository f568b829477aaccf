import { BEFORE_ASSIGNMENT, measuredInCurrentAssignment } from '@glucoboard/core/domain';
import type { DeviceReadingToStore, StoreOutcome } from '@glucoboard/core/storage';
import { validateReadingsBatch, type BoardReading, type RejectedReading } from '@glucoboard/core/wire';
import type { VerifiedDevice } from '../realtime/device-cache.ts';
import { OverloadedError } from './batch-writer.ts';
import type { IngestMetrics } from './metrics.ts';

/**
 * A reading refused on its own: by validation, by storage for a seq already used (SEQ_CONFLICT),
 * or for being measured before the meter came to its current patient (BEFORE_ASSIGNMENT).
 */
export type ReadingRejection = Omit<RejectedReading, 'code'> & {
  code: RejectedReading['code'] | 'SEQ_CONFLICT' | typeof BEFORE_ASSIGNMENT;
};

/** The ack of a `readings` batch (SPEC section 4, a public contract). */
export type ReadingsAck =
  | { ok: true; accepted: number; duplicates: number; rejected: ReadingRejection[] }
  | {
      ok: false;
      code: 'INVALID_PAYLOAD' | 'BATCH_TOO_LARGE' | 'OVERLOADED' | 'UNAVAILABLE';
      message: string;
      retryAfterMs?: number;
    };

export interface IngestDependencies {
  /** Group commit: resolves once the readings are durably committed. */
  writer: { submit(readings: DeviceReadingToStore[]): Promise<StoreOutcome[]> };
  /** After commit: live `reading` events for the responsible team's boards. */
  publish(readings: readonly BoardReading[]): void;
  metrics: IngestMetrics;
  /**
   * When the device's current patient's readings begin (storage `readingsAcceptedFrom`), for a
   * device whose verification did not say (`acceptsReadingsFrom` undefined).
   */
  acceptsReadingsFrom?(deviceId: string): Promise<Date | null>;
  now?: () => number;
}

const BEFORE_ASSIGNMENT_MESSAGE =
  'measured before this meter came to its current patient (it was with another patient then); not stored';

/** A device that hears UNAVAILABLE retries after this, unless told otherwise. */
const UNAVAILABLE_RETRY_MS = 1000;
const UNAVAILABLE_MESSAGE = 'the readings could not be stored now; send them again later';

/**
 * One batch from one authenticated device: validate, store exactly once, then ack. The ack is
 * ok only after the accepted readings are committed; any failure to commit answers UNAVAILABLE,
 * so the device keeps its readings and resends them (a resend is a duplicate, never a second row).
 */
export async function ingestReadings(
  deps: IngestDependencies,
  device: VerifiedDevice,
  payload: unknown,
): Promise<ReadingsAck> {
  const verdict = validateReadingsBatch(payload, { deviceKind: device.kind, now: (deps.now ?? Date.now)() });
  if (!verdict.ok) {
    deps.metrics.batchRefused(verdict.code);
    return { ok: false, code: verdict.code, message: verdict.message };
  }
  // A lent meter's memory from before the hand-over is its previous patient's (domain/meter-loans.ts).
  const rejected: ReadingRejection[] = [...verdict.rejected];
  let accepted = verdict.accepted;
  if (accepted.length > 0) {
    let from: Date | null;
    try {
      from =
        device.acceptsReadingsFrom !== undefined
          ? device.acceptsReadingsFrom
          : ((await deps.acceptsReadingsFrom?.(device.deviceId)) ?? null);
    } catch {
      deps.metrics.batchRefused('UNAVAILABLE');
      return { ok: false, code: 'UNAVAILABLE', message: UNAVAILABLE_MESSAGE, retryAfterMs: UNAVAILABLE_RETRY_MS };
    }
    if (from !== null) {
      accepted = accepted.filter(({ index, reading }) => {
        if (measuredInCurrentAssignment(reading.measuredAt, from)) return true;
        rejected.push({
          index,
          seq: reading.seq,
          code: BEFORE_ASSIGNMENT,
          message: BEFORE_ASSIGNMENT_MESSAGE,
          field: 'measuredAt',
        });
        return false;
      });
    }
  }
  // Field by field, not `{ ...reading }`: V8 copies a spread object 100 times slower, and in a
  // storm this line alone was 8 % of the server's CPU (docs/benchmarks.md, 2026-12-04).
  const rows = accepted.map(
    ({ reading: r }): DeviceReadingToStore => ({
      seq: r.seq,
      measuredAt: r.measuredAt,
      mmol: r.mmol,
      flag: r.flag,
      kind: r.kind,
      meal: r.meal,
      deviceSerial: device.deviceId,
      patientId: device.patientId,
    }),
  );
  let outcomes: StoreOutcome[] = [];
  if (rows.length > 0) {
    try {
      outcomes = await deps.writer.submit(rows);
    } catch (err) {
      if (err instanceof OverloadedError) {
        deps.metrics.batchRefused('OVERLOADED');
        return {
          ok: false,
          code: 'OVERLOADED',
          message: 'too many readings are waiting to be written; send again later',
          retryAfterMs: err.retryAfterMs,
        };
      }
      deps.metrics.batchRefused('UNAVAILABLE');
      return { ok: false, code: 'UNAVAILABLE', message: UNAVAILABLE_MESSAGE, retryAfterMs: UNAVAILABLE_RETRY_MS };
    }
  }
  const stored: BoardReading[] = [];
  let duplicates = 0;
  outcomes.forEach((outcome, i) => {
    const { index, reading } = accepted[i]!;
    if (outcome === 'stored') {
      stored.push({
        patientId: device.patientId,
        teamId: device.teamId,
        measuredAt: reading.measuredAt.toISOString(),
        mmol: reading.mmol,
        flag: reading.flag,
        kind: reading.kind,
        source: 'device',
      });
    } else if (outcome === 'duplicate') {
      duplicates++;
    } else {
      rejected.push({
        index,
        seq: reading.seq,
        code: 'SEQ_CONFLICT',
        message: 'another reading was already stored under this seq',
        field: 'seq',
      });
    }
  });
  rejected.sort((a, b) => a.index - b.index);
  deps.metrics.batchDone(verdict.accepted.length + verdict.rejected.length, stored.length, duplicates, rejected);
  if (stored.length > 0) deps.publish(stored);
  return { ok: true, accepted: stored.length, duplicates, rejected };
}
