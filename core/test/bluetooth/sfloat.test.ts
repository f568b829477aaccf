import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSfloat, SFLOAT_SPECIAL_RAW } from '../../src/bluetooth/index.ts';
import { encodeSfloat, encodeSfloatParts } from '../support/glucose-meter.ts';

const SPECIAL_RAWS = new Set<number>(Object.values(SFLOAT_SPECIAL_RAW));
const raw16 = fc.integer({ min: 0, max: 0xffff });
const finiteRaw = raw16.filter((raw) => !SPECIAL_RAWS.has(raw));

/** The decimal m x 10^e as JavaScript reads its text: the double nearest to it. */
const decimal = (mantissa: number, exponent: number) => Number(`${mantissa}e${exponent}`);

describe('decodeSfloat (IEEE 11073-20601 SFLOAT)', () => {
  it('reads the precision examples of the HL7 Personal Health Device guide', () => {
    expect(decodeSfloat(0x0002)).toEqual({ kind: 'number', value: 2, mantissa: 2, exponent: 0 });
    expect(decodeSfloat(0xf014)).toEqual({ kind: 'number', value: 2, mantissa: 20, exponent: -1 });
    expect(decodeSfloat(0xe0c8)).toEqual({ kind: 'number', value: 2, mantissa: 200, exponent: -2 });
    expect(decodeSfloat(0x1002)).toEqual({ kind: 'number', value: 20, mantissa: 2, exponent: 1 });
  });

  it('names every special value, and only the exact raw values the standard names', () => {
    expect(decodeSfloat(0x07ff)).toEqual({ kind: 'NaN' });
    expect(decodeSfloat(0x0800)).toEqual({ kind: 'NRes' });
    expect(decodeSfloat(0x07fe)).toEqual({ kind: '+INFINITY' });
    expect(decodeSfloat(0x0802)).toEqual({ kind: '-INFINITY' });
    expect(decodeSfloat(0x0801)).toEqual({ kind: 'reserved' });
    // The same mantissas with another exponent are numbers.
    expect(decodeSfloat(0x17ff)).toMatchObject({ kind: 'number', value: 20470 });
    expect(decodeSfloat(0xf800)).toMatchObject({ kind: 'number', value: -204.8 });
  });

  it('reads two’s complement mantissas and exponents, negative exponents without float noise', () => {
    expect(decodeSfloat(0xf037)).toMatchObject({ value: 5.5, mantissa: 55, exponent: -1 });
    expect(decodeSfloat(0x0fff)).toMatchObject({ value: -1, mantissa: -1, exponent: 0 });
    expect(decodeSfloat(0xffff)).toMatchObject({ value: -0.1, mantissa: -1, exponent: -1 });
    expect(decodeSfloat(0x8001)).toMatchObject({ value: 1e-8, mantissa: 1, exponent: -8 });
    expect(decodeSfloat(0x77fd)).toMatchObject({ value: 2045e7, mantissa: 2045, exponent: 7 });
    expect(decodeSfloat(0xd3e7)).toMatchObject({ value: 0.999, mantissa: 999, exponent: -3 }); // not 0.9990000000000001
    expect(decodeSfloat(0xb064)).toMatchObject({ value: 0.001, mantissa: 100, exponent: -5 }); // 100 mg/dL in kg/L
    const zero = decodeSfloat(0xf000);
    expect(zero.kind === 'number' && Object.is(zero.value, 0)).toBe(true); // never -0
  });

  it('decodes any 16-bit raw without throwing, to the decimal its digits write', () => {
    fc.assert(
      fc.property(raw16, (raw) => {
        const value = decodeSfloat(raw);
        expect(value.kind === 'number').toBe(!SPECIAL_RAWS.has(raw));
        if (value.kind === 'number') expect(value.value).toBe(decimal(value.mantissa, value.exponent) + 0);
      }),
    );
  });

  it('refuses what is not a 16-bit raw value', () => {
    for (const raw of [-1, 0x10000, 1.5, Number.NaN]) expect(() => decodeSfloat(raw)).toThrow(RangeError);
  });
});

describe('encodeSfloat (test support), the inverse', () => {
  it('writes every mantissa and exponent back to its raw bits', () => {
    fc.assert(
      fc.property(finiteRaw, (raw) => {
        const value = decodeSfloat(raw);
        if (value.kind !== 'number') throw new Error('unreachable');
        expect(encodeSfloatParts(value.mantissa, value.exponent)).toBe(raw);
        expect(encodeSfloat(value)).toBe(raw);
      }),
    );
  });

  it('writes every finite representable number so that it decodes to the same number', () => {
    fc.assert(
      fc.property(finiteRaw, (raw) => {
        const value = decodeSfloat(raw);
        if (value.kind !== 'number') throw new Error('unreachable');
        const again = decodeSfloat(encodeSfloat(value.value));
        expect(again).toMatchObject({ kind: 'number', value: value.value });
      }),
    );
  });

  it('chooses the shortest exact form, and the specials', () => {
    expect(encodeSfloat(5.5)).toBe(0xf037);
    expect(encodeSfloat(0.001)).toBe(0xd001);
    expect(encodeSfloat(20)).toBe(0x1002);
    expect(encodeSfloat(Number.NaN)).toBe(0x07ff);
    expect(encodeSfloat(Infinity)).toBe(0x07fe);
    expect(encodeSfloat(-Infinity)).toBe(0x0802);
    for (const [kind, raw] of Object.entries(SFLOAT_SPECIAL_RAW)) {
      expect(encodeSfloat({ kind: kind as keyof typeof SFLOAT_SPECIAL_RAW })).toBe(raw);
    }
  });

  it('rounds a number with no exact form to the most precise one that fits', () => {
    fc.assert(
      fc.property(fc.double({ min: -2045, max: 2045, noNaN: true }), (x) => {
        const value = decodeSfloat(encodeSfloat(x));
        if (value.kind !== 'number') throw new Error('a finite number encodes as a number');
        expect(Math.abs(value.value - x)).toBeLessThanOrEqual(0.5 * 10 ** value.exponent + 1e-12);
      }),
    );
    expect(() => encodeSfloat(3e10)).toThrow(RangeError);
    // 2046 x 10^0 is the raw value of +INFINITY, so 2046 has no exact form.
    expect(() => encodeSfloatParts(2046, 0)).toThrow(RangeError);
  });
});
