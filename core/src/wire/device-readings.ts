import type { DeviceKind, DeviceReading, MealMarker, MeterFlag, ReadingKind } from '../domain/reading.ts';
import { MEAL_MARKERS, METER_FLAGS, READING_KINDS } from '../domain/reading.ts';

/**
 * A batch of readings from a device (SPEC section 4, Devices): `{ readings: [...] }`, sent as the
 * Socket.IO event `readings` or to `POST /api/devices/readings`.
 *
 * This runs for every reading, at up to 50,000 readings/s, so it is written by hand instead of with
 * zod (several times faster; see core/bench/device-readings.bench.ts): no closures or regex
 * captures per reading, one anchored regex with no backtracking for the date-time's shape, integer
 * arithmetic for its instant, and messages that are constants.
 *
 * Unlike the People API, unknown fields of a reading are ignored, not an error: devices in the field
 * are updated slowly, and a newer firmware that sends one more field must still be heard.
 *
 * Messages are plain English sentences that name the field and the rule and never repeat the value
 * sent: readings are patient data, and messages end up in acks and logs.
 */

/** More readings than this in one batch: the whole batch is refused with BATCH_TOO_LARGE. */
export const MAX_BATCH_READINGS = 500;

/** Lowest and highest mmol/L a meter shows as a number (inclusive); beyond them it shows LO or HI. */
export const READING_MMOL_MIN = 0.6;
export const READING_MMOL_MAX = 33.3;

/**
 * The values a reading flagged LO or HI may carry (inclusive), as the readings table's check. A
 * meter that shows LO or HI has no number, so one usually sends null; some send the limit they
 * crossed (0.6 with LO, 33.3 with HI) or their last raw estimate. We keep what came rather than
 * second-guess the meter: any value the table can hold is accepted with a flag, and the flag, not
 * the number, says what the reading means. Outside this a value is INVALID_READING.
 */
export const FLAGGED_MMOL_MIN = 0;
export const FLAGGED_MMOL_MAX = 50;

/** A reading measured more than this after the server's clock is FUTURE_TIMESTAMP. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** A reading measured more than this before the server's clock is TOO_OLD. */
export const MAX_READING_AGE_MS = 90 * 24 * 60 * 60_000;

export type BatchRefusalCode = 'INVALID_PAYLOAD' | 'BATCH_TOO_LARGE';

/** Per-reading rejections decided here. SEQ_CONFLICT is decided by storage, against stored readings. */
export const READING_REJECTION_CODES = ['INVALID_READING', 'OUT_OF_RANGE', 'FUTURE_TIMESTAMP', 'TOO_OLD'] as const;
export type ReadingRejectionCode = (typeof READING_REJECTION_CODES)[number];

export interface ReadingsBatchContext {
  /** The kind of the device that sent the batch: a reading without `kind` is of this kind. */
  deviceKind: DeviceKind;
  /** The server's clock, in ms since the epoch. */
  now: number;
}

export interface AcceptedReading {
  /** Position of the reading in the batch. */
  index: number;
  reading: DeviceReading;
}

export interface RejectedReading {
  /** Position of the reading in the batch. */
  index: number;
  /** The reading's seq if it was a valid one, else null. */
  seq: number | null;
  code: ReadingRejectionCode;
  message: string;
  /**
   * The field at fault: for INVALID_READING the first field that is wrong, for OUT_OF_RANGE 'mmol',
   * for FUTURE_TIMESTAMP and TOO_OLD 'measuredAt'. Absent when the reading is not an object at all.
   */
  field?: string;
}

export type BatchVerdict =
  | { ok: false; code: BatchRefusalCode; message: string }
  | { ok: true; accepted: AcceptedReading[]; rejected: RejectedReading[] };

// --- Messages (constants: never the value sent) -------------------------------------------------

/** 'a', 'b' or 'c' */
function quoted(values: readonly string[]): string {
  const texts = values.map((v) => `'${v}'`);
  return texts.length <= 1 ? (texts[0] ?? '') : `${texts.slice(0, -1).join(', ')} or ${texts.at(-1)}`;
}

const EXAMPLE_TIME = '2025-03-01T08:00:00+01:00';

