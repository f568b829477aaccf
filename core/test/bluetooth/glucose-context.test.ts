import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeGlucoseMeasurementContext, GlucoseDecodeError } from '../../src/bluetooth/index.ts';
import { asDataView, contextFieldsOf, encodeGlucoseMeasurementContext } from '../support/glucose-meter.ts';
import { contextFields } from './arbitraries.ts';

const view = (...bytes: number[]) => asDataView(Uint8Array.from(bytes));

describe('decodeGlucoseMeasurementContext (0x2A34)', () => {
  it('reads a context with every field, laid out by hand from the specification', () => {
    const bytes = [
      0xff, // flags: every field, medication in litres, extended flags
      0x2a,
      0x00, // sequence 42
      0x00, // extended flags
      0x01,
      0x32,
      0xd0, // breakfast, 50 x 10^-3 kg
      0x01, // preprandial
      0x21, // tester self (low nibble), health major issues (high nibble)
      0x08,
      0x07, // exercise 1800 s
      0x32, // 50 %
      0x01,
      0x04,
      0xa0, // rapid acting insulin, 4 x 10^-6 L (4 units at U-100: 0.04 mL)
      0x3a,
      0xf0, // HbA1c 5.8 %
    ];
    const c = decodeGlucoseMeasurementContext(view(...bytes));
    expect(c).toEqual({
      flags: 0xff,
      sequence: 42,
      extendedFlags: 0,
      carbohydrate: {
        id: 'breakfast',
        idCode: 1,
        kilograms: { kind: 'number', value: 0.05, mantissa: 50, exponent: -3 },
      },
      meal: 'preprandial',
      mealCode: 1,
      tester: 'self',
      testerCode: 1,
      health: 'major health issues',
      healthCode: 2,
      exercise: { durationSeconds: 1800, overrun: false, intensityPercent: 50 },
      medication: {
        id: 'rapid acting insulin',
        idCode: 1,
        amount: { kind: 'number', value: 0.000004, mantissa: 4, exponent: -6 },
        unit: 'L',
      },
      hba1cPercent: { kind: 'number', value: 5.8, mantissa: 58, exponent: -1 },
    });
  });

  it('reads a meal alone, and names every meal', () => {
    const names = [0, 1, 2, 3, 4, 5, 6, 255].map(
      (code) => decodeGlucoseMeasurementContext(view(0x02, 0x05, 0x00, code)).meal,
    );
    expect(names).toEqual([
      'reserved',
      'preprandial',
      'postprandial',
      'fasting',
      'casual',
      'bedtime',
      'reserved',
      'reserved',
    ]);
    const c = decodeGlucoseMeasurementContext(view(0x02, 0x05, 0x00, 0x02));
    expect(c).toMatchObject({
      sequence: 5,
      carbohydrate: null,
      tester: null,
      health: null,
      exercise: null,
      medication: null,
    });
    expect(c.hba1cPercent).toBeNull();
  });

  it('knows the exercise overrun and the medication in kilograms', () => {
    const c = decodeGlucoseMeasurementContext(view(0x18, 0x01, 0x00, 0xff, 0xff, 0x64, 0x04, 0x01, 0x90));
    expect(c.exercise).toEqual({ durationSeconds: 65535, overrun: true, intensityPercent: 100 });
    expect(c.medication).toMatchObject({ id: 'long acting insulin', unit: 'kg', amount: { value: 1e-7 } });
  });

  it('round-trips every combination of fields, byte for byte', () => {
    fc.assert(
      fc.property(contextFields, (fields) => {
        const bytes = encodeGlucoseMeasurementContext(fields);
        const c = decodeGlucoseMeasurementContext(asDataView(bytes));
        expect(c.sequence).toBe(fields.sequence);
        expect(c.extendedFlags).toBe(fields.extendedFlags);
        expect(c.mealCode).toBe(fields.meal);
        expect(c.carbohydrate && { id: c.carbohydrate.idCode, kilograms: c.carbohydrate.kilograms }).toEqual(
          fields.carbohydrate,
        );
        expect(c.testerCode === null ? null : { tester: c.testerCode, health: c.healthCode }).toEqual(
          fields.testerHealth,
        );
        expect(c.hba1cPercent).toEqual(fields.hba1cPercent);
        expect(contextFieldsOf(c)).toEqual(fields);
        expect(encodeGlucoseMeasurementContext(contextFieldsOf(c))).toEqual(bytes);
      }),
    );
  });

  it('throws TRUNCATED for every prefix', () => {
    fc.assert(
      fc.property(contextFields, (fields) => {
        const bytes = encodeGlucoseMeasurementContext(fields);
        for (let length = 0; length < bytes.length; length++) {
          let thrown: unknown;
          try {
            decodeGlucoseMeasurementContext(asDataView(bytes.subarray(0, length)));
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(GlucoseDecodeError);
          expect((thrown as GlucoseDecodeError).code).toBe('TRUNCATED');
        }
      }),
    );
  });
});
