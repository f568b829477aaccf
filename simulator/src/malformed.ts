import { MAX_BATCH_READINGS, READING_MMOL_MAX } from '@glucoboard/core/wire';
import type { WireReading } from './wire.ts';

/**
 * Deliberately bad input, to check that the server answers every kind with the right code (SPEC
 * section 4) and stores none of it. Each kind names the code the server must answer.
 */
export const EXPECTED_CODE = {
  /** mmol sent as a string. */
  'wrong-type': 'INVALID_READING',
  /** No measuredAt. */
  'missing-field': 'INVALID_READING',
  /** measuredAt without a UTC offset (a local time). */
  'no-offset': 'INVALID_READING',
  /** A negative or fractional seq (the ack then has seq null). */
  'bad-seq': 'INVALID_READING',
  /** Not an object at all: a bare number in the list. */
  'not-an-object': 'INVALID_READING',
  /** A value beyond 0.6-33.3 mmol/L without LO/HI. */
  'out-of-range': 'OUT_OF_RANGE',
  /** Two days ahead of the server's clock. */
  future: 'FUTURE_TIMESTAMP',
  /** 120 days old. */
  'too-old': 'TOO_OLD',
  /** A stored reading's seq sent again with another value (only after the original was acked). */
  'seq-conflict': 'SEQ_CONFLICT',
  /** A batch whose readings are not a list. */
  'invalid-payload': 'INVALID_PAYLOAD',
  /** One reading more than a batch may hold. */
  'batch-too-large': 'BATCH_TOO_LARGE',
} as const;

export type MalformedKind = keyof typeof EXPECTED_CODE;
export const MALFORMED_KINDS = Object.keys(EXPECTED_CODE) as MalformedKind[];

/** Kinds that are a whole batch rather than one reading in a batch. */
export type BatchFault = 'invalid-payload' | 'batch-too-large';
export const isBatchFault = (kind: MalformedKind): kind is BatchFault =>
  kind === 'invalid-payload' || kind === 'batch-too-large';

/** Kinds whose reading carries a valid seq of its own (which it then uses up). */
export const usesSeq = (kind: MalformedKind): boolean =>
  !isBatchFault(kind) && kind !== 'bad-seq' && kind !== 'not-an-object' && kind !== 'seq-conflict';

export function pickMalformedKind(random: () => number): MalformedKind {
  return MALFORMED_KINDS[Math.floor(random() * MALFORMED_KINDS.length)]!;
}

const DAY = 86_400_000;

/** An ISO date-time in UTC with whole seconds (`...T08:00:00Z`). */
const utc = (at: number) => new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/**
 * A malformed reading of a per-reading kind, built on a valid reading `base` (whose seq it keeps,
 * where the kind keeps one). `realNow` is the real clock, which FUTURE_TIMESTAMP and TOO_OLD are
 * judged against; the margins (two days, 120 days) hold however long the reading waits in a queue.
 */
export function malformedReading(
  kind: Exclude<MalformedKind, BatchFault | 'seq-conflict'>,
  base: WireReading,
  realNow: number,
  random: () => number,
): unknown {
  switch (kind) {
    case 'wrong-type':
      return { ...base, mmol: String(base.mmol ?? 5.5) };
    case 'missing-field': {
      const { measuredAt: _dropped, ...rest } = base;
      return rest;
    }
    case 'no-offset':
      return { ...base, measuredAt: base.measuredAt.slice(0, 19) };
    case 'bad-seq':
      return { ...base, seq: random() < 0.5 ? -1 - Math.floor(random() * 100) : base.seq + 0.5 };
    case 'not-an-object':
      return base.mmol ?? 5.5;
    case 'out-of-range':
      return {
        ...base,
        mmol:
          random() < 0.5 ? Math.round(random() * 5) / 10 : Math.round((READING_MMOL_MAX + 1 + 10 * random()) * 10) / 10,
        flag: null,
      };
    case 'future':
      return { ...base, measuredAt: utc(realNow + 2 * DAY + random() * DAY) };
    case 'too-old':
      return { ...base, measuredAt: utc(realNow - 120 * DAY - random() * 30 * DAY) };
  }
}

/** The same seq as a stored reading, another value: the server must answer SEQ_CONFLICT. */
export function conflictingReading(original: WireReading): WireReading {
  const mmol =
    original.mmol === null ? 5.5 : Math.round((original.mmol >= 20 ? original.mmol - 1 : original.mmol + 1) * 10) / 10;
  return { ...original, mmol, flag: null };
}

/** A whole batch that the server must refuse. Its readings could never be stored even if it were not. */
export function malformedBatch(kind: BatchFault): unknown {
  if (kind === 'invalid-payload') return { readings: 'not a list' };
  // Empty objects: were the batch ever processed reading by reading, each would be INVALID_READING.
  return { readings: Array.from({ length: MAX_BATCH_READINGS + 1 }, () => ({})) };
}