const PAYLOAD_NOT_OBJECT = 'The payload must be a JSON object holding the list of readings: { "readings": [...] }.';
const READINGS_MISSING = 'The payload has no readings: it must hold the list of readings as { "readings": [...] }.';
const READINGS_NOT_ARRAY = 'readings must be a list (JSON array) of readings.';
const BATCH_TOO_LARGE = `A batch may hold at most ${MAX_BATCH_READINGS} readings; send the rest in further batches.`;

const READING_NOT_OBJECT = 'A reading must be a JSON object with seq, measuredAt and mmol.';
const SEQ_REQUIRED = 'seq is required: the reading needs its sequence number.';
const SEQ_INVALID = 'seq must be a whole number of at least 0 (at most 2^53 - 1).';
const MEASURED_AT_REQUIRED = 'measuredAt is required: the reading needs the time it was measured.';
const MEASURED_AT_NOT_STRING = `measuredAt must be a string: an ISO-8601 date-time with a UTC offset, such as ${EXAMPLE_TIME}.`;
const MEASURED_AT_FORMAT = `measuredAt must be an ISO-8601 date-time with a date, a time and a UTC offset (Z or ±hh:mm), such as ${EXAMPLE_TIME}.`;
const MEASURED_AT_NOT_REAL =
  'measuredAt must be a real date and time: its month, day, hour, minute, second or UTC offset is out of range.';
const MMOL_REQUIRED = `mmol is required: a number in mmol/L, or null when flag is ${quoted(METER_FLAGS)}.`;
const MMOL_INVALID = 'mmol must be a finite number (mmol/L) or null.';
const MMOL_NULL_WITHOUT_FLAG = `mmol may be null only when flag is ${quoted(METER_FLAGS)}: a reading needs a value or a flag.`;
const MMOL_FLAGGED_RANGE = `mmol of a reading flagged ${quoted(METER_FLAGS)} must be null or between ${FLAGGED_MMOL_MIN} and ${FLAGGED_MMOL_MAX} mmol/L.`;
const FLAG_INVALID = `flag must be ${quoted(METER_FLAGS)} or null, or be left out.`;
const KIND_INVALID = `kind must be ${quoted(READING_KINDS)}, or be left out for the device's own kind.`;
const MEAL_INVALID = `meal must be ${quoted(MEAL_MARKERS)} or null, or be left out.`;
const OUT_OF_RANGE = `mmol must be between ${READING_MMOL_MIN} and ${READING_MMOL_MAX} mmol/L; beyond that range a meter sends flag ${quoted(METER_FLAGS)}.`;
const FUTURE_TIMESTAMP = `measuredAt is more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes ahead of the server's clock; check the device's clock.`;
const TOO_OLD = `measuredAt is more than ${MAX_READING_AGE_MS / 86_400_000} days before the server's clock; readings that old are not accepted.`;

// --- The batch ----------------------------------------------------------------------------------

/**
 * Validates a batch as a device sent it. Whole-batch problems refuse it (INVALID_PAYLOAD,
 * BATCH_TOO_LARGE); otherwise every reading is either accepted, as a DeviceReading, or rejected with
 * a code, each listed once and in the batch's order. An empty batch is ok and accepts nothing.
 */
export function validateReadingsBatch(payload: unknown, context: ReadingsBatchContext): BatchVerdict {
  if (!isPlainObject(payload)) return { ok: false, code: 'INVALID_PAYLOAD', message: PAYLOAD_NOT_OBJECT };
  const readings = payload['readings'];
  if (readings === undefined) return { ok: false, code: 'INVALID_PAYLOAD', message: READINGS_MISSING };
  if (!Array.isArray(readings)) return { ok: false, code: 'INVALID_PAYLOAD', message: READINGS_NOT_ARRAY };
  if (readings.length > MAX_BATCH_READINGS) return { ok: false, code: 'BATCH_TOO_LARGE', message: BATCH_TOO_LARGE };

  const accepted: AcceptedReading[] = [];
  const rejected: RejectedReading[] = [];
  const { deviceKind, now } = context;
  for (let index = 0; index < readings.length; index++) {
    checkReading(readings[index], index, deviceKind, now, accepted, rejected);
  }
  return { ok: true, accepted, rejected };
}

