import { MAX_BATCH_READINGS } from '@glucoboard/core/wire';

/**
 * The largest reading the contract allows, every field at its longest: the largest safe seq, a
 * date-time with nanoseconds and an offset, the longest number JSON.stringify writes for a value a
 * flagged reading may carry, and the longest flag, kind and meal. (Fields the contract does not
 * name are ignored by the server but still travel; they are what the margin below is for.)
 */
export const LONGEST_READING = {
  seq: Number.MAX_SAFE_INTEGER,
  measuredAt: '2025-03-01T08:00:00.123456789+01:00',
  mmol: 1.2345678901234567e-100,
  flag: 'LO',
  kind: 'control',
  meal: 'before',
} as const;

/** The largest legal `readings` event as socket.io-client sends it: `42["readings",{...}]` with an ack id. */
export function largestLegalBatchBytes(readings = MAX_BATCH_READINGS): number {
  const batch = { readings: Array.from({ length: readings }, () => LONGEST_READING) };
  return Buffer.byteLength(`42/devices,4294967295${JSON.stringify(['readings', batch])}`);
}

/**
 * One Socket.IO frame or one gateway body: 1 MiB, about 13 times the largest legal 500-reading
 * batch (about 76 KB compact), so whitespace, other encoders and a few fields from newer firmware
 * fit, and 501 maximal readings still arrive to be answered BATCH_TOO_LARGE. Above it Socket.IO
 * (engine.io) closes the connection without an answer and the gateway answers 413 BATCH_TOO_LARGE;
 * the bound is what one unauthenticated frame may cost to parse.
 */
export const DEVICE_FRAME_LIMIT_BYTES = 1024 * 1024;
