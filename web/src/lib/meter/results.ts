import type { MessageKey, MessageParams } from '$lib/i18n/translate';
import type { BatchAck, DeviceReadingOut } from './outbox';

/**
 * What became of each reading read from a meter, in words a nurse understands: sent, already in
 * Glucoboard, refused (and why), or waiting to be sent. Pure, so the wording is unit-tested.
 */

export type ReadingStatus = 'sent' | 'already' | 'stored' | 'refused' | 'waiting' | 'unreadable';

export interface ReadingResult {
  seq: number;
  reading: DeviceReadingOut | null;
  status: ReadingStatus;
  /** Refused: the server's code (OUT_OF_RANGE...) or the page's own for a record it could not use. */
  code?: string;
}

export interface Message {
  key: MessageKey;
  params?: MessageParams;
}

const REFUSAL_KEYS: Record<string, MessageKey> = {
  OUT_OF_RANGE: 'meter.refused.OUT_OF_RANGE',
  FUTURE_TIMESTAMP: 'meter.refused.FUTURE_TIMESTAMP',
  TOO_OLD: 'meter.refused.TOO_OLD',
  INVALID_READING: 'meter.refused.INVALID_READING',
  SEQ_CONFLICT: 'meter.refused.SEQ_CONFLICT',
  BEFORE_ASSIGNMENT: 'meter.refused.BEFORE_ASSIGNMENT',
  METER_RETIRED: 'meter.error.METER_RETIRED',
  METER_UNPAIRED: 'meter.error.METER_UNPAIRED',
  METER_PAIRED_ELSEWHERE: 'meter.error.METER_PAIRED_ELSEWHERE',
  METER_REVOKED: 'meter.error.METER_REVOKED',
  METER_NOT_BGM: 'meter.error.METER_NOT_BGM',
  DEVICE_AUTH: 'meter.error.DEVICE_AUTH',
  NOT_FOUND: 'meter.error.NOT_FOUND',
  FORBIDDEN: 'meter.error.FORBIDDEN',
};

/** Why a reading or a batch was refused, in the page's words (the server's code translated). */
export function refusalMessage(code: string | undefined): Message {
  return { key: (code && REFUSAL_KEYS[code]) || 'meter.refused.other', params: { code: code ?? '' } };
}

export function statusMessage(result: ReadingResult): Message {
  switch (result.status) {
    case 'sent':
      return { key: 'meter.status.sent' };
    case 'already':
      return { key: 'meter.status.already' };
    case 'stored':
      return { key: 'meter.status.stored' };
    case 'waiting':
      return { key: 'meter.status.waiting' };
    case 'unreadable':
      return { key: 'meter.status.unreadable' };
    case 'refused':
      return refusalMessage(result.code);
  }
}

/** How the value reads: control solution, LO and HI as such, else the number (mmol/L). */
export function valueMessage(
  reading: DeviceReadingOut,
  format: (mmol: number) => string = (mmol) => mmol.toFixed(1),
): Message {
  if (reading.flag === 'LO') return { key: reading.kind === 'control' ? 'meter.value.controlLo' : 'meter.value.lo' };
  if (reading.flag === 'HI') return { key: reading.kind === 'control' ? 'meter.value.controlHi' : 'meter.value.hi' };
  const mmol = reading.mmol === null ? '' : format(reading.mmol);
  return { key: reading.kind === 'control' ? 'meter.value.control' : 'meter.value.mmol', params: { mmol } };
}

export function mealMessage(reading: DeviceReadingOut): Message | null {
  if (reading.meal === 'before') return { key: 'meter.meal.before' };
  if (reading.meal === 'after') return { key: 'meter.meal.after' };
  return null;
}

/**
 * Each reading of a batch with what the server's ack says of it. The ack counts accepted and
 * duplicates without naming them: when a batch holds both, readings at or below the high-water
 * mark known before the read are taken as those already there; if that does not add up, the
 * readings are only "in Glucoboard" (the counts stay exact in the summary).
 */
export function resultsOfBatch(
  readings: readonly DeviceReadingOut[],
  ack: BatchAck,
  highWaterBefore: number | null,
): ReadingResult[] {
  const rejected = new Map(ack.rejected.map((r) => [r.index, r.code]));
  const kept = readings.filter((_, i) => !rejected.has(i));
  const guessedOld = kept.filter((r) => highWaterBefore !== null && r.seq <= highWaterBefore).length;
  const exact = ack.duplicates === 0 || ack.accepted === 0 || guessedOld === ack.duplicates;
  return readings.map((reading, index): ReadingResult => {
    const code = rejected.get(index);
    if (code !== undefined) return { seq: reading.seq, reading, status: 'refused', code };
    if (!exact) return { seq: reading.seq, reading, status: 'stored' };
    const already =
      ack.accepted === 0 || (ack.duplicates > 0 && highWaterBefore !== null && reading.seq <= highWaterBefore);
    return { seq: reading.seq, reading, status: already ? 'already' : 'sent' };
  });
}

export interface ResultSummary {
  sent: number;
  already: number;
  refused: number;
  waiting: number;
}

/** The counts at the top of the list. */
export function summarize(results: readonly ReadingResult[], acks: readonly BatchAck[]): ResultSummary {
  return {
    sent: acks.reduce((n, a) => n + a.accepted, 0),
    already: acks.reduce((n, a) => n + a.duplicates, 0),
    refused: results.filter((r) => r.status === 'refused' || r.status === 'unreadable').length,
    waiting: results.filter((r) => r.status === 'waiting').length,
  };
}