/** Checks one reading and adds it to `accepted` or `rejected`. */
function checkReading(
  raw: unknown,
  index: number,
  deviceKind: DeviceKind,
  now: number,
  accepted: AcceptedReading[],
  rejected: RejectedReading[],
): void {
  if (!isPlainObject(raw)) {
    rejected.push({ index, seq: null, code: 'INVALID_READING', message: READING_NOT_OBJECT });
    return;
  }

  // 1. Shape: each field its type, in the order of the SPEC.
  const seq = raw['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    const message = seq === undefined ? SEQ_REQUIRED : SEQ_INVALID;
    rejected.push({ index, seq: null, code: 'INVALID_READING', message, field: 'seq' });
    return;
  }
  const validSeq = seq + 0; // -0 (JSON allows it) is seq 0

  const measuredAt = raw['measuredAt'];
  if (typeof measuredAt !== 'string') {
    const message = measuredAt === undefined ? MEASURED_AT_REQUIRED : MEASURED_AT_NOT_STRING;
    return invalid(rejected, index, validSeq, message, 'measuredAt');
  }
  const time = instantOf(measuredAt);
  if (Number.isNaN(time)) return invalid(rejected, index, validSeq, MEASURED_AT_FORMAT, 'measuredAt');
  if (time === NOT_REAL) return invalid(rejected, index, validSeq, MEASURED_AT_NOT_REAL, 'measuredAt');

  const mmol = raw['mmol'];
  if (mmol !== null && (typeof mmol !== 'number' || !Number.isFinite(mmol))) {
    return invalid(rejected, index, validSeq, mmol === undefined ? MMOL_REQUIRED : MMOL_INVALID, 'mmol');
  }
  const flag = raw['flag'];
  if (flag !== undefined && flag !== null && !isOneOf(flag, METER_FLAGS)) {
    return invalid(rejected, index, validSeq, FLAG_INVALID, 'flag');
  }
  const kind = raw['kind'];
  if (kind !== undefined && !isOneOf(kind, READING_KINDS)) {
    return invalid(rejected, index, validSeq, KIND_INVALID, 'kind');
  }
  const meal = raw['meal'];
  if (meal !== undefined && meal !== null && !isOneOf(meal, MEAL_MARKERS)) {
    return invalid(rejected, index, validSeq, MEAL_INVALID, 'meal');
  }

  // Value and flag together.
  const flagged = flag !== undefined && flag !== null;
  if (flagged) {
    // Lenient on purpose (see FLAGGED_MMOL_MIN): any value the table can hold goes with a flag.
    if (mmol !== null && !(mmol >= FLAGGED_MMOL_MIN && mmol <= FLAGGED_MMOL_MAX)) {
      return invalid(rejected, index, validSeq, MMOL_FLAGGED_RANGE, 'mmol');
    }
  } else if (mmol === null) {
    return invalid(rejected, index, validSeq, MMOL_NULL_WITHOUT_FLAG, 'mmol');
  } else if (!(mmol >= READING_MMOL_MIN && mmol <= READING_MMOL_MAX)) {
    // 2. Range of a plain value.
    rejected.push({ index, seq: validSeq, code: 'OUT_OF_RANGE', message: OUT_OF_RANGE, field: 'mmol' });
    return;
  }

  // 3. Time against the server's clock.
  if (time - now > MAX_FUTURE_SKEW_MS) {
    rejected.push({ index, seq: validSeq, code: 'FUTURE_TIMESTAMP', message: FUTURE_TIMESTAMP, field: 'measuredAt' });
    return;
  }
  if (now - time > MAX_READING_AGE_MS) {
    rejected.push({ index, seq: validSeq, code: 'TOO_OLD', message: TOO_OLD, field: 'measuredAt' });
    return;
  }

  accepted.push({
    index,
    reading: {
      seq: validSeq,
      measuredAt: new Date(time),
      mmol,
      flag: flagged ? (flag as MeterFlag) : null,
      kind: kind === undefined ? deviceKind : (kind as ReadingKind),
      meal: meal === undefined || meal === null ? null : (meal as MealMarker),
    },
  });
}

