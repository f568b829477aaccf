import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeviceKind, DeviceReading, MealMarker, MeterFlag, ReadingKind } from '../../src/domain/reading.ts';
import { DEVICE_KINDS, MEAL_MARKERS, METER_FLAGS, READING_KINDS } from '../../src/domain/reading.ts';
import {
  FLAGGED_MMOL_MAX,
  FLAGGED_MMOL_MIN,
  MAX_BATCH_READINGS,
  MAX_FUTURE_SKEW_MS,
  MAX_READING_AGE_MS,
  READING_MMOL_MAX,
  READING_MMOL_MIN,
  READING_REJECTION_CODES,
  validateReadingsBatch,
} from '../../src/wire/device-readings.ts';
import type { BatchVerdict, ReadingsBatchContext, RejectedReading } from '../../src/wire/device-readings.ts';
import * as wire from '../../src/wire/index.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Midday in Sweden on Sunday 15 June 2025: the server's clock in these tests. */
const NOW = Date.parse('2025-06-15T10:00:00Z');
const CONTEXT: ReadingsBatchContext = { deviceKind: 'cgm', now: NOW };
const FIELDS = ['seq', 'measuredAt', 'mmol', 'flag', 'kind', 'meal'] as const;
type Field = (typeof FIELDS)[number];

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const iso = (ms: number) => new Date(ms).toISOString();
const mod = (n: number, m: number) => ((n % m) + m) % m;

/** One reading, valid unless a test says otherwise. */
const reading = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  seq: 7,
  measuredAt: '2025-06-15T11:55:00+02:00',
  mmol: 6.4,
  ...fields,
});

const check = (readings: unknown[], context: ReadingsBatchContext = CONTEXT) =>
  validateReadingsBatch({ readings }, context);

/** The verdict of a batch of one reading, which must be a per-reading verdict. */
function one(r: unknown, context: ReadingsBatchContext = CONTEXT) {
  const verdict = check([r], context);
  if (!verdict.ok) throw new Error(`batch refused: ${verdict.code}`);
  expect(verdict.accepted.length + verdict.rejected.length).toBe(1);
  return { accepted: verdict.accepted[0]?.reading, rejected: verdict.rejected[0] };
}

function rejection(r: unknown, context: ReadingsBatchContext = CONTEXT): RejectedReading {
  const { rejected } = one(r, context);
  if (!rejected) throw new Error('the reading was accepted');
  return rejected;
}

function acceptance(r: unknown, context: ReadingsBatchContext = CONTEXT): DeviceReading {
  const { accepted, rejected } = one(r, context);
  if (!accepted) throw new Error(`the reading was rejected: ${rejected?.code} ${rejected?.message}`);
  return accepted;
}

/** Every message of a verdict. */
const messagesOf = (verdict: BatchVerdict): string[] =>
  verdict.ok ? verdict.rejected.map((r) => r.message) : [verdict.message];

/**
 * A verdict is well formed: a refusal with its code and a sentence, or every index of the batch
 * listed once, accepted or rejected, each list in the batch's order, with the documented shapes.
 */
function expectWellFormed(payload: unknown, verdict: BatchVerdict): void {
  if (!verdict.ok) {
    expect(['INVALID_PAYLOAD', 'BATCH_TOO_LARGE']).toContain(verdict.code);
    expect(verdict.message).toMatch(/^\S.*\.$/);
    return;
  }
  const readings = (payload as { readings: unknown[] }).readings;
  expect(Array.isArray(readings)).toBe(true);
  const accepted = verdict.accepted.map((a) => a.index);
  const rejected = verdict.rejected.map((r) => r.index);
  expect(accepted).toEqual([...accepted].sort((a, b) => a - b));
  expect(rejected).toEqual([...rejected].sort((a, b) => a - b));
  expect([...accepted, ...rejected].sort((a, b) => a - b)).toEqual(
    Array.from({ length: readings.length }, (_, i) => i),
  );
  for (const r of verdict.rejected) {
    expect(READING_REJECTION_CODES).toContain(r.code);
    expect(r.message).toMatch(/^\S.*\.$/);
    if (r.seq !== null) expect(Number.isSafeInteger(r.seq) && r.seq >= 0).toBe(true);
    if (r.field !== undefined) expect(FIELDS).toContain(r.field);
    else expect(r.code).toBe('INVALID_READING');
  }
  for (const { reading: a } of verdict.accepted) {
    expect(Number.isSafeInteger(a.seq) && a.seq >= 0).toBe(true);
    expect(a.measuredAt).toBeInstanceOf(Date);
    expect(Math.abs(a.measuredAt.getTime() - CONTEXT.now)).toBeLessThanOrEqual(MAX_READING_AGE_MS);
    expect(READING_KINDS).toContain(a.kind);
    expect([null, ...METER_FLAGS]).toContain(a.flag);
    expect([null, ...MEAL_MARKERS]).toContain(a.meal);
    if (a.mmol === null) expect(a.flag).not.toBeNull();
    else expect(Number.isFinite(a.mmol)).toBe(true);
  }
}

