import { FieldReader } from './errors.ts';

/**
 * Record Access Control Point (0x2A52), the Glucose Service's way to ask for stored records. A
 * collector writes [op code, operator, operand...]; the meter notifies the matching Glucose
 * Measurements (each followed by its context, if any) and then indicates one response:
 *
 *   [0x06 response code, 0x00 null operator, request op code, response code value]
 *   [0x05 number of stored records response, 0x00, count uint16]  (for op code 0x04)
 *
 * The operand of a filtered request is [filter type, value...]: filter type 0x01 is the sequence
 * number (uint16), 0x02 the user facing time (base time + time offset), which few meters support.
 */

export const RACP_OP_CODES = {
  'report-stored-records': 0x01,
  'delete-stored-records': 0x02,
  abort: 0x03,
  'report-number-of-stored-records': 0x04,
  'number-of-stored-records-response': 0x05,
  'response-code': 0x06,
} as const;
export type RacpOpCode = keyof typeof RACP_OP_CODES;

export const RACP_OPERATORS = {
  null: 0x00,
  all: 0x01,
  'less-or-equal': 0x02,
  'greater-or-equal': 0x03,
  'within-range': 0x04,
  first: 0x05,
  last: 0x06,
} as const;
export type RacpOperator = keyof typeof RACP_OPERATORS;

export const RACP_FILTER_TYPES = { 'sequence-number': 0x01, 'user-facing-time': 0x02 } as const;

export const RACP_RESPONSE_CODES = {
  1: 'success',
  2: 'op code not supported',
  3: 'invalid operator',
  4: 'operator not supported',
  5: 'invalid operand',
  6: 'no records found',
  7: 'abort unsuccessful',
  8: 'procedure not completed',
  9: 'operand not supported',
} as const;
export type RacpResponseCode = (typeof RACP_RESPONSE_CODES)[keyof typeof RACP_RESPONSE_CODES];
export const RACP_RESPONSE_CODE_VALUES = Object.fromEntries(
  Object.entries(RACP_RESPONSE_CODES).map(([value, name]) => [name, Number(value)]),
) as Record<RacpResponseCode, number>;

/** The requests a collector sends (this page never deletes records on a patient's meter). */
export type RacpCommand =
  | {
      op: 'report-stored-records' | 'report-number-of-stored-records';
      operator: 'all' | 'first' | 'last';
    }
  | {
      op: 'report-stored-records' | 'report-number-of-stored-records';
      /** Records whose sequence number is at least `sequence`: how a transfer resumes. */
      operator: 'greater-or-equal';
      sequence: number;
    }
  | { op: 'abort' };

export function encodeRacpCommand(command: RacpCommand): Uint8Array<ArrayBuffer> {
  if (command.op === 'abort') return Uint8Array.of(RACP_OP_CODES.abort, RACP_OPERATORS.null);
  const opCode = RACP_OP_CODES[command.op];
  if (command.operator !== 'greater-or-equal') return Uint8Array.of(opCode, RACP_OPERATORS[command.operator]);
  const { sequence } = command;
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 0xffff) {
    throw new RangeError('a sequence number is a whole number from 0 to 65535');
  }
  return Uint8Array.of(
    opCode,
    RACP_OPERATORS['greater-or-equal'],
    RACP_FILTER_TYPES['sequence-number'],
    sequence & 0xff,
    sequence >> 8,
  );
}

export type RacpResponse =
  | {
      kind: 'response-code';
      /** The op code of the request this answers (0x01 report, 0x03 abort...). */
      requestOpCode: number;
      /** Its name, or null for an op code the specification does not define. */
      requestOp: RacpOpCode | null;
      responseCode: RacpResponseCode;
    }
  | { kind: 'number-of-records'; count: number };

const CHARACTERISTIC = 'Record Access Control Point';

function opCodeName(value: number): RacpOpCode | null {
  const entry = Object.entries(RACP_OP_CODES).find(([, code]) => code === value);
  return entry ? (entry[0] as RacpOpCode) : null;
}

/** Decodes an indication of the Record Access Control Point; throws GlucoseDecodeError otherwise. */
export function decodeRacpResponse(data: DataView): RacpResponse {
  const reader = new FieldReader(data, CHARACTERISTIC);
  const opCode = reader.uint8('op code');
  if (opCode !== RACP_OP_CODES['response-code'] && opCode !== RACP_OP_CODES['number-of-stored-records-response']) {
    reader.fail('UNEXPECTED_OP_CODE', 'the value is not a response (op code 0x05 or 0x06)', 'op code');
  }
  const operator = reader.uint8('operator');
  if (operator !== RACP_OPERATORS.null) reader.fail('MALFORMED', 'a response has the null operator', 'operator');

  if (opCode === RACP_OP_CODES['number-of-stored-records-response']) {
    return { kind: 'number-of-records', count: reader.uint16('number of records') };
  }
  const requestOpCode = reader.uint8('request op code');
  const value = reader.uint8('response code value');
  const responseCode = RACP_RESPONSE_CODES[value as keyof typeof RACP_RESPONSE_CODES];
  if (responseCode === undefined) {
    reader.fail('RESERVED_VALUE', 'its response code value is reserved', 'response code value');
  }
  return { kind: 'response-code', requestOpCode, requestOp: opCodeName(requestOpCode), responseCode };
}
