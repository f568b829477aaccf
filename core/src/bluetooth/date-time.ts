import { FieldReader } from './errors.ts';

/**
 * The GATT Date Time (0x2A08 layout, 7 bytes): year uint16, month, day, hours, minutes, seconds.
 * A meter's clock is local wall time with no zone. Year, month and day 0 mean "not known".
 */
export interface DateTime {
  /** 1582-9999, or 0 when not known */
  year: number;
  /** 1-12, or 0 when not known */
  month: number;
  /** 1-31, or 0 when not known */
  day: number;
  /** 0-23 */
  hours: number;
  /** 0-59 */
  minutes: number;
  /** 0-59 */
  seconds: number;
}

export const DATE_TIME_LENGTH = 7;

/** Reads a Date Time and checks each field's range (the calendar is checked where it is used). */
export function readDateTime(reader: FieldReader, field: string): DateTime {
  const dateTime: DateTime = {
    year: reader.uint16(`${field} year`),
    month: reader.uint8(`${field} month`),
    day: reader.uint8(`${field} day`),
    hours: reader.uint8(`${field} hours`),
    minutes: reader.uint8(`${field} minutes`),
    seconds: reader.uint8(`${field} seconds`),
  };
  const problem = dateTimeRangeProblem(dateTime);
  if (problem !== null) reader.fail('INVALID_DATE_TIME', `its ${field} has ${problem} out of range`, field);
  return dateTime;
}

/** Which field of a Date Time is outside the specification's range, or null. */
export function dateTimeRangeProblem(t: DateTime): string | null {
  if (t.year !== 0 && (t.year < 1582 || t.year > 9999)) return 'a year';
  if (t.month > 12) return 'a month';
  if (t.day > 31) return 'a day';
  if (t.hours > 23) return 'an hour';
  if (t.minutes > 59) return 'a minute';
  if (t.seconds > 59) return 'a second';
  return null;
}

/** Whether year, month and day are known and name a real calendar date (no 30 February). */
export function isRealDate(t: DateTime): boolean {
  if (t.year === 0 || t.month === 0 || t.day === 0) return false;
  const daysInMonth = new Date(Date.UTC(2000, t.month, 0)).getUTCDate(); // 2000 is a leap year
  const leap = t.year % 4 === 0 && (t.year % 100 !== 0 || t.year % 400 === 0);
  return t.day <= (t.month === 2 && !leap ? 28 : daysInMonth);
}

// --- Current Time (0x2A2B) ----------------------------------------------------------------------

export const DAYS_OF_WEEK = [
  'unknown',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday',
] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

/**
 * Current Time: Exact Time 256 (Day Date Time: Date Time + Day of Week; Fractions256) and Adjust
 * Reason; 10 bytes.
 */
export interface CurrentTime {
  dateTime: DateTime;
  /** 1 Monday ... 7 Sunday, 0 not known */
  dayOfWeekCode: number;
  dayOfWeek: DayOfWeek;
  /** 1/256 s past the second */
  fractions256: number;
  adjustReason: {
    manualTimeUpdate: boolean;
    externalReferenceTimeUpdate: boolean;
    changeOfTimeZone: boolean;
    changeOfDst: boolean;
    /** Bits 4-7, reserved for future use. */
    reservedBits: number;
  };
}

const CURRENT_TIME = 'Current Time';

export function decodeCurrentTime(data: DataView): CurrentTime {
  const reader = new FieldReader(data, CURRENT_TIME);
  const dateTime = readDateTime(reader, 'date time');
  const dayOfWeekCode = reader.uint8('day of week');
  if (dayOfWeekCode > 7) reader.fail('RESERVED_VALUE', 'its day of week is a reserved value', 'day of week');
  const fractions256 = reader.uint8('fractions256');
  const reason = reader.uint8('adjust reason');
  return {
    dateTime,
    dayOfWeekCode,
    dayOfWeek: DAYS_OF_WEEK[dayOfWeekCode] as DayOfWeek,
    fractions256,
    adjustReason: {
      manualTimeUpdate: (reason & 0x01) !== 0,
      externalReferenceTimeUpdate: (reason & 0x02) !== 0,
      changeOfTimeZone: (reason & 0x04) !== 0,
      changeOfDst: (reason & 0x08) !== 0,
      reservedBits: reason & 0xf0,
    },
  };
}

// --- Wall-clock time in an IANA zone ------------------------------------------------------------

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws RangeError for a zone Intl does not know. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether Intl knows the IANA time zone. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The zone's UTC offset at an instant, in ms (east positive), read back from Intl's wall clock.
 * Old local mean times have offsets with seconds; they come out as such.
 */
export function utcOffsetMs(timeZone: string, instant: number): number {
  const whole = Math.floor(instant / 1000) * 1000;
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(whole))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    parts['year']!,
    parts['month']! - 1,
    parts['day']!,
    parts['hour']!,
    parts['minute']!,
    parts['second']!,
  );
  return asUtc - whole;
}

/**
 * The instant a wall-clock time (as ms, read as if UTC) names in a zone. A time the clock skips
 * (the spring-forward hour) is read with the offset in force before the change, so 02:30 on
 * 2026-03-29 in Europe/Stockholm is 01:30Z, shown as 03:30+02:00; a time the clock shows twice
 * (the autumn hour) is the earlier instant. This is Temporal's 'compatible' disambiguation, and
 * what a meter that was not set forward means.
 */
export function instantOfWallTime(timeZone: string, wall: number): number {
  // Offsets a day either side: no zone changes its offset twice within two days.
  const before = utcOffsetMs(timeZone, wall - 24 * HOUR_MS);
  const after = utcOffsetMs(timeZone, wall + 24 * HOUR_MS);
  const fits = [before, after].map((offset) => wall - offset).filter((t) => wall - utcOffsetMs(timeZone, t) === t);
  return fits.length > 0 ? Math.min(...fits) : wall - before;
}

/** A Date Time's wall clock as ms read as if UTC, or NaN if it names no real date. */
export function wallTimeMs(t: DateTime): number {
  if (!isRealDate(t) || dateTimeRangeProblem(t) !== null) return NaN;
  const d = new Date(0);
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  d.setUTCHours(t.hours, t.minutes, t.seconds, 0);
  return d.getTime();
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * An instant as ISO-8601 local time in a zone with its offset, whole seconds:
 * `2026-03-29T03:30:00+02:00`. Null if the zone's offset then is not whole minutes (local mean
 * time before 1900), which ±hh:mm cannot write.
 */
export function isoInTimeZone(timeZone: string, instant: number): string | null {
  const offset = utcOffsetMs(timeZone, instant);
  if (offset % MINUTE_MS !== 0) return null;
  const local = new Date(Math.floor(instant / 1000) * 1000 + offset);
  const minutes = Math.abs(offset) / MINUTE_MS;
  const sign = offset < 0 ? '-' : '+';
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`
  );
}