// --- Arbitraries --------------------------------------------------------------------------------

interface Timestamp {
  text: string;
  /** The instant the text names: the generated one, cut to the precision written. */
  instant: number;
}

/**
 * An ISO-8601 date-time with offset naming an instant in [min, max], written in every accepted
 * way: minutes, seconds or 1-9 decimals; offset Z, +00:00, -00:00, ±hh:mm or ±hhmm up to ±23:59.
 * The instant is computed with the Date API, independently of the validator.
 */
const timestamp = (min: number, max: number): fc.Arbitrary<Timestamp> =>
  fc
    .record({
      at: fc.integer({ min, max }),
      offset: fc.oneof(
        fc.constantFrom(0, 60, 120, -300, -330, 330, 345, 14 * 60, -12 * 60),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
      ),
      precision: fc.oneof(fc.constantFrom('minutes', 'seconds'), fc.integer({ min: 1, max: 9 })),
      colon: fc.boolean(),
      zulu: fc.boolean(),
      negativeZero: fc.boolean(),
      beyondMs: fc.stringMatching(/^\d{6}$/),
    })
    .map(({ at, offset, precision, colon, zulu, negativeZero, beyondMs }) => {
      const local = iso(at + offset * MINUTE); // YYYY-MM-DDTHH:MM:SS.sssZ, in the offset's time
      let text = local.slice(0, 16);
      let instant = at - mod(at, MINUTE);
      if (precision !== 'minutes') {
        text += local.slice(16, 19);
        instant = at - mod(at, 1000);
      }
      if (typeof precision === 'number') {
        text += `.${(local.slice(20, 23) + beyondMs).slice(0, precision)}`;
        const unit = precision >= 3 ? 1 : 10 ** (3 - precision);
        instant = at - mod(at, unit);
      }
      const abs = Math.abs(offset);
      const sign = offset < 0 || (offset === 0 && negativeZero) ? '-' : '+';
      const hhmm = `${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`;
      text += offset === 0 && zulu ? 'Z' : `${sign}${hhmm}`;
      return { text, instant };
    });

/** A value with or without a LO/HI flag, as a meter sends it. */
const value = fc.oneof(
  fc.record({
    mmol: fc.oneof(
      fc.integer({ min: 6, max: 333 }).map((n) => n / 10),
      fc.double({ min: READING_MMOL_MIN, max: READING_MMOL_MAX, noNaN: true }),
    ),
    flag: fc.constantFrom(undefined, null),
  }),
  fc.record({
    mmol: fc.oneof(fc.constant(null), fc.double({ min: FLAGGED_MMOL_MIN, max: FLAGGED_MMOL_MAX, noNaN: true })),
    flag: fc.constantFrom(...METER_FLAGS),
  }),
);

const KNOWN_KEYS: readonly string[] = FIELDS;

interface Generated {
  raw: Record<string, unknown>;
  seq: number;
  instant: number;
  mmol: number | null;
  flag: MeterFlag | null | undefined;
  kind: ReadingKind | undefined;
  meal: MealMarker | null | undefined;
}

/** A valid reading as a device sends it (optional fields absent or given, unknown fields added). */
const validReading: fc.Arbitrary<Generated> = fc
  .record({
    seq: fc.oneof(fc.nat({ max: 100_000 }), fc.maxSafeNat()),
    time: timestamp(NOW - MAX_READING_AGE_MS + MINUTE, NOW + MAX_FUTURE_SKEW_MS),
    value,
    kind: fc.constantFrom(undefined, ...READING_KINDS),
    meal: fc.constantFrom(undefined, null, ...MEAL_MARKERS),
    extra: fc.dictionary(
      fc.string({ maxLength: 12 }).filter((k) => !KNOWN_KEYS.includes(k)),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 3 },
    ),
  })
  .map(({ seq, time, value: { mmol, flag }, kind, meal, extra }) => {
    const raw: Record<string, unknown> = { ...extra, seq, measuredAt: time.text, mmol };
    if (flag !== undefined) raw['flag'] = flag;
    if (kind !== undefined) raw['kind'] = kind;
    if (meal !== undefined) raw['meal'] = meal;
    return { raw, seq, instant: time.instant, mmol, flag, kind, meal };
  });

