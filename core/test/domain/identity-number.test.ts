import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IDENTITY_NUMBER_MAX_AGE_YEARS,
  maskIdentityNumber,
  parseIdentityNumber,
} from '../../src/domain/identity-number.ts';

/** Midday in Sweden on Sunday 15 June 2025: the day every century is resolved against. */
const TODAY = new Date('2025-06-15T10:00:00Z');
const TODAY_YEAR = 2025;

/** Luhn check digit of nine digits, written out independently of the implementation. */
function checkDigit(nine: string): number {
  const sum = [...nine].reduce((acc, c, i) => {
    const p = Number(c) * (i % 2 === 0 ? 2 : 1);
    return acc + Math.floor(p / 10) + (p % 10);
  }, 0);
  return (10 - (sum % 10)) % 10;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

interface Generated {
  /** YYYYMMDDNNNC, as the parser should normalise it. */
  normalised: string;
  kind: 'personnummer' | 'samordningsnummer';
  year: number;
}

/** Someone alive on TODAY (born 1901-01-01 .. TODAY), a birth number and the right check digit. */
const validNumber = (kind: Generated['kind']): fc.Arbitrary<Generated> =>
  fc
    .record({
      born: fc.date({
        min: new Date('1901-01-01T00:00:00Z'),
        max: new Date('2025-06-15T00:00:00Z'),
        noInvalidDate: true,
      }),
      birthNumber: fc.integer({ min: 0, max: 999 }),
    })
    .map(({ born, birthNumber }) => {
      const year = born.getUTCFullYear();
      const day = born.getUTCDate() + (kind === 'samordningsnummer' ? 60 : 0);
      const nine = `${pad(year % 100)}${pad(born.getUTCMonth() + 1)}${pad(day)}${pad(birthNumber, 3)}`;
      return { normalised: `${pad(year, 4)}${nine.slice(2)}${checkDigit(nine)}`, kind, year };
    });

const anyValidNumber = fc.oneof(validNumber('personnummer'), validNumber('samordningsnummer'));

/** The ways to write a number: 12 digits with or without '-', 10 with the separator Skatteverket uses. */
function writings({ normalised, year }: Generated): string[] {
  const date = normalised.slice(0, 8);
  const last = normalised.slice(8);
  const separator10 = TODAY_YEAR - year >= 100 ? '+' : '-';
  const forms = [normalised, `${date}-${last}`, `${date.slice(2)}${separator10}${last}`];
  if (separator10 === '-') forms.push(`${date.slice(2)}${last}`);
  return forms;
}

describe('parseIdentityNumber', () => {
  it("accepts Skatteverket's test number 19121212-1212 in every writing", () => {
    for (const written of ['19121212-1212', '191212121212', '121212+1212', ' 19121212-1212 ', '19121212+1212']) {
      expect(parseIdentityNumber(written, TODAY)).toEqual({ ok: true, value: '191212121212', kind: 'personnummer' });
    }
  });

  it('accepts the test number with the real clock too', () => {
    expect(parseIdentityNumber('19121212-1212')).toEqual({ ok: true, value: '191212121212', kind: 'personnummer' });
  });

  it('parses and normalises every valid personnummer and samordningsnummer, however it is written', () => {
    fc.assert(
      fc.property(anyValidNumber, (generated) => {
        for (const written of writings(generated)) {
          expect(parseIdentityNumber(written, TODAY)).toEqual({
            ok: true,
            value: generated.normalised,
            kind: generated.kind,
          });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('rejects any single-digit change of the ten digits the check digit covers (Luhn)', () => {
    fc.assert(
      fc.property(
        anyValidNumber,
        fc.integer({ min: 2, max: 11 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        ({ normalised }, position, delta, tenDigits) => {
          const changed = (Number(normalised[position]) + delta) % 10;
          const digits = normalised.slice(0, position) + changed + normalised.slice(position + 1);
          const written = tenDigits ? `${digits.slice(2, 8)}-${digits.slice(8)}` : digits;
          const parsed = parseIdentityNumber(written, TODAY);
          expect(parsed.ok).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('names the check digit when only the check digit is wrong', () => {
    const parsed = parseIdentityNumber('19121212-1213', TODAY);
    expect(parsed).toEqual({ ok: false, reason: expect.stringMatching(/check digit/) });
  });

  it('never throws, whatever the input, and an accepted number re-parses to itself', () => {
    const nearMiss = fc.stringMatching(/^[0-9+\- ]{0,16}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), nearMiss), (input) => {
        const parsed = parseIdentityNumber(input, TODAY);
        if (parsed.ok) {
          expect(parsed.value).toMatch(/^\d{12}$/);
          expect(parseIdentityNumber(parsed.value, TODAY)).toEqual(parsed);
        } else {
          expect(parsed.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
    expect(parseIdentityNumber(undefined as unknown as string).ok).toBe(false);
  });

  it('accepts a samordningsnummer (day + 60) and says so', () => {
    const nine = '121272121';
    const written = `19${nine.slice(0, 6)}-${nine.slice(6)}${checkDigit(nine)}`;
    expect(parseIdentityNumber(written, TODAY)).toEqual({
      ok: true,
      value: `19${nine}${checkDigit(nine)}`,
      kind: 'samordningsnummer',
    });
  });

  it("resolves the century of the ten-digit form: '-' the latest date not after today, '+' 100 or older", () => {
    const ten = (yymmdd: string, sep: string, birthNumber = '123') => {
      const nine = `${yymmdd}${birthNumber}`;
      return `${yymmdd}${sep}${birthNumber}${checkDigit(nine)}`;
    };
    const yearOf = (written: string) => {
      const parsed = parseIdentityNumber(written, TODAY);
      return parsed.ok ? parsed.value.slice(0, 8) : parsed.reason;
    };
    expect(yearOf('121212-1212')).toBe('20121212');
    expect(yearOf('1212121212')).toBe('20121212');
    expect(yearOf('121212+1212')).toBe('19121212');
    // Born today is today; tomorrow's date 25 years on the clock's century means 1925 (aged 99).
    expect(yearOf(ten('250615', '-'))).toBe('20250615');
    expect(yearOf(ten('250616', '-'))).toBe('19250616');
    // Skatteverket writes '+' from 1 January of the year someone turns 100, birthday or not.
    expect(yearOf(ten('250616', '+'))).toBe('19250616');
    expect(yearOf(ten('250614', '+'))).toBe('19250614');
    expect(yearOf(ten('260101', '-'))).toBe('19260101');
    expect(yearOf(ten('260101', '+'))).toMatch(/more than 125 years ago/);
    // 29 February exists in 2000 but not in 1900.
    expect(yearOf(ten('000229', '-'))).toBe('20000229');
    expect(yearOf(ten('000229', '+'))).toMatch(/1900-02-29 is not a calendar date/);
  });

  it("rejects '+' in the twelve-digit form for someone younger than that", () => {
    expect(parseIdentityNumber('20121212+1212', TODAY)).toEqual({ ok: false, reason: expect.stringMatching(/'\+'/) });
  });

  it('rejects the wrong shape, impossible dates, future births and mistyped centuries with a reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /10 or 12 digits/],
      ['1212121212121', /10 or 12 digits/],
      ['121212-121', /10 or 12 digits/],
      ['1912 1212-1212', /10 or 12 digits/],
      ['19121212--1212', /10 or 12 digits/],
      ['191212-121212', /10 or 12 digits/],
      ['19121212–1212', /10 or 12 digits/], // an en dash
      ['abcdefgh-ijkl', /10 or 12 digits/],
      ['١٩١٢١٢١٢١٢١٢', /10 or 12 digits/], // Arabic-Indic digits
      ['19121312-1212', /no month 13/],
      ['19120012-1212', /no month 00/],
      ['19121200-1212', /1912-12-00 is not a calendar date/],
      ['19121245-1212', /no day 45/],
      ['19120230-1212', /1912-02-30 is not a calendar date/],
      ['19120292-1212', /1912-02-32 is not a calendar date/],
      ['20301212-1212', /2030-12-12 is in the future/],
      ['18121212-1212', /more than 125 years ago/],
      ['00121212-1212', /more than 125 years ago/],
    ];
    for (const [input, reason] of cases) {
      const parsed = parseIdentityNumber(input, TODAY);
      expect(parsed, input).toEqual({ ok: false, reason: expect.stringMatching(reason) });
    }
  });

  it(`rejects a date of birth more than ${IDENTITY_NUMBER_MAX_AGE_YEARS} years back, and accepts one exactly that old`, () => {
    const twelve = (date: string, birthNumber = '234') => {
      const nine = `${date.slice(2)}${birthNumber}`;
      return `${date}${birthNumber}${checkDigit(nine)}`;
    };
    expect(parseIdentityNumber(twelve('19000615'), TODAY).ok).toBe(true);
    expect(parseIdentityNumber(twelve('19000614'), TODAY).ok).toBe(false);
  });

  it('resolves "today" on the Swedish calendar', () => {
    // 22:30 UTC on 14 June is already 15 June in Sweden (CEST): someone born 2025-06-15 exists.
    const nine = '250615123';
    const written = `${nine.slice(0, 6)}-${nine.slice(6)}${checkDigit(nine)}`;
    expect(parseIdentityNumber(written, new Date('2025-06-14T22:30:00Z'))).toMatchObject({
      ok: true,
      value: `20${nine}${checkDigit(nine)}`,
    });
    expect(parseIdentityNumber(written, new Date('2025-06-14T21:30:00Z'))).toMatchObject({
      ok: true,
      value: `19${nine}${checkDigit(nine)}`,
    });
  });
});

describe('maskIdentityNumber', () => {
  it('keeps the date of birth and hides the last four', () => {
    expect(maskIdentityNumber('191212121212')).toBe('19121212-****');
    expect(maskIdentityNumber('121212+1212')).toBe('19121212-****');
  });

  it('masks anything that is not an identity number completely', () => {
    expect(maskIdentityNumber('19121212-1213')).toBe('********-****');
    expect(maskIdentityNumber('')).toBe('********-****');
  });

  it('shows only the date of birth of any valid number', () => {
    fc.assert(
      fc.property(anyValidNumber, ({ normalised }) => {
        expect(maskIdentityNumber(normalised)).toBe(`${normalised.slice(0, 8)}-****`);
      }),
    );
  });
});
