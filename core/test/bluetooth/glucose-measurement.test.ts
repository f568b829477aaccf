import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCurrentTime,
  decodeGlucoseFeature,
  decodeGlucoseMeasurement,
  decodeSfloat,
  GlucoseDecodeError,
  SENSOR_STATUS_BITS,
} from '../../src/bluetooth/index.ts';
import {
  asDataView,
  encodeCurrentTime,
  encodeGlucoseFeature,
  encodeGlucoseMeasurement,
  encodeSfloat,
  measurementFieldsOf,
  sensorStatusBits,
} from '../support/glucose-meter.ts';
import { dateTime, measurementFields } from './arbitraries.ts';

const view = (...bytes: number[]) => asDataView(Uint8Array.from(bytes));

function decodeError(decode: () => unknown): GlucoseDecodeError {
  try {
    decode();
  } catch (error) {
    if (error instanceof GlucoseDecodeError) return error;
    throw error;
  }
  throw new Error('decoded without an error');
}

describe('decodeGlucoseMeasurement (0x2A18)', () => {
  it('reads a record laid out by hand from the specification', () => {
    const bytes = [
      0x0b, // flags: time offset, concentration (kg/L), sensor status
      0x2a,
      0x00, // sequence 42
      0xea,
      0x07,
      0x03,
      0x01,
      0x08,
      0x05,
      0x09, // 2026-03-01 08:05:09
      0xc4,
      0xff, // time offset -60
      0x64,
      0xb0, // 100 x 10^-5 kg/L = 100 mg/dL
      0x11, // capillary whole blood (low nibble), finger (high nibble)
      0x41,
      0x00, // battery low (bit 0), result lower than the device can process (bit 6)
    ];
    const m = decodeGlucoseMeasurement(view(...bytes));
    expect(m).toMatchObject({
      flags: 0x0b,
      sequence: 42,
      baseTime: { year: 2026, month: 3, day: 1, hours: 8, minutes: 5, seconds: 9 },
      timeOffsetMinutes: -60,
      concentration: { value: { kind: 'number', value: 0.001, mantissa: 100, exponent: -5 }, unit: 'kg/L' },
      sampleType: 'capillary whole blood',
      sampleTypeCode: 1,
      sampleLocation: 'finger',
      sampleLocationCode: 1,
      contextFollows: false,
    });
    expect(m.sensorStatus).toMatchObject({ deviceBatteryLow: true, resultLowerThanDeviceCanProcess: true });
    expect(Object.entries(m.sensorStatus!).filter(([, v]) => v === true)).toHaveLength(2);
  });

  it('agrees with the record of Nordic Semiconductor’s Android GLS parser test (every flag set)', () => {
    const m = decodeGlucoseMeasurement(
      view(0x1f, 0x02, 0x00, 0xe4, 0x07, 0x05, 0x15, 0x0a, 0x1e, 0x2d, 0x00, 0x00, 0x51, 0x00, 0x14, 0x06, 0x00),
    );
    expect(m).toMatchObject({
      sequence: 2,
      baseTime: { year: 2020, month: 5, day: 21, hours: 10, minutes: 30, seconds: 45 },
      timeOffsetMinutes: 0,
      concentration: { value: { kind: 'number', value: 81 }, unit: 'mol/L' },
      sampleType: 'venous plasma', // 4, the low nibble of 0x14
      sampleLocation: 'finger', // 1, the high nibble
      contextFollows: true,
    });
    expect(m.sensorStatus).toMatchObject({
      sensorMalfunction: true,
      sampleSizeInsufficient: true,
      deviceBatteryLow: false,
    });
  });

  it('reads the shortest record: flags, sequence and base time only; mol/L, control solution, context', () => {
    const minimal = decodeGlucoseMeasurement(view(0x00, 0x01, 0x00, 0xea, 0x07, 0x0c, 0x03, 0x17, 0x3b, 0x3b));
    expect(minimal).toMatchObject({ sequence: 1, timeOffsetMinutes: null, concentration: null });
    expect(minimal).toMatchObject({
      sampleType: null,
      sampleLocation: null,
      sensorStatus: null,
      contextFollows: false,
    });

    const control = decodeGlucoseMeasurement(
      view(0x16, 0x02, 0x00, 0xea, 0x07, 0x0c, 0x03, 0x0a, 0x00, 0x00, 0x37, 0xc0, 0x4a),
    );
    expect(control).toMatchObject({
      concentration: { value: { value: 0.0055 }, unit: 'mol/L' },
      sampleType: 'control solution',
      sampleLocation: 'control solution',
      contextFollows: true,
    });
  });

  it('names every sample type and location, reserved ones as reserved', () => {
    const types = Array.from({ length: 16 }, (_, code) => {
      const bytes = encodeGlucoseMeasurement({
        sequence: 0,
        baseTime: { year: 2026, month: 1, day: 1, hours: 0, minutes: 0, seconds: 0 },
        concentration: { value: 5.5e-3, unit: 'mol/L', sampleType: code, sampleLocation: code },
      });
      const m = decodeGlucoseMeasurement(asDataView(bytes));
      return [m.sampleType, m.sampleLocation];
    });
    expect(types.map(([type]) => type)).toEqual([
      'reserved',
      'capillary whole blood',
      'capillary plasma',
      'venous whole blood',
      'venous plasma',
      'arterial whole blood',
      'arterial plasma',
      'undetermined whole blood',
      'undetermined plasma',
      'interstitial fluid',
      'control solution',
      ...Array(5).fill('reserved'),
    ]);
    expect(types.map(([, location]) => location)).toEqual([
      'reserved',
      'finger',
      'alternate site test',
      'earlobe',
      'control solution',
      ...Array(10).fill('reserved'),
      'not available',
    ]);
  });

  it('decodes each annunciation bit to its own name', () => {
    SENSOR_STATUS_BITS.forEach((name, bit) => {
      const bytes = encodeGlucoseMeasurement({
        sequence: 0,
        baseTime: { year: 2026, month: 1, day: 1, hours: 0, minutes: 0, seconds: 0 },
        sensorStatus: 1 << bit,
      });
      const status = decodeGlucoseMeasurement(asDataView(bytes)).sensorStatus!;
      expect(Object.entries(status).filter(([, on]) => on === true)).toEqual([[name, true]]);
    });
    expect(SENSOR_STATUS_BITS[5]).toBe('resultHigherThanDeviceCanProcess');
    expect(SENSOR_STATUS_BITS[6]).toBe('resultLowerThanDeviceCanProcess');
  });

  it('round-trips every combination of fields, byte for byte', () => {
    fc.assert(
      fc.property(measurementFields, (fields) => {
        const bytes = encodeGlucoseMeasurement(fields);
        const m = decodeGlucoseMeasurement(asDataView(bytes));
        expect(m.sequence).toBe(fields.sequence);
        expect(m.baseTime).toEqual(fields.baseTime);
        expect(m.timeOffsetMinutes).toBe(fields.timeOffsetMinutes);
        expect(m.contextFollows).toBe(fields.contextFollows);
        expect(m.flags & 0xe0).toBe(fields.reservedFlags);
        if (fields.concentration) {
          expect(m.concentration).toEqual({ value: fields.concentration.value, unit: fields.concentration.unit });
          expect([m.sampleTypeCode, m.sampleLocationCode]).toEqual([
            fields.concentration.sampleType,
            fields.concentration.sampleLocation,
          ]);
        } else {
          expect([m.concentration, m.sampleType, m.sampleLocation]).toEqual([null, null, null]);
        }
        const status = fields.sensorStatus as number | null;
        expect(m.sensorStatus === null ? null : sensorStatusBits(m.sensorStatus)).toBe(status);
        expect(encodeGlucoseMeasurement(measurementFieldsOf(m))).toEqual(bytes);
      }),
    );
  });

  it('throws TRUNCATED for every prefix of a record, and ignores bytes after its last field', () => {
    fc.assert(
      fc.property(measurementFields, fc.uint8Array({ maxLength: 4 }), (fields, tail) => {
        const bytes = encodeGlucoseMeasurement(fields);
        for (let length = 0; length < bytes.length; length++) {
          const error = decodeError(() => decodeGlucoseMeasurement(asDataView(bytes.subarray(0, length))));
          expect(error.code).toBe('TRUNCATED');
          expect(error.characteristic).toBe('Glucose Measurement');
          expect(error.field).toBeTypeOf('string');
        }
        const longer = Uint8Array.from([...bytes, ...tail]);
        expect(decodeGlucoseMeasurement(asDataView(longer))).toEqual(decodeGlucoseMeasurement(asDataView(bytes)));
      }),
    );
  });

  it('reads a value in the middle of a larger buffer (a DataView with an offset)', () => {
    const bytes = encodeGlucoseMeasurement({
      sequence: 7,
      baseTime: { year: 2026, month: 5, day: 6, hours: 7, minutes: 8, seconds: 9 },
      concentration: { value: 6.1e-3, unit: 'mol/L' },
    });
    const buffer = new Uint8Array(bytes.length + 6);
    buffer.set(bytes, 3);
    const m = decodeGlucoseMeasurement(new DataView(buffer.buffer, 3, bytes.length));
    expect(m).toMatchObject({ sequence: 7, concentration: { value: { value: 0.0061 } } });
  });

  it('throws INVALID_DATE_TIME for a base time out of the specification’s ranges', () => {
    const good = [0x00, 0x01, 0x00, 0xea, 0x07, 0x0c, 0x03, 0x17, 0x3b, 0x3b];
    const bad: Array<[number, number]> = [
      [3, 0xdc], // year 1500 (0x05DC), before the Gregorian calendar
      [5, 13], // month
      [6, 32], // day
      [7, 24], // hours
      [8, 60], // minutes
      [9, 60], // seconds
    ];
    for (const [at, value] of bad) {
      const bytes = [...good];
      bytes[at] = value;
      if (at === 3) bytes[4] = 0x05;
      const error = decodeError(() => decodeGlucoseMeasurement(view(...bytes)));
      expect(error.code).toBe('INVALID_DATE_TIME');
    }
    expect(decodeGlucoseMeasurement(view(0x00, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0)).baseTime.year).toBe(0); // not known
  });
});