const expected = (g: Generated, deviceKind: DeviceKind): DeviceReading => ({
  seq: g.seq,
  measuredAt: new Date(g.instant),
  mmol: g.mmol,
  flag: g.flag ?? null,
  kind: g.kind ?? deviceKind,
  meal: g.meal ?? null,
});

/** Everything fast-check can make, including class instances, sparse arrays and odd prototypes. */
const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
});

/** Strings that are not ISO-8601 date-times with offset, though `Date.parse` takes most of them. */
const NOT_ISO = [
  '',
  ' ',
  'now',
  '2025-06-15',
  '2025-06-15T10:00',
  '2025-06-15T10:00:00',
  '2025-06-15T10:00:00.000',
  '2025-06-15 10:00:00Z',
  '2025-06-15t10:00:00Z',
  '2025-06-15T10:00:00z',
  '2025-06-15T10Z',
  '2025-06-15T10:00:0Z',
  '2025-06-15T10:00:00.Z',
  '2025-06-15T10:00:00.1234567890Z',
  '2025-06-15T10:00:00,5Z',
  '2025-06-15T10:00:00+02',
  '2025-06-15T10:00:00+2:00',
  '2025-06-15T10:00:00+02:0',
  '2025-06-15T10:00:00+02:00:00',
  '2025-06-15T10:00:00 +02:00',
  '2025-06-15T10:00:00Z ',
  ' 2025-06-15T10:00:00Z',
  '2025-06-15T10:00:00Z\n',
  '2025-06-15T10:00:00ZZ',
  '2025-06-15T10:00:00GMT',
  '2025-06-15T10:00:00 GMT+0200',
  '+002025-06-15T10:00:00Z',
  '25-06-15T10:00:00Z',
  '2025-6-15T10:00:00Z',
  '20250615T100000Z',
  '2025-W24-7T10:00:00Z',
  '2025-166T10:00:00Z',
  'Sun, 15 Jun 2025 10:00:00 GMT',
  'June 15, 2025 10:00 GMT+2',
  '2025/06/15 10:00:00Z',
  '٢٠٢٥-٠٦-١٥T10:00:00Z',
  '１２３４-06-15T10:00:00Z',
];

/** Right shape, but no such instant. */
const NOT_REAL = [
  '2026-02-30T08:00:00Z',
  '2025-02-29T08:00:00Z',
  '1900-02-29T08:00:00Z',
  '2100-02-29T08:00:00Z',
  '2025-04-31T08:00:00Z',
  '2025-06-31T08:00:00Z',
  '2025-13-01T08:00:00Z',
  '2025-00-10T08:00:00Z',
  '2025-01-00T08:00:00Z',
  '2025-01-32T08:00:00Z',
  '2025-06-15T24:00:00Z',
  '2025-06-15T25:00:00Z',
  '2025-06-15T10:60:00Z',
  '2025-06-15T10:00:60Z',
  '2025-06-15T10:00:99Z',
  '2025-06-15T10:00:00+24:00',
  '2025-06-15T10:00:00-24:00',
  '2025-06-15T10:00:00+99:00',
  '2025-06-15T10:00:00+02:60',
  '2025-06-15T10:00:00+0260',
];

// --- Tests --------------------------------------------------------------------------------------

