import { swedishDayIndex } from './swedish-time.ts';

/**
 * Swedish personal identity numbers (SPEC section 3: a patient's is optional, validated, stored,
 * and shown only to members). Skatteverket's rules:
 * - personnummer: date of birth YYMMDD, a three-digit birth number and a check digit, the Luhn
 *   digit over those ten digits (the century is not covered by it);
 * - samordningsnummer (coordination number, for people not registered in Sweden): the same, with
 *   60 added to the day of birth;
 * - the ten-digit form writes '-' before the last four, and '+' from the year the person turns 100.
 */

export const IDENTITY_NUMBER_KINDS = ['personnummer', 'samordningsnummer'] as const;
export type IdentityNumberKind = (typeof IDENTITY_NUMBER_KINDS)[number];

export type IdentityNumberParse =
  | { ok: true; /** normalised: 12 digits, YYYYMMDDNNNN */ value: string; kind: IdentityNumberKind }
  | { ok: false; reason: string };

/**
 * Nobody older has been verified (the record is 122 years). An older date of birth is a mistyped
 * century, which the check digit cannot catch.
 */
export const IDENTITY_NUMBER_MAX_AGE_YEARS = 125;

/** Added to the day of birth in a samordningsnummer. */
const COORDINATION_DAY_OFFSET = 60;

/** [century] YY MM DD [separator] NNNC */
const FORM = /^(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{4})$/;

const FORMAT_REASON =
  "it must be 10 or 12 digits, such as 19121212-1212 or 121212-1212, with '-' or '+' only before the last four";

interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Today's date on the Swedish calendar (ages change at Swedish midnight). */
function swedishDate(today: Date): CalendarDate {
  const midnight = new Date(swedishDayIndex(today.getTime()) * DAY_MS);
  return { year: midnight.getUTCFullYear(), month: midnight.getUTCMonth() + 1, day: midnight.getUTCDate() };
}

const compareDates = (a: CalendarDate, b: CalendarDate): number =>
  a.year - b.year || a.month - b.month || a.day - b.day;

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

const isoDate = (d: CalendarDate): string =>
  `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

/** The latest year no later than `notAfter` whose last two digits are `yy`. */
const latestYearEndingIn = (yy: number, notAfter: number): number => notAfter - ((((notAfter - yy) % 100) + 100) % 100);

/** Luhn: from the left, every other digit doubled (digits of the product summed); the sum ends in 0. */
function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(i) - 48;
    if ((digits.length - i) % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const fail = (reason: string): IdentityNumberParse => ({ ok: false, reason });

/**
 * Checks a personnummer or samordningsnummer and normalises it to 12 digits (YYYYMMDDNNNN).
 * Accepts YYMMDD-NNNN, YYMMDD+NNNN, YYMMDDNNNN, YYYYMMDD-NNNN and YYYYMMDDNNNN (surrounding
 * spaces ignored). In the ten-digit form the century is resolved against `today`: without '+', the
 * latest date of birth not after today; with '+', a person who turns 100 this year or is older.
 * Pure: `today` is the only clock it reads.
 */
export function parseIdentityNumber(input: string, today: Date = new Date()): IdentityNumberParse {
  if (typeof input !== 'string') return fail('it must be given as text');
  const m = FORM.exec(input.trim());
  if (!m) return fail(FORMAT_REASON);
  const [, century, yy, mm, dd, separator, last4] = m as unknown as [
    string,
    string | undefined,
    string,
    string,
    string,
    string,
    string,
  ];

  const now = swedishDate(today);
  const month = Number(mm);
  const dayField = Number(dd);
  const kind: IdentityNumberKind = dayField > COORDINATION_DAY_OFFSET ? 'samordningsnummer' : 'personnummer';
  const day = kind === 'samordningsnummer' ? dayField - COORDINATION_DAY_OFFSET : dayField;

  let year: number;
  if (century !== undefined) {
    year = Number(century + yy);
  } else if (separator === '+') {
    year = latestYearEndingIn(Number(yy), now.year - 100);
  } else {
    year = latestYearEndingIn(Number(yy), now.year);
    if (year === now.year && compareDates({ year, month, day }, now) > 0) year -= 100;
  }
  const born: CalendarDate = { year, month, day };

  if (month < 1 || month > 12) return fail(`its date of birth has no month ${mm}`);
  if (dayField > 31 && dayField <= COORDINATION_DAY_OFFSET) {
    return fail(`its date of birth has no day ${dd} (a samordningsnummer adds 60 to the day: 61-91)`);
  }
  if (day < 1 || day > daysInMonth(year, month))
    return fail(`its date of birth ${isoDate(born)} is not a calendar date`);
  if (compareDates(born, now) > 0) return fail(`its date of birth ${isoDate(born)} is in the future`);
  const oldest = { ...now, year: now.year - IDENTITY_NUMBER_MAX_AGE_YEARS };
  if (compareDates(born, oldest) < 0) {
    return fail(`its date of birth ${isoDate(born)} is more than ${IDENTITY_NUMBER_MAX_AGE_YEARS} years ago`);
  }
  if (separator === '+' && now.year - year < 100) {
    return fail(`'+' is written only for people who turn 100 this year or are older, and ${isoDate(born)} is later`);
  }
  if (!luhnValid(`${yy}${mm}${dd}${last4}`)) {
    return fail('its check digit (the last digit) does not match the others, so a digit is probably mistyped');
  }
  return { ok: true, value: `${String(year).padStart(4, '0')}${mm}${dd}${last4}`, kind };
}

/**
 * 'YYYYMMDD-****': the date of birth without the birth number and check digit, for displays where
 * the full number is not needed. Anything that is not an identity number masks completely.
 */
export function maskIdentityNumber(value: string): string {
  if (/^\d{12}$/.test(value)) return `${value.slice(0, 8)}-****`;
  const parsed = parseIdentityNumber(value);
  return parsed.ok ? `${parsed.value.slice(0, 8)}-****` : '********-****';
}
