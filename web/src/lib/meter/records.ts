import {
  decodeCurrentTime,
  decodeGlucoseMeasurement,
  decodeGlucoseMeasurementContext,
  decodeRacpResponse,
  encodeRacpCommand,
  meterClockDrift,
  toDeviceReading,
  type ReadingRefusalReason,
} from '@glucoboard/core/bluetooth';
import type { DeviceReadingOut } from './outbox';

/**
 * From the records a meter notified to the readings the page sends: pure, over the decoder in
 * core (core/src/bluetooth), so the browser test and the unit tests exercise the same code.
 */

/** One stored record as notified: its measurement and, when the meter sent one, its context. */
export interface RawRecord {
  seq: number;
  measurement: DataView;
  context?: DataView;
}

/** The records received so far in a read, by seq: a re-read record replaces one without context. */
export function mergeRecord(records: Map<number, RawRecord>, record: RawRecord): void {
  const known = records.get(record.seq);
  if (known?.context && !record.context) return;
  records.set(record.seq, record);
}

/** The decoder's part the meter link needs: numbering records and reading the RACP's answer. */
export const linkDecoder = {
  sequenceOfMeasurement(value: DataView) {
    const m = decodeGlucoseMeasurement(value);
    return { sequence: m.sequence, contextFollows: m.contextFollows };
  },
  sequenceOfContext(value: DataView) {
    return decodeGlucoseMeasurementContext(value).sequence;
  },
  racpAnswer(value: DataView) {
    try {
      const answer = decodeRacpResponse(value);
      if (answer.kind !== 'response-code' || answer.requestOp !== 'report-stored-records') return null;
      if (answer.responseCode === 'success') return { ok: true as const };
      if (answer.responseCode === 'no records found') return { ok: true as const, noRecords: true as const };
      return { ok: false as const, code: value.getUint8(3) };
    } catch {
      return null;
    }
  },
};

/**
 * The RACP request of a read: records after the last one Glucoboard has (`highWater`), all of
 * them when it has none; a resume asks again from the last record received (that one may have
 * lost its context in the cut; a repeat is merged, and the server counts it a duplicate anyway).
 */
export function recordsRequest(highWater: number | null, lastReceived: number | null): Uint8Array {
  if (lastReceived !== null)
    return encodeRacpCommand({ op: 'report-stored-records', operator: 'greater-or-equal', sequence: lastReceived });
  if (highWater === null || highWater >= 0xffff)
    return encodeRacpCommand({ op: 'report-stored-records', operator: 'all' });
  return encodeRacpCommand({ op: 'report-stored-records', operator: 'greater-or-equal', sequence: highWater + 1 });
}

export interface UnreadableRecord {
  seq: number;
  reason: ReadingRefusalReason | 'undecodable';
}

/** The readings to send, in seq order, and the records that give none (and why). */
export function readingsOf(
  records: Iterable<RawRecord>,
  timeZone: string,
): { readings: DeviceReadingOut[]; unreadable: UnreadableRecord[] } {
  const readings: DeviceReadingOut[] = [];
  const unreadable: UnreadableRecord[] = [];
  for (const record of [...records].sort((a, b) => a.seq - b.seq)) {
    let result: ReturnType<typeof toDeviceReading>;
    try {
      const measurement = decodeGlucoseMeasurement(record.measurement);
      const context = record.context ? decodeGlucoseMeasurementContext(record.context) : undefined;
      result = toDeviceReading(measurement, context, { timeZone });
    } catch {
      unreadable.push({ seq: record.seq, reason: 'undecodable' });
      continue;
    }
    if (result.ok) readings.push(result.reading);
    else unreadable.push({ seq: record.seq, reason: result.reason });
  }
  return { readings, unreadable };
}

/** Minutes the meter's clock is ahead of the phone's (negative: behind), or null if unknown. */
export function clockDriftMinutes(clock: { value: DataView; readAt: number } | null, timeZone: string): number | null {
  if (!clock) return null;
  try {
    const drift = meterClockDrift(decodeCurrentTime(clock.value), new Date(clock.readAt), timeZone);
    return drift === null ? null : Math.round(drift / 60_000);
  } catch {
    return null;
  }
}
