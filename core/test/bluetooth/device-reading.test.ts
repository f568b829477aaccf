import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCurrentTime,
  decodeGlucoseMeasurement,
  decodeGlucoseMeasurementContext,
  meterClockDrift,
  toDeviceReading,
  type GlucoseMeasurement,
  type GlucoseMeasurementContext,
} from '../../src/bluetooth/index.ts';
import { MGDL_PER_MMOL } from '../../src/domain/ranges.ts';
import { validateReadingsBatch } from '../../src/wire/device-readings.ts';
import {
  asDataView,
  encodeCurrentTime,
  encodeGlucoseMeasurement,
  encodeGlucoseMeasurementContext,
  type GlucoseMeasurementContextFields,
  type GlucoseMeasurementFields,
} from '../support/glucose-meter.ts';
import { contextFields, dateTime, measurementFields } from './arbitraries.ts';

const nibble = fc.integer({ min: 0, max: 15 });

const STOCKHOLM = { timeZone: 'Europe/Stockholm' };

const measurement = (fields: GlucoseMeasurementFields): GlucoseMeasurement =>
  decodeGlucoseMeasurement(asDataView(encodeGlucoseMeasurement(fields)));
const context = (fields: GlucoseMeasurementContextFields): GlucoseMeasurementContext =>
  decodeGlucoseMeasurementContext(asDataView(encodeGlucoseMeasurementContext(fields)));

const time = (year: number, month: number, day: number, hours: number, minutes = 0, seconds = 0) => ({
  year,
  month,
  day,
  hours,
  minutes,
  seconds,
});

/** A plain fingerstick result of `mmol` (as mol/L) at a local time. */
const result = (mmol: number, baseTime = time(2026, 12, 3, 8, 15), extra: Partial<GlucoseMeasurementFields> = {}) =>
  measurement({ sequence: 17, baseTime, concentration: { value: mmol / 1000, unit: 'mol/L' }, ...extra });

function reading(m: GlucoseMeasurement, c?: GlucoseMeasurementContext, timeZone = STOCKHOLM.timeZone) {
  const r = toDeviceReading(m, c, { timeZone });
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.reading;
}

/** The SPEC section 4 validation the server runs, with its clock at the reading's time. */
function validate(r: { measuredAt: string }) {
  const verdict = validateReadingsBatch({ readings: [r] }, { deviceKind: 'bgm', now: Date.parse(r.measuredAt) });
  if (!verdict.ok) throw new Error(verdict.message);
  return verdict;
}

