import fc from 'fast-check';
import { decodeSfloat, type DateTime, type SfloatValue } from '../../src/bluetooth/index.ts';
import type { GlucoseMeasurementContextFields, GlucoseMeasurementFields } from '../support/glucose-meter.ts';

/** Generators of the Glucose Service's fields over their whole ranges, shared by the tests. */

export const sfloatValue: fc.Arbitrary<SfloatValue> = fc.integer({ min: 0, max: 0xffff }).map(decodeSfloat);

/** Any Date Time the specification allows, "not known" zeros included. */
export const dateTime: fc.Arbitrary<DateTime> = fc.record({
  year: fc.oneof(fc.constant(0), fc.integer({ min: 1582, max: 9999 })),
  month: fc.integer({ min: 0, max: 12 }),
  day: fc.integer({ min: 0, max: 31 }),
  hours: fc.integer({ min: 0, max: 23 }),
  minutes: fc.integer({ min: 0, max: 59 }),
  seconds: fc.integer({ min: 0, max: 59 }),
});

const nibble = fc.integer({ min: 0, max: 15 });

/** Every flag on or off, both units, every sample type and location, every annunciation bit. */
export const measurementFields: fc.Arbitrary<GlucoseMeasurementFields> = fc.record({
  sequence: fc.integer({ min: 0, max: 0xffff }),
  baseTime: dateTime,
  timeOffsetMinutes: fc.option(fc.integer({ min: -0x8000, max: 0x7fff })),
  concentration: fc.option(
    fc.record({
      value: sfloatValue,
      unit: fc.constantFrom('kg/L' as const, 'mol/L' as const),
      sampleType: nibble,
      sampleLocation: nibble,
    }),
  ),
  sensorStatus: fc.option(fc.integer({ min: 0, max: 0xffff })),
  contextFollows: fc.boolean(),
  reservedFlags: fc.integer({ min: 0, max: 7 }).map((bits) => bits << 5),
});

const uint8 = fc.integer({ min: 0, max: 0xff });

export const contextFields: fc.Arbitrary<GlucoseMeasurementContextFields> = fc.record({
  sequence: fc.integer({ min: 0, max: 0xffff }),
  extendedFlags: fc.option(uint8),
  carbohydrate: fc.option(fc.record({ id: uint8, kilograms: sfloatValue })),
  meal: fc.option(uint8),
  testerHealth: fc.option(fc.record({ tester: nibble, health: nibble })),
  exercise: fc.option(fc.record({ durationSeconds: fc.integer({ min: 0, max: 0xffff }), intensityPercent: uint8 })),
  medication: fc.option(
    fc.record({ id: uint8, amount: sfloatValue, unit: fc.constantFrom('kg' as const, 'L' as const) }),
  ),
  hba1cPercent: fc.option(sfloatValue),
});