describe('validateReadingsBatch', () => {
  it('is exported by the wire module', () => {
    expect(wire.validateReadingsBatch).toBe(validateReadingsBatch);
    expect(wire.MAX_BATCH_READINGS).toBe(500);
    expect(MAX_FUTURE_SKEW_MS).toBe(5 * MINUTE);
    expect(MAX_READING_AGE_MS).toBe(90 * DAY);
    expect([READING_MMOL_MIN, READING_MMOL_MAX, FLAGGED_MMOL_MIN, FLAGGED_MMOL_MAX]).toEqual([0.6, 33.3, 0, 50]);
  });

  describe('the batch', () => {
    it.each([
      ['null', null],
      ['undefined', undefined],
      ['a number', 42],
      ['a string', '{"readings":[]}'],
      ['an array', [reading()]],
      ['a Date', new Date()],
      ['a Map', new Map([['readings', []]])],
    ])('refuses a payload that is %s as INVALID_PAYLOAD', (_, payload) => {
      const verdict = validateReadingsBatch(payload, CONTEXT);
      expect(verdict).toEqual({ ok: false, code: 'INVALID_PAYLOAD', message: expect.stringMatching(/JSON object/) });
    });

    it.each([
      ['missing', {}, /no readings/],
      ['undefined', { readings: undefined }, /no readings/],
      ['null', { readings: null }, /must be a list/],
      ['an object', { readings: { 0: reading() } }, /must be a list/],
      ['a string', { readings: '[]' }, /must be a list/],
      ['a number', { readings: 3 }, /must be a list/],
    ])('refuses readings that are %s as INVALID_PAYLOAD', (_, payload, message) => {
      const verdict = validateReadingsBatch(payload, CONTEXT);
      expect(verdict).toEqual({ ok: false, code: 'INVALID_PAYLOAD', message: expect.stringMatching(message) });
    });

    it('accepts an empty batch, with nothing accepted', () => {
      expect(check([])).toEqual({ ok: true, accepted: [], rejected: [] });
    });

    it('takes payloads without a prototype and ignores other fields of the payload', () => {
      const payload = Object.assign(Object.create(null) as object, { readings: [reading()], device: 'x' });
      expect(validateReadingsBatch(payload, CONTEXT)).toMatchObject({ ok: true, rejected: [] });
    });

    it(`accepts ${MAX_BATCH_READINGS} readings and refuses ${MAX_BATCH_READINGS + 1} as BATCH_TOO_LARGE`, () => {
      const readings = Array.from({ length: MAX_BATCH_READINGS }, (_, i) => reading({ seq: i }));
      const verdict = check(readings);
      expect(verdict.ok && verdict.accepted.length).toBe(MAX_BATCH_READINGS);

      const tooMany = check([...readings, reading({ seq: 500 })]);
      expect(tooMany).toEqual({ ok: false, code: 'BATCH_TOO_LARGE', message: expect.stringMatching(/at most 500/) });
      // Refused whole before any reading is looked at.
      expect(check(Array.from({ length: 501 }, () => 'not a reading'))).toMatchObject({ code: 'BATCH_TOO_LARGE' });
    });

    it('never throws on any payload, and its verdict is always well formed', () => {
      const payload = fc.oneof(
        anything,
        fc.record({ readings: anything }),
        fc.dictionary(fc.constantFrom('readings', 'seq', 'x'), anything),
      );
      fc.assert(
        fc.property(payload, (p) => {
          expectWellFormed(p, validateReadingsBatch(p, CONTEXT));
        }),
        { numRuns: 1000 },
      );
    });

    it('never throws on any readings: each is accepted or rejected once, in order', () => {
      /** Readings whose fields are anything, valid or not. */
      const looseReading = fc.record(
        {
          seq: fc.oneof(fc.nat(), anything),
          measuredAt: fc.oneof(fc.constantFrom(...NOT_ISO, ...NOT_REAL, iso(NOW)), anything),
          mmol: fc.oneof(fc.double(), anything),
          flag: fc.oneof(fc.constantFrom(null, ...METER_FLAGS), anything),
          kind: fc.oneof(fc.constantFrom(...READING_KINDS), anything),
          meal: fc.oneof(fc.constantFrom(null, ...MEAL_MARKERS), anything),
        },
        { requiredKeys: [] },
      );
      const readings = fc.array(
        fc.oneof(
          anything,
          validReading.map((g) => g.raw),
          looseReading,
        ),
        { maxLength: 40 },
      );
      fc.assert(
        fc.property(readings, fc.constantFrom(...DEVICE_KINDS), (rs, deviceKind) => {
          const payload = { readings: rs };
          expectWellFormed(payload, validateReadingsBatch(payload, { deviceKind, now: NOW }));
        }),
        { numRuns: 500 },
      );
    });

    it('keeps the index of each reading in a mixed batch', () => {
      const verdict = check([reading({ seq: 1 }), 'x', reading({ seq: 3, mmol: 40 }), reading({ seq: 4 })]);
      expect(verdict).toMatchObject({
        ok: true,
        accepted: [
          { index: 0, reading: { seq: 1 } },
          { index: 3, reading: { seq: 4 } },
        ],
        rejected: [
          { index: 1, seq: null, code: 'INVALID_READING' },
          { index: 2, seq: 3, code: 'OUT_OF_RANGE', field: 'mmol' },
        ],
      });
    });
  });

  describe('valid readings', () => {
    it('accepts every valid reading unchanged, with the kind of the device by default', () => {
      fc.assert(
        fc.property(fc.array(validReading, { maxLength: 20 }), fc.constantFrom(...DEVICE_KINDS), (gs, deviceKind) => {
          const verdict = check(
            gs.map((g) => g.raw),
            { deviceKind, now: NOW },
          );
          expect(verdict).toEqual({
            ok: true,
            accepted: gs.map((g, index) => ({ index, reading: expected(g, deviceKind) })),
            rejected: [],
          });
        }),
        { numRuns: 300 },
      );
    });

    it('reads the instant of every date-time form and offset in years 0000-9999', () => {
      const min = Date.parse('0000-01-02T00:00:00Z');
      const max = Date.parse('9999-12-30T23:59:59.999Z');
      fc.assert(
        fc.property(timestamp(min, max), ({ text, instant }) => {
          // The server's clock at the instant itself, so that any year is neither old nor future.
          const r = acceptance(reading({ measuredAt: text }), { deviceKind: 'bgm', now: instant });
          expect(r.measuredAt.getTime()).toBe(instant);
          // Date.parse agrees on the forms it shares (colon offsets).
          if (/[+-]\d\d:\d\d$|Z$/.test(text)) {
            expect(Date.parse(text)).toBe(instant);
          }
        }),
        { numRuns: 1000 },
      );
    });

    it.each([
      ['2025-06-15T10:00:00Z', '2025-06-15T10:00:00.000Z'],
      ['2025-06-15T10:00:00+00:00', '2025-06-15T10:00:00.000Z'],
      ['2025-06-15T10:00:00-00:00', '2025-06-15T10:00:00.000Z'],
      ['2025-06-15T12:00:00+02:00', '2025-06-15T10:00:00.000Z'],
      ['2025-06-15T12:00:00+0200', '2025-06-15T10:00:00.000Z'],
      ['2025-06-15T04:30:00-05:30', '2025-06-15T10:00:00.000Z'],
      ['2025-06-15T04:30:00-0530', '2025-06-15T10:00:00.000Z'],
      ['2025-06-15T15:45:00+05:45', '2025-06-15T10:00:00.000Z'],
      ['2025-06-14T23:30:00-10:30', '2025-06-15T10:00:00.000Z'],
      ['2025-06-16T00:00:00+14:00', '2025-06-15T10:00:00.000Z'],
      ['2025-06-15T12:00+02:00', '2025-06-15T10:00:00.000Z'],
      ['2025-06-15T10:00:00.5Z', '2025-06-15T10:00:00.500Z'],
      ['2025-06-15T10:00:00.05Z', '2025-06-15T10:00:00.050Z'],
      ['2025-06-15T10:00:00.123Z', '2025-06-15T10:00:00.123Z'],
      ['2025-06-15T10:00:00.123999999Z', '2025-06-15T10:00:00.123Z'],
      ['2025-03-01T00:30:00+01:00', '2025-02-28T23:30:00.000Z'],
      ['2024-02-29T08:00:00Z', '2024-02-29T08:00:00.000Z'],
      ['2000-02-29T08:00:00Z', '2000-02-29T08:00:00.000Z'],
    ])('reads %s as %s', (text, instant) => {
      const now = Date.parse(instant);
      expect(acceptance(reading({ measuredAt: text }), { deviceKind: 'cgm', now }).measuredAt.toISOString()).toBe(
        instant,
      );
    });

    it('reads years 0000-0099 as themselves, not as 1900-1999', () => {
      const now = new Date(0).setUTCFullYear(50, 2, 1);
      expect(
        acceptance(reading({ measuredAt: '0050-03-01T00:00:00Z' }), { deviceKind: 'cgm', now }).measuredAt.getTime(),
      ).toBe(now);
    });

    it('ignores unknown fields and takes an explicit undefined as absent', () => {
      const r = acceptance(reading({ firmware: '2.1', note: { any: ['thing'] }, flag: undefined, kind: undefined }));
      expect(r).toEqual({
        seq: 7,
        measuredAt: new Date('2025-06-15T09:55:00Z'),
        mmol: 6.4,
        flag: null,
        kind: 'cgm',
        meal: null,
      });
    });

    it('lets a reading say its own kind, e.g. control solution on a meter', () => {
      expect(acceptance(reading({ kind: 'control' }), { deviceKind: 'bgm', now: NOW }).kind).toBe('control');
      expect(acceptance(reading(), { deviceKind: 'bgm', now: NOW }).kind).toBe('bgm');
    });

    it('takes seq 0, -0 (as 0) and 2^53 - 1', () => {
      expect(acceptance(reading({ seq: 0 })).seq).toBe(0);
      expect(Object.is(acceptance(reading({ seq: -0 })).seq, 0)).toBe(true);
      expect(acceptance(reading({ seq: Number.MAX_SAFE_INTEGER })).seq).toBe(Number.MAX_SAFE_INTEGER);
    });
  });

  describe('INVALID_READING', () => {
    /** Values that are wrong for a field, whatever their type, by a check written independently here. */
    const validFor: Record<Field, (v: unknown) => boolean> = {
      seq: (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 53 - 1,
      measuredAt: (v) => typeof v === 'string' && /^\d{4}-/.test(v),
      mmol: (v) => v === null || (typeof v === 'number' && Number.isFinite(v)),
      flag: (v) => v === undefined || v === null || v === 'LO' || v === 'HI',
      kind: (v) => v === undefined || v === 'bgm' || v === 'cgm' || v === 'control',
      meal: (v) => v === undefined || v === null || v === 'before' || v === 'after',
    };
    const wrongFor: Record<Field, fc.Arbitrary<unknown>> = {
      seq: fc.constantFrom(-1, -0.5, 1.5, 2 ** 53, Number.MAX_VALUE, NaN, Infinity, '7', 7n, null, true, [7], { n: 7 }),
      measuredAt: fc.constantFrom(...NOT_ISO, ...NOT_REAL, NOW, new Date(NOW), null, { iso: iso(NOW) }, [iso(NOW)]),
      mmol: fc.constantFrom(NaN, Infinity, -Infinity, '6.4', 6n, true, undefined, [6.4], { value: 6.4 }),
      flag: fc.constantFrom('lo', 'Lo', 'hi', 'LOW', 'HIGH', '', ' LO', 0, false, ['LO'], { flag: 'LO' }),
      kind: fc.constantFrom(null, 'BGM', 'Cgm', 'manual', 'import', '', 1, true, ['cgm']),
      meal: fc.constantFrom('Before', 'during', 'fasting', '', 0, true, ['after']),
    };

    for (const field of FIELDS) {
      it(`rejects every wrong value of ${field}, naming ${field}`, () => {
        const wrong = fc.oneof(
          wrongFor[field],
          anything.filter((v) => !validFor[field](v)),
        );
        fc.assert(
          fc.property(validReading, wrong, (g, v) => {
            const rejected = rejection({ ...g.raw, [field]: v });
            expect(rejected).toEqual({
              index: 0,
              seq: field === 'seq' ? null : g.seq,
              code: 'INVALID_READING',
              message: expect.stringContaining(field) as string,
              field,
            });
          }),
          { numRuns: 300 },
        );
      });
    }

    it.each(['seq', 'measuredAt', 'mmol'])('rejects a reading without %s, naming it as required', (field) => {
      const r = reading();
      delete r[field];
      expect(rejection(r)).toMatchObject({
        code: 'INVALID_READING',
        field,
        message: expect.stringMatching(new RegExp(`^${field} is required`)),
      });
    });

    it.each(NOT_ISO)('rejects measuredAt %j as not ISO-8601 with offset', (measuredAt) => {
      expect(rejection(reading({ measuredAt }))).toMatchObject({
        code: 'INVALID_READING',
        field: 'measuredAt',
        message: expect.stringMatching(/ISO-8601/),
      });
    });

    it.each(NOT_REAL)('rejects measuredAt %s as no real instant', (measuredAt) => {
      expect(rejection(reading({ measuredAt }))).toMatchObject({
        code: 'INVALID_READING',
        field: 'measuredAt',
        message: expect.stringMatching(/real date and time/),
      });
    });

    it('accepts a date-time exactly when its calendar date and time exist (Date.UTC as the oracle)', () => {
      /** Mostly in range, often at the edges, sometimes any two digits. */
      const part = (min: number, max: number, edges: number[]) =>
        fc.oneof(fc.integer({ min, max }), fc.constantFrom(...edges), fc.integer({ min: 0, max: 99 }));
      const parts = fc.record({
        year: fc.oneof(fc.integer({ min: 100, max: 9999 }), fc.constantFrom(1900, 2000, 2024, 2025, 2100)),
        month: part(1, 12, [0, 1, 2, 12, 13]),
        day: part(1, 28, [0, 28, 29, 30, 31, 32]),
        hour: part(0, 23, [23, 24]),
        minute: part(0, 59, [59, 60]),
        second: part(0, 59, [59, 60]),
        sign: fc.constantFrom(1, -1),
        offsetHour: part(0, 14, [23, 24]),
        offsetMinute: part(0, 59, [30, 45, 59, 60]),
      });
      fc.assert(
        fc.property(parts, (p) => {
          const offset = `${p.sign < 0 ? '-' : '+'}${pad(p.offsetHour)}:${pad(p.offsetMinute)}`;
          const text = `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${offset}`;
          const local = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
          const date = new Date(local);
          const real =
            date.getUTCFullYear() === p.year &&
            date.getUTCMonth() === p.month - 1 &&
            date.getUTCDate() === p.day &&
            date.getUTCHours() === p.hour &&
            date.getUTCMinutes() === p.minute &&
            date.getUTCSeconds() === p.second &&
            p.offsetHour <= 23 &&
            p.offsetMinute <= 59;
          const instant = local - p.sign * (p.offsetHour * 60 + p.offsetMinute) * MINUTE;
          const { accepted, rejected } = one(reading({ measuredAt: text }), { deviceKind: 'cgm', now: instant });
          if (real) expect(accepted?.measuredAt.getTime()).toBe(instant);
          else expect(rejected).toMatchObject({ code: 'INVALID_READING', field: 'measuredAt' });
        }),
        { numRuns: 3000 },
      );
    });

    it('rejects mmol null without a LO/HI flag, naming mmol', () => {
      for (const flag of [undefined, null]) {
        expect(rejection(reading({ mmol: null, flag }))).toMatchObject({
          code: 'INVALID_READING',
          field: 'mmol',
          message: expect.stringMatching(/^mmol may be null only when flag is 'LO' or 'HI'/),
        });
      }
    });

    it('rejects a reading that is not an object, without a field', () => {
      for (const r of [null, undefined, 7, 'reading', [reading()], new Date(NOW), new Map()]) {
        const rejected = rejection(r);
        expect(rejected).toEqual({ index: 0, seq: null, code: 'INVALID_READING', message: expect.any(String) });
        expect('field' in rejected).toBe(false);
      }
    });

    it('names the first field at fault, in the order of the SPEC', () => {
      const bad = { seq: -1, measuredAt: 'x', mmol: 'x', flag: 'x', kind: 'x', meal: 'x' };
      const order: Field[] = [];
      const r: Record<string, unknown> = { ...bad };
      for (const field of FIELDS) {
        order.push(rejection(r).field as Field);
        r[field] = reading({ flag: 'LO', kind: 'cgm', meal: 'after' })[field];
      }
      expect(order).toEqual([...FIELDS]);
      expect(rejection({ ...reading(), mmol: null, kind: 'x' }).field).toBe('kind'); // types before null-without-flag
    });
  });

  describe('mmol range', () => {
    it.each([
      [0.6, 'accepted'],
      [33.3, 'accepted'],
      [0.59, 'OUT_OF_RANGE'],
      [33.31, 'OUT_OF_RANGE'],
      [0, 'OUT_OF_RANGE'],
      [-0, 'OUT_OF_RANGE'],
      [-5, 'OUT_OF_RANGE'],
      [50, 'OUT_OF_RANGE'],
      [1e300, 'OUT_OF_RANGE'],
      [Number.MIN_VALUE, 'OUT_OF_RANGE'],
    ])('without a flag, mmol %d is %s', (mmol, outcome) => {
      const { accepted, rejected } = one(reading({ mmol }));
      if (outcome === 'accepted') expect(accepted?.mmol).toBe(mmol);
      else
        expect(rejected).toMatchObject({
          seq: 7,
          code: outcome,
          field: 'mmol',
          message: expect.stringMatching(/0\.6 and 33\.3/),
        });
    });

    it('rejects every value outside 0.6-33.3 without a flag as OUT_OF_RANGE', () => {
      const outside = fc.oneof(
        fc.double({ max: READING_MMOL_MIN, maxExcluded: true, noNaN: true, noDefaultInfinity: true }),
        fc.double({ min: READING_MMOL_MAX, minExcluded: true, noNaN: true, noDefaultInfinity: true }),
      );
      fc.assert(
        fc.property(outside, fc.constantFrom(undefined, null), (mmol, flag) => {
          expect(rejection(reading({ mmol, flag }))).toMatchObject({ code: 'OUT_OF_RANGE', field: 'mmol' });
        }),
      );
    });

    it.each(METER_FLAGS)(
      'with flag %s, accepts null and any value 0-50 (lenient), rejects beyond as INVALID_READING',
      (flag) => {
        for (const mmol of [null, 0, 0.3, 0.6, 20, 33.3, 40, 50]) {
          expect(acceptance(reading({ mmol, flag }))).toMatchObject({ mmol, flag });
        }
        for (const mmol of [-0.01, 50.01, 1e6, -Number.MIN_VALUE]) {
          expect(rejection(reading({ mmol, flag }))).toMatchObject({ seq: 7, code: 'INVALID_READING', field: 'mmol' });
        }
      },
    );

    it('checks the range before the time', () => {
      expect(rejection(reading({ mmol: 40, measuredAt: iso(NOW + DAY) })).code).toBe('OUT_OF_RANGE');
      expect(rejection(reading({ mmol: 40, measuredAt: iso(NOW - 100 * DAY) })).code).toBe('OUT_OF_RANGE');
    });
  });

  describe('time against the server clock', () => {
    it.each([
      [MAX_FUTURE_SKEW_MS, 'accepted'],
      [MAX_FUTURE_SKEW_MS + 1, 'FUTURE_TIMESTAMP'],
      [DAY, 'FUTURE_TIMESTAMP'],
      [0, 'accepted'],
      [-MAX_READING_AGE_MS, 'accepted'],
      [-MAX_READING_AGE_MS - 1, 'TOO_OLD'],
      [-365 * DAY, 'TOO_OLD'],
    ])('measured %d ms from now is %s', (ahead, outcome) => {
      const measuredAt = iso(NOW + ahead);
      const { accepted, rejected } = one(reading({ measuredAt, seq: 12 }));
      if (outcome === 'accepted') expect(accepted?.measuredAt.getTime()).toBe(NOW + ahead);
      else
        expect(rejected).toEqual({
          index: 0,
          seq: 12,
          code: outcome,
          message: expect.any(String),
          field: 'measuredAt',
        });
    });

    it('compares instants, not texts: 5 minutes ahead in another offset is still ok', () => {
      expect(acceptance(reading({ measuredAt: '2025-06-15T07:05:00-03:00' })).measuredAt.getTime()).toBe(
        NOW + 5 * MINUTE,
      );
      expect(rejection(reading({ measuredAt: '2025-06-15T07:05:00.001-03:00' })).code).toBe('FUTURE_TIMESTAMP');
    });

    it('decides by the instant: future, too old or in between', () => {
      fc.assert(
        fc.property(timestamp(NOW - 200 * DAY, NOW + 10 * DAY), ({ text, instant }) => {
          const { accepted, rejected } = one(reading({ measuredAt: text }));
          if (instant - NOW > MAX_FUTURE_SKEW_MS) expect(rejected?.code).toBe('FUTURE_TIMESTAMP');
          else if (NOW - instant > MAX_READING_AGE_MS) expect(rejected?.code).toBe('TOO_OLD');
          else expect(accepted?.measuredAt.getTime()).toBe(instant);
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('messages', () => {
    it('are sentences naming the field and the rule', () => {
      expect(rejection(reading({ seq: 'x' })).message).toBe(
        'seq must be a whole number of at least 0 (at most 2^53 - 1).',
      );
      expect(rejection(reading({ mmol: 40 })).message).toBe(
        "mmol must be between 0.6 and 33.3 mmol/L; beyond that range a meter sends flag 'LO' or 'HI'.",
      );
      expect(rejection(reading({ measuredAt: iso(NOW + DAY) })).message).toMatch(/^measuredAt is more than 5 minutes/);
      expect(rejection(reading({ measuredAt: iso(NOW - 100 * DAY) })).message).toMatch(
        /^measuredAt is more than 90 days/,
      );
    });

    it('never repeat a value sent', () => {
      /** Values that appear in no message of ours: long numbers and tagged strings. */
      const marker = fc.oneof(
        fc.integer({ min: 10_000_000, max: 99_999_999 }).map((n) => ({ value: n as unknown, text: String(n) })),
        fc.integer({ min: 10_000_000, max: 99_999_999 }).map((n) => ({ value: -n / 1000, text: String(n) })),
        fc.integer({ min: 10_000_000, max: 99_999_999 }).map((n) => ({ value: n / 1000, text: String(n) })),
        fc.stringMatching(/^[a-z]{3,8}$/).map((s) => ({ value: `MARK-${s}-KRAM`, text: `MARK-${s}-KRAM` })),
        fc.stringMatching(/^[a-z]{3,8}$/).map((s) => ({ value: [`MARK-${s}`], text: `MARK-${s}` })),
      );
      const where = fc.constantFrom(...FIELDS, 'extra', 'reading', 'readings', 'payload');
      fc.assert(
        fc.property(validReading, marker, where, (g, { value: v, text }, at) => {
          let payload: unknown;
          if (at === 'payload') payload = v;
          else if (at === 'readings') payload = { readings: v };
          else if (at === 'reading') payload = { readings: [v] };
          else payload = { readings: [{ ...g.raw, [at === 'extra' ? text : at]: v }] };
          for (const message of messagesOf(validateReadingsBatch(payload, CONTEXT))) {
            expect(message).not.toContain(text);
          }
        }),
        { numRuns: 1000 },
      );
    });

    it('never repeat the time, seq or value of a reading rejected for its range or time', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 10_000_000, max: 99_999_999 }),
          timestamp(NOW - 400 * DAY, NOW + 400 * DAY),
          fc.integer({ min: 10_000, max: 99_999 }).map((n) => n / 100), // outside 0.6-33.3, 5 digits
          (seq, { text }, mmol) => {
            const verdict = check([reading({ seq, measuredAt: text }), reading({ seq, measuredAt: text, mmol })]);
            for (const message of messagesOf(verdict)) {
              for (const sent of [String(seq), text, text.slice(0, 10), text.slice(11, 16), String(mmol)]) {
                expect(message).not.toContain(sent);
              }
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
