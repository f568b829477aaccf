/**
 * IEEE 11073-20601 SFLOAT (annex F.8): 16 bits, a 4-bit two's complement exponent (base 10) in the
 * high nibble and a 12-bit two's complement mantissa below it; value = mantissa x 10^exponent.
 * Five raw values are not numbers: 0x07FF NaN, 0x0800 NRes (not at this resolution), 0x07FE
 * +INFINITY, 0x0802 -INFINITY and 0x0801, reserved. They are the exact raw values the standard
 * names (exponent 0), so 0x17FF is the number 2047 x 10^1.
 */

export const SFLOAT_SPECIAL_RAW = {
  NaN: 0x07ff,
  NRes: 0x0800,
  '+INFINITY': 0x07fe,
  '-INFINITY': 0x0802,
  reserved: 0x0801,
} as const;
export type SfloatSpecial = keyof typeof SFLOAT_SPECIAL_RAW;

export type SfloatValue =
  | {
      kind: 'number';
      /** mantissa x 10^exponent as the nearest double: 55 and -1 give exactly the double 5.5. */
      value: number;
      /** -2048..2047 */
      mantissa: number;
      /** -8..7 */
      exponent: number;
    }
  | { kind: SfloatSpecial };

export const SFLOAT_MANTISSA_MIN = -2048;
export const SFLOAT_MANTISSA_MAX = 2047;
export const SFLOAT_EXPONENT_MIN = -8;
export const SFLOAT_EXPONENT_MAX = 7;

const SPECIAL_BY_RAW = new Map<number, SfloatSpecial>(
  Object.entries(SFLOAT_SPECIAL_RAW).map(([kind, raw]) => [raw, kind as SfloatSpecial]),
);

/**
 * The number mantissa x 10^exponent, computed so that it is the double nearest to the decimal:
 * a division by an exact power of ten is correctly rounded, a multiplication by 0.1 is not.
 */
export function sfloatNumber(mantissa: number, exponent: number): number {
  const value = exponent >= 0 ? mantissa * 10 ** exponent : mantissa / 10 ** -exponent;
  return value + 0; // no -0
}

/** Decodes any 16-bit raw SFLOAT (0..0xFFFF); never throws for one. */
export function decodeSfloat(raw: number): SfloatValue {
  if (!Number.isInteger(raw) || raw < 0 || raw > 0xffff) {
    throw new RangeError('an SFLOAT is a 16-bit value: a whole number from 0 to 0xFFFF');
  }
  const special = SPECIAL_BY_RAW.get(raw);
  if (special !== undefined) return { kind: special };
  const mantissaBits = raw & 0x0fff;
  const exponentBits = raw >> 12;
  const mantissa = mantissaBits >= 0x0800 ? mantissaBits - 0x1000 : mantissaBits;
  const exponent = exponentBits >= 0x8 ? exponentBits - 0x10 : exponentBits;
  return { kind: 'number', value: sfloatNumber(mantissa, exponent), mantissa, exponent };
}

/** Reads an SFLOAT at a byte offset (little-endian, as every GATT field). */
export function readSfloat(data: DataView, offset: number): SfloatValue {
  return decodeSfloat(data.getUint16(offset, true));
}