describe('toDeviceReading', () => {
  it('gives the SPEC section 4 reading: seq, measuredAt with the zone’s offset, mmol to one decimal', () => {
    expect(toDeviceReading(result(5.5), undefined, STOCKHOLM)).toEqual({
      ok: true,
      reading: { seq: 17, measuredAt: '2026-12-03T08:15:00+01:00', mmol: 5.5, flag: null, kind: 'bgm', meal: null },
      warnings: [],
    });
    const summer = reading(result(7.2, time(2026, 7, 1, 23, 59, 59)));
    expect(summer.measuredAt).toBe('2026-07-01T23:59:59+02:00');
    expect(reading(result(7.2), undefined, 'America/New_York').measuredAt).toBe('2026-12-03T08:15:00-05:00');
    expect(reading(result(7.2), undefined, 'Asia/Kolkata').measuredAt).toBe('2026-12-03T08:15:00+05:30');
  });

  it('converts kg/L (mg/dL x 1e-5) with the factor 18.0156 and mol/L x 1000, rounding to one decimal', () => {
    const mgdl = (value: number) =>
      reading(
        measurement({
          sequence: 1,
          baseTime: time(2026, 1, 1, 9),
          concentration: { value: value * 1e-5, unit: 'kg/L' },
        }),
      ).mmol;
    expect(mgdl(100)).toBe(5.6); // 5.5507...
    expect(mgdl(99)).toBe(5.5); // 5.4952...
    expect(mgdl(70)).toBe(3.9); // 3.8855...
    expect(mgdl(180)).toBe(10); // 9.9913...
    expect(mgdl(600)).toBe(33.3); // 33.3044...
    expect(reading(result(5.55)).mmol).toBe(5.6); // 555 x 10^-5 mol/L: a half rounds up, with no float noise
    expect(reading(result(12.25)).mmol).toBe(12.3);
    expect(reading(result(0.6)).mmol).toBe(0.6);
  });

  it('gives the same mmol/L from mol/L and from the same value in mg/dL', () => {
    fc.assert(
      fc.property(fc.integer({ min: 6, max: 333 }), (tenths) => {
        const molar = measurement({
          sequence: 1,
          baseTime: time(2026, 1, 1, 9),
          concentration: { value: { mantissa: tenths, exponent: -4 }, unit: 'mol/L' },
        });
        const mgdl = Math.round((tenths / 10) * MGDL_PER_MMOL); // what a mg/dL meter shows
        const mass = measurement({
          sequence: 1,
          baseTime: time(2026, 1, 1, 9),
          concentration: { value: { mantissa: mgdl, exponent: -5 }, unit: 'kg/L' },
        });
        expect(reading(molar).mmol).toBe(tenths / 10);
        expect(reading(mass).mmol).toBe(tenths / 10);
      }),
    );
  });

  it('reads the meter’s wall clock across the Swedish clock changes', () => {
    const at = (month: number, day: number, hours: number, minutes: number, offset?: number) =>
      reading(
        result(6, time(2026, month, day, hours, minutes), offset === undefined ? {} : { timeOffsetMinutes: offset }),
      ).measuredAt;
    // Spring forward: 2026-03-29 02:00 CET becomes 03:00 CEST.
    expect(at(3, 29, 1, 59)).toBe('2026-03-29T01:59:00+01:00');
    expect(at(3, 29, 3, 0)).toBe('2026-03-29T03:00:00+02:00');
    // 02:30 does not exist that night: a meter showing it was not set forward, so it is 01:30Z.
    expect(at(3, 29, 2, 30)).toBe('2026-03-29T03:30:00+02:00');
    expect(Date.parse(at(3, 29, 2, 30))).toBe(Date.parse('2026-03-29T01:30:00Z'));
    // Fall back: 2026-10-25 03:00 CEST becomes 02:00 CET; 02:30 comes twice, the first is taken.
    expect(at(10, 25, 2, 30)).toBe('2026-10-25T02:30:00+02:00');
    expect(at(10, 25, 3, 30)).toBe('2026-10-25T03:30:00+01:00');
    expect(at(10, 25, 1, 59)).toBe('2026-10-25T01:59:00+02:00');
    // The time offset is added to the wall clock first: 01:30 + 60 min is 02:30, the skipped hour.
    expect(at(3, 29, 1, 30, 60)).toBe('2026-03-29T03:30:00+02:00');
    expect(at(3, 29, 4, 30, -120)).toBe('2026-03-29T03:30:00+02:00'); // 02:30 again, from above
    expect(at(1, 1, 0, 10, -20)).toBe('2025-12-31T23:50:00+01:00'); // across a year
  });

  it('makes a control solution test a control reading, by its sample type or its location', () => {
    const control = (sampleType: number, sampleLocation: number) =>
      reading(
        measurement({
          sequence: 3,
          baseTime: time(2026, 12, 3, 9),
          concentration: { value: 0.0062, unit: 'mol/L', sampleType, sampleLocation },
        }),
      ).kind;
    expect(control(0x0a, 15)).toBe('control');
    expect(control(1, 4)).toBe('control');
    expect(control(1, 1)).toBe('bgm');
    expect(control(9, 2)).toBe('bgm');
  });

  it('flags LO and HI from the annunciations, keeping a number only where SPEC allows one', () => {
    const flagged = (status: 'resultLowerThanDeviceCanProcess' | 'resultHigherThanDeviceCanProcess', value?: number) =>
      reading(
        measurement({
          sequence: 4,
          baseTime: time(2026, 12, 3, 9),
          concentration: value === undefined ? null : { value, unit: 'mol/L' },
          sensorStatus: { [status]: true },
        }),
      );
    expect(flagged('resultLowerThanDeviceCanProcess')).toMatchObject({ flag: 'LO', mmol: null });
    expect(flagged('resultHigherThanDeviceCanProcess')).toMatchObject({ flag: 'HI', mmol: null });
    expect(flagged('resultLowerThanDeviceCanProcess', 0.0006)).toMatchObject({ flag: 'LO', mmol: 0.6 });
    expect(flagged('resultHigherThanDeviceCanProcess', 0.0333)).toMatchObject({ flag: 'HI', mmol: 33.3 });
    expect(flagged('resultHigherThanDeviceCanProcess', Number.NaN)).toMatchObject({ flag: 'HI', mmol: null });
    expect(flagged('resultHigherThanDeviceCanProcess', 0.09)).toMatchObject({ flag: 'HI', mmol: null }); // 90: beyond 50
    for (const r of [flagged('resultLowerThanDeviceCanProcess'), flagged('resultHigherThanDeviceCanProcess', 0.09)]) {
      expect(validate(r).accepted).toHaveLength(1);
    }
    // An SFLOAT infinity is beyond what the meter shows.
    expect(
      reading(
        measurement({ sequence: 5, baseTime: time(2026, 12, 3, 9), concentration: { value: Infinity, unit: 'mol/L' } }),
      ),
    ).toMatchObject({ flag: 'HI', mmol: null });
    expect(
      reading(
        measurement({ sequence: 5, baseTime: time(2026, 12, 3, 9), concentration: { value: -Infinity, unit: 'kg/L' } }),
      ),
    ).toMatchObject({ flag: 'LO', mmol: null });
  });

  it('marks the meal from the context: preprandial before, postprandial after, others none', () => {
    const meal = (code: number | null) =>
      reading(result(6.4), code === null ? undefined : context({ sequence: 17, meal: code })).meal;
    expect(meal(1)).toBe('before');
    expect(meal(2)).toBe('after');
    for (const other of [null, 0, 3, 4, 5, 200]) expect(meal(other)).toBeNull();
    expect(reading(result(6.4), context({ sequence: 17, carbohydrate: { id: 1, kilograms: 0.05 } })).meal).toBeNull();
  });

  it('refuses, with a reason, what is no reading', () => {
    const refused = (m: GlucoseMeasurement, c?: GlucoseMeasurementContext, timeZone = STOCKHOLM.timeZone) => {
      const r = toDeviceReading(m, c, { timeZone });
      return r.ok ? 'ok' : r.reason;
    };
    const baseTime = time(2026, 12, 3, 9);
    expect(refused(measurement({ sequence: 1, baseTime }))).toBe('no-concentration');
    for (const kind of ['NaN', 'NRes', 'reserved'] as const) {
      expect(refused(measurement({ sequence: 1, baseTime, concentration: { value: { kind }, unit: 'mol/L' } }))).toBe(
        'value-not-a-number',
      );
    }
    expect(refused(result(33.4))).toBe('value-out-of-range');
    expect(refused(result(0.5))).toBe('value-out-of-range');
    expect(refused(result(-1))).toBe('value-out-of-range');
    expect(refused(result(6, time(0, 0, 0, 0)))).toBe('time-unknown');
    expect(refused(result(6, time(2026, 2, 29, 8)))).toBe('time-invalid'); // 2026 is no leap year
    expect(refused(result(6, time(2028, 2, 29, 8)))).toBe('ok');
    expect(refused(result(6), undefined, 'Europe/Nowhere')).toBe('unknown-time-zone');
    expect(refused(result(6), context({ sequence: 18, meal: 1 }))).toBe('context-mismatch');
    expect(refused(result(6, time(1700, 1, 1, 12)))).toBe('time-not-representable'); // Stockholm local mean time
  });

  it('refuses a result the meter itself flagged as faulty, naming the faults', () => {
    const faulty = toDeviceReading(
      result(6, undefined, { sensorStatus: { stripInsertionError: true, sampleSizeInsufficient: true } }),
      undefined,
      STOCKHOLM,
    );
    expect(faulty).toEqual({
      ok: false,
      reason: 'sensor-fault',
      faults: ['sampleSizeInsufficient', 'stripInsertionError'],
    });
    const both = toDeviceReading(
      result(6, undefined, {
        sensorStatus: { resultHigherThanDeviceCanProcess: true, resultLowerThanDeviceCanProcess: true },
      }),
      undefined,
      STOCKHOLM,
    );
    expect(both).toMatchObject({ ok: false, reason: 'sensor-fault' });
    const warned = toDeviceReading(
      result(6, undefined, { sensorStatus: { deviceBatteryLow: true, timeFault: true } }),
      undefined,
      STOCKHOLM,
    );
    expect(warned).toMatchObject({ ok: true, reading: { mmol: 6 }, warnings: ['device-battery-low', 'time-fault'] });
  });

  it('gives only readings that pass the device reading validation of core/src/wire, whatever the record', () => {
    const zones = fc.constantFrom('Europe/Stockholm', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'UTC');
    // Mostly what meters send (a value in range, LO/HI, a warning), and anything at all besides.
    const mantissaOf = (min: number, max: number, exponent: number) =>
      fc.integer({ min, max }).map((mantissa) => ({ mantissa, exponent }));
    const records = fc.record({
      sequence: fc.integer({ min: 0, max: 0xffff }),
      baseTime: fc.oneof(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }).map((ms) => {
          const d = new Date(ms);
          return time(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes());
        }),
        dateTime,
      ),
      timeOffsetMinutes: fc.option(
        fc.oneof(fc.integer({ min: -1440, max: 1440 }), fc.integer({ min: -0x8000, max: 0x7fff })),
      ),
      concentration: fc.option(
        fc.oneof(
          fc.record({
            value: mantissaOf(0, 600, -4),
            unit: fc.constant('mol/L' as const),
            sampleType: nibble,
            sampleLocation: nibble,
          }),
          fc.record({
            value: mantissaOf(0, 1000, -5),
            unit: fc.constant('kg/L' as const),
            sampleType: nibble,
            sampleLocation: nibble,
          }),
          measurementFields.map((f) => f.concentration).filter((c) => c !== null && c !== undefined),
        ),
        { freq: 10 },
      ),
      sensorStatus: fc.option(
        fc.oneof(
          fc.constantFrom(0, 1 << 0, 1 << 5, 1 << 6, 1 << 11, (1 << 0) | (1 << 6), 1 << 3),
          fc.integer({ min: 0, max: 0xffff }),
        ),
      ),
    });
    let readings = 0;
    const runs = 1000;
    fc.assert(
      fc.property(records, fc.option(contextFields), zones, (fields, contextOf, timeZone) => {
        const m = measurement(fields as GlucoseMeasurementFields);
        const c = contextOf === null ? undefined : context({ ...contextOf, sequence: m.sequence });
        const r = toDeviceReading(m, c, { timeZone });
        if (!r.ok) return;
        readings++;
        const verdict = validate(r.reading);
        expect(verdict.rejected).toEqual([]);
        expect(verdict.accepted[0]!.reading).toEqual({ ...r.reading, measuredAt: new Date(r.reading.measuredAt) });
      }),
      { numRuns: runs },
    );
    expect(readings).toBeGreaterThan(runs / 10); // the property was tried on readings, not only on refusals
  });

  it('turns plausible meter results into valid readings of the right value, kind and meal', () => {
    const plausible = fc.record({
      sequence: fc.integer({ min: 0, max: 0xffff }),
      instant: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }),
      tenths: fc.integer({ min: 6, max: 333 }),
      unit: fc.constantFrom('kg/L' as const, 'mol/L' as const),
      sampleType: fc.integer({ min: 1, max: 10 }),
      meal: fc.option(fc.integer({ min: 1, max: 5 })),
      timeZone: fc.constantFrom('Europe/Stockholm', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'),
    });
    fc.assert(
      fc.property(plausible, ({ sequence, instant, tenths, unit, sampleType, meal, timeZone }) => {
        const local = new Date(instant); // its UTC fields stand for a meter's wall clock
        const baseTime = time(
          local.getUTCFullYear(),
          local.getUTCMonth() + 1,
          local.getUTCDate(),
          local.getUTCHours(),
          local.getUTCMinutes(),
          local.getUTCSeconds(),
        );
        const value =
          unit === 'mol/L'
            ? { mantissa: tenths, exponent: -4 }
            : { mantissa: Math.round((tenths / 10) * MGDL_PER_MMOL), exponent: -5 };
        const m = measurement({ sequence, baseTime, concentration: { value, unit, sampleType, sampleLocation: 1 } });
        const c = meal === null ? undefined : context({ sequence, meal });
        const r = toDeviceReading(m, c, { timeZone });
        if (!r.ok) throw new Error(r.reason);
        expect(r.reading).toMatchObject({
          seq: sequence,
          mmol: tenths / 10,
          flag: null,
          kind: sampleType === 10 ? 'control' : 'bgm',
          meal: meal === 1 ? 'before' : meal === 2 ? 'after' : null,
        });
        // The wall clock written is the meter's, except in a skipped hour.
        // The wall clock written is the meter's, except in a skipped hour (half hour on Lord Howe
        // Island), which is written as the time after the change.
        const shift = Date.parse(`${r.reading.measuredAt.slice(0, 19)}Z`) - Math.floor(instant / 1000) * 1000;
        expect([0, 1_800_000, 3_600_000]).toContain(shift);
        expect(validate(r.reading).accepted).toHaveLength(1);
      }),
      { numRuns: 300 },
    );
  });
});

describe('meterClockDrift', () => {
  it('says how far the meter’s clock is ahead of the phone’s, in ms', () => {
    const meter = decodeCurrentTime(
      asDataView(encodeCurrentTime({ dateTime: time(2026, 12, 3, 10, 0, 5), fractions256: 128 })),
    );
    expect(meterClockDrift(meter, new Date('2026-12-03T09:00:00Z'), 'Europe/Stockholm')).toBe(5500);
    expect(meterClockDrift(meter.dateTime, new Date('2026-12-03T09:01:00Z'), 'Europe/Stockholm')).toBe(-55_000);
    expect(meterClockDrift(time(2026, 7, 1, 12), new Date('2026-07-01T10:00:00Z'), 'Europe/Stockholm')).toBe(0);
    expect(meterClockDrift(time(0, 0, 0, 12), new Date('2026-07-01T10:00:00Z'), 'Europe/Stockholm')).toBeNull();
    expect(meterClockDrift(meter, new Date(), 'Mars/Olympus')).toBeNull();
  });
});
