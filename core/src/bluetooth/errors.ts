/**
 * What a decoder throws on bytes it cannot read as the specification lays them out. The decoders
 * never return a half-read or guessed value: a caller gets a whole record or this error.
 */

export const GLUCOSE_DECODE_ERROR_CODES = [
  /** Fewer bytes than the flags say the record holds. */
  'TRUNCATED',
  /** A Date Time field out of its range (month 13, minute 60...). Zero, "not known", is allowed. */
  'INVALID_DATE_TIME',
  /** A Record Access Control Point value that is not a response (another op code). */
  'UNEXPECTED_OP_CODE',
  /** A value the specification reserves for future use where a defined one is required. */
  'RESERVED_VALUE',
  /** Bytes in the wrong shape for their op code (a response with an operator, a wrong length). */
  'MALFORMED',
] as const;
export type GlucoseDecodeErrorCode = (typeof GLUCOSE_DECODE_ERROR_CODES)[number];

export class GlucoseDecodeError extends Error {
  override readonly name = 'GlucoseDecodeError';
  constructor(
    readonly code: GlucoseDecodeErrorCode,
    /** The characteristic being decoded, e.g. 'Glucose Measurement'. */
    readonly characteristic: string,
    message: string,
    /** The field at fault, e.g. 'sequence'. */
    readonly field?: string,
  ) {
    super(`${characteristic}: ${message}`);
  }
}

/** Reads little-endian fields in order, throwing TRUNCATED (naming the field) past the end. */
export class FieldReader {
  private at = 0;
  constructor(
    private readonly data: DataView,
    private readonly characteristic: string,
  ) {}

  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.data.byteLength - this.at;
  }

  private take(size: number, field: string): number {
    if (this.at + size > this.data.byteLength) {
      throw new GlucoseDecodeError(
        'TRUNCATED',
        this.characteristic,
        `the value ends before its ${field} (needs ${this.at + size} bytes, has ${this.data.byteLength})`,
        field,
      );
    }
    const start = this.at;
    this.at += size;
    return start;
  }

  uint8(field: string): number {
    return this.data.getUint8(this.take(1, field));
  }

  uint16(field: string): number {
    return this.data.getUint16(this.take(2, field), true);
  }

  sint16(field: string): number {
    return this.data.getInt16(this.take(2, field), true);
  }

  fail(code: GlucoseDecodeErrorCode, message: string, field?: string): never {
    throw new GlucoseDecodeError(code, this.characteristic, message, field);
  }
}