function invalid(rejected: RejectedReading[], index: number, seq: number, message: string, field: string): void {
  rejected.push({ index, seq, code: 'INVALID_READING', message, field });
}

/** A JSON object: not null, not an array, not a Date, Buffer or other class instance. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isOneOf(value: unknown, allowed: readonly string[]): boolean {
  return typeof value === 'string' && allowed.includes(value);
}

// --- Date-times ---------------------------------------------------------------------------------

/**
 * The date-times accepted: ISO-8601 extended format with a date, a time (hh:mm, hh:mm:ss or
 * hh:mm:ss with 1-9 decimals) and an explicit offset: `Z`, `±hh:mm` or `±hhmm`. That is what zod's
 * `z.iso.datetime({ offset: true })` accepts elsewhere in the API, plus `±hhmm`, and with at most
 * nanoseconds. No local times (no offset), no date alone, no space for `T`, no lower-case `t`/`z`,
 * no `±hh` offset, no week or ordinal dates and no expanded years: `Date.parse` takes several of
 * these (and its own non-ISO forms), so it is not used.
 *
 * Every part is fixed-width or optional with a distinct first character, so the regex never
 * backtracks; it only checks the shape, and the digits are read by position after it.
 */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** `instantOf` of a string with the right shape whose numbers name no real instant (2026-02-30). */
const NOT_REAL = Infinity;

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * The instant of an ISO-8601 date-time with offset, in ms since the epoch (digits past
 * milliseconds are dropped): NaN if the text does not have the shape, NOT_REAL if a part is out of
 * range: month 01-12, a day of that month (leap years by the Gregorian rules), hour 00-23, minute
 * and second 00-59 (no leap second, no 24:00), offset hours 00-23 and minutes 00-59.
 *
 * Range checks of every part make the calendar date round-trip by construction. The day number is
 * computed here rather than with `Date.UTC`, which maps years 0-99 to 1900-1999.
 */
function instantOf(text: string): number {
  if (!ISO_DATE_TIME.test(text)) return NaN;
  const year = digits4(text, 0);
  const month = digits2(text, 5);
  const day = digits2(text, 8);
  const hour = digits2(text, 11);
  const minute = digits2(text, 14);
  let second = 0;
  let ms = 0;
  let at = 16; // after hh:mm
  if (text.charCodeAt(at) === COLON) {
    second = digits2(text, at + 1);
    at += 3;
    if (text.charCodeAt(at) === DOT) {
      at += 1;
      let places = 0;
      for (let c = text.charCodeAt(at); c >= ZERO && c <= NINE; c = text.charCodeAt(++at)) {
        if (places < 3) ms = ms * 10 + (c - ZERO);
        places++;
      }
      for (; places < 3; places++) ms *= 10;
    }
  }
  let offsetMinutes = 0;
  if (text.charCodeAt(at) !== LETTER_Z) {
    const sign = text.charCodeAt(at) === MINUS ? -1 : 1;
    const offsetHour = digits2(text, at + 1);
    const offsetMinute = digits2(text, text.charCodeAt(at + 3) === COLON ? at + 4 : at + 3);
    if (offsetHour > 23 || offsetMinute > 59) return NOT_REAL;
    offsetMinutes = sign * (offsetHour * 60 + offsetMinute);
  }
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NOT_REAL;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (leap ? 29 : (DAYS_IN_MONTH[month] as number))) return NOT_REAL;

  const local = daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
  return local - offsetMinutes * MINUTE_MS;
}

const ZERO = 48;
const NINE = 57;
const COLON = 58;
const DOT = 46;
const MINUS = 45;
const LETTER_Z = 90;

function digits2(text: string, at: number): number {
  return (text.charCodeAt(at) - ZERO) * 10 + (text.charCodeAt(at + 1) - ZERO);
}

function digits4(text: string, at: number): number {
  return digits2(text, at) * 100 + digits2(text, at + 2);
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar (month 1-12), for any year
 * 0-9999. Howard Hinnant's days_from_civil: eras of 400 years, with the year starting in March so
 * that the leap day comes last.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400; // 0-399
  const shiftedMonth = month > 2 ? month - 3 : month + 9; // March = 0
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1; // 0-365
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
