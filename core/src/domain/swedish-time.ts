/**
 * Swedish local time (CET/CEST) from UTC instants, by the EU rule, with no time-zone database: the
 * statistics' time of day (AGP), the calendar date an identity number is checked against, and the
 * simulated patients' meals and sleep all follow the Swedish wall clock.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Minutes east of UTC in Sweden: CET, or CEST between the last Sundays of March and October at
 * 01:00 UTC (the EU rule).
 */
export function swedishUtcOffsetMinutes(at: Date): number {
  const year = at.getUTCFullYear();
  const t = at.getTime();
  return t >= lastSundayAt0100Utc(year, 2) && t < lastSundayAt0100Utc(year, 9) ? 120 : 60;
}

function lastSundayAt0100Utc(year: number, month: number): number {
  const lastDay = Date.UTC(year, month + 1, 0, 1);
  return lastDay - new Date(lastDay).getUTCDay() * DAY;
}

/** Index of the Swedish local calendar day holding an instant (days since 1970-01-01 local). */
export function swedishDayIndex(at: number): number {
  return Math.floor((at + swedishUtcOffsetMinutes(new Date(at)) * MINUTE) / DAY);
}

/** The UTC instant of a Swedish local wall-clock time, given as hours (may be fractional) into a local day. */
export function swedishLocalTime(dayIndex: number, hours: number): number {
  const wall = dayIndex * DAY + hours * HOUR;
  // Reading the wall time as UTC less two hours lands at or just before the instant, so it finds
  // the offset in force (in the hour a clock change skips or repeats, the earlier one).
  return wall - swedishUtcOffsetMinutes(new Date(wall - 2 * HOUR)) * MINUTE;
}