describe('decodeGlucoseFeature (0x2A51)', () => {
  it('reads the named features, multiple bond and time fault among them', () => {
    const features = decodeGlucoseFeature(view(0x00, 0x06)); // bits 9 and 10
    expect(features).toMatchObject({
      timeFault: true,
      multipleBond: true,
      lowBatteryDetection: false,
      reservedBits: 0,
    });
    expect(decodeGlucoseFeature(view(0x21, 0x00))).toMatchObject({
      lowBatteryDetection: true,
      resultHighLowDetection: true,
    });
  });

  it('round-trips every feature word and throws TRUNCATED when short', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (bits) => {
        const features = decodeGlucoseFeature(asDataView(encodeGlucoseFeature(bits)));
        expect(encodeGlucoseFeature(features)).toEqual(encodeGlucoseFeature(bits));
      }),
    );
    expect(decodeError(() => decodeGlucoseFeature(view(0x01))).code).toBe('TRUNCATED');
  });
});

describe('decodeCurrentTime (0x2A2B)', () => {
  it('reads the exact time, day of week, fractions and adjust reason', () => {
    const t = decodeCurrentTime(view(0xea, 0x07, 0x0c, 0x03, 0x0a, 0x1e, 0x05, 0x04, 0x80, 0x03));
    expect(t).toEqual({
      dateTime: { year: 2026, month: 12, day: 3, hours: 10, minutes: 30, seconds: 5 },
      dayOfWeekCode: 4,
      dayOfWeek: 'Thursday',
      fractions256: 128,
      adjustReason: {
        manualTimeUpdate: true,
        externalReferenceTimeUpdate: true,
        changeOfTimeZone: false,
        changeOfDst: false,
        reservedBits: 0,
      },
    });
  });

  it('round-trips through the encoder, which works out the day of week', () => {
    fc.assert(
      fc.property(
        dateTime,
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        (dt, fractions256, reason) => {
          const bytes = encodeCurrentTime({ dateTime: dt, fractions256, adjustReason: reason });
          const t = decodeCurrentTime(asDataView(bytes));
          expect(t.dateTime).toEqual(dt);
          expect(t.fractions256).toBe(fractions256);
          expect(
            encodeCurrentTime({
              dateTime: t.dateTime,
              dayOfWeekCode: t.dayOfWeekCode,
              fractions256,
              adjustReason: reason,
            }),
          ).toEqual(bytes);
          for (let length = 0; length < bytes.length; length++) {
            expect(decodeError(() => decodeCurrentTime(asDataView(bytes.subarray(0, length)))).code).toBe('TRUNCATED');
          }
        },
      ),
    );
    const thursday = encodeCurrentTime({
      dateTime: { year: 2026, month: 12, day: 3, hours: 0, minutes: 0, seconds: 0 },
    });
    expect(decodeCurrentTime(asDataView(thursday)).dayOfWeek).toBe('Thursday');
  });

  it('refuses a reserved day of week', () => {
    expect(decodeError(() => decodeCurrentTime(view(0xea, 0x07, 0x0c, 0x03, 0, 0, 0, 8, 0, 0))).code).toBe(
      'RESERVED_VALUE',
    );
  });
});

// The encoder of a value alone is exercised in sfloat.test.ts; here it only has to agree.
it('the measurement encoder writes the SFLOAT encoder’s bits', () => {
  const bytes = encodeGlucoseMeasurement({
    sequence: 1,
    baseTime: { year: 2026, month: 1, day: 1, hours: 0, minutes: 0, seconds: 0 },
    concentration: { value: 0.001, unit: 'kg/L' },
  });
  expect(decodeSfloat(bytes[10]! | (bytes[11]! << 8))).toEqual(decodeSfloat(encodeSfloat(0.001)));
});
