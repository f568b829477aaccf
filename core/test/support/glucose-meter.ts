/**
 * A Bluetooth glucose meter in software, for unit tests and the `/meter` page's browser test:
 * encoders that are the exact inverse of the decoders in `@glucoboard/core/bluetooth`, built from
 * the same field layout of the Glucose Service 1.0, and a meter that answers Record Access Control
 * Point requests the way a real one does (Nordic's and the GLS test suite's behaviour).
 *
 * Pure: no clock, no I/O, browser-safe (Uint8Array and DataView only).
 */
import {
  CARBOHYDRATE_IDS,
  CONTEXT_FLAGS,
  GLUCOSE_FEATURE_BITS,
  HEALTH,
  MEALS,
  MEASUREMENT_FLAGS,
  MEDICATION_IDS,
  RACP_FILTER_TYPES,
  RACP_OP_CODES,
  RACP_OPERATORS,
  RACP_RESPONSE_CODE_VALUES,
  SAMPLE_LOCATIONS,
  SAMPLE_TYPES,
  SENSOR_STATUS_BITS,
  SFLOAT_EXPONENT_MAX,
  SFLOAT_EXPONENT_MIN,
  SFLOAT_SPECIAL_RAW,
  TESTERS,
  dateTimeRangeProblem,
  decodeSfloat,
  sfloatNumber,
  type CarbohydrateId,
  type ConcentrationUnit,
  type DateTime,
  type GlucoseFeatureBit,
  type GlucoseMeasurement,
  type GlucoseMeasurementContext,
  type Health,
  type Meal,
  type MedicationId,
  type RacpResponseCode,
  type SampleLocation,
  type SampleType,
  type SensorStatusBit,
  type SfloatSpecial,
  type SfloatValue,
  type Tester,
} from '../../src/bluetooth/index.ts';

// --- SFLOAT -------------------------------------------------------------------------------------

/** An SFLOAT to encode: a number (the shortest exact form is chosen), its digits, or a special. */
export type SfloatInput = number | { mantissa: number; exponent: number } | SfloatValue | { kind: SfloatSpecial };

/** The raw 16 bits of a mantissa and exponent; refuses the five raw values that are specials. */
export function encodeSfloatParts(mantissa: number, exponent: number): number {
  if (!Number.isInteger(mantissa) || mantissa < -2048 || mantissa > 2047)
    throw new RangeError('mantissa out of 12 bits');
  if (!Number.isInteger(exponent) || exponent < SFLOAT_EXPONENT_MIN || exponent > SFLOAT_EXPONENT_MAX) {
    throw new RangeError('exponent out of 4 bits');
  }
  const raw = ((exponent & 0x0f) << 12) | (mantissa & 0x0fff);
  if (decodeSfloat(raw).kind !== 'number')
    throw new RangeError('these digits are a special SFLOAT value, not a number');
  return raw;
}

/**
 * The raw SFLOAT of a value. A number gets its shortest exact form (5.5 -> 55 x 10^-1); one with no
 * exact form gets the most precise rounding that fits. Throws RangeError beyond +-2045 x 10^7.
 */
export function encodeSfloat(input: SfloatInput): number {
  if (typeof input !== 'number') {
    if ('mantissa' in input) return encodeSfloatParts(input.mantissa, input.exponent);
    return SFLOAT_SPECIAL_RAW[input.kind];
  }
  if (!Number.isFinite(input)) {
    if (Number.isNaN(input)) return SFLOAT_SPECIAL_RAW.NaN;
    return input > 0 ? SFLOAT_SPECIAL_RAW['+INFINITY'] : SFLOAT_SPECIAL_RAW['-INFINITY'];
  }
  // Exact: the largest exponent whose mantissa gives the number back.
  for (let exponent = SFLOAT_EXPONENT_MAX; exponent >= SFLOAT_EXPONENT_MIN; exponent--) {
    const mantissa = Math.round(exponent >= 0 ? input / 10 ** exponent : input * 10 ** -exponent);
    if (Math.abs(mantissa) <= 2047 && sfloatNumber(mantissa, exponent) === input + 0) {
      const raw = ((exponent & 0x0f) << 12) | (mantissa & 0x0fff);
      if (decodeSfloat(raw).kind === 'number') return raw;
    }
  }
  // Rounded: the smallest exponent whose mantissa fits (and is no special).
  for (let exponent = SFLOAT_EXPONENT_MIN; exponent <= SFLOAT_EXPONENT_MAX; exponent++) {
    const mantissa = Math.round(exponent >= 0 ? input / 10 ** exponent : input * 10 ** -exponent);
    if (Math.abs(mantissa) <= 2045) return ((exponent & 0x0f) << 12) | (mantissa & 0x0fff);
  }
  throw new RangeError('the number is beyond what an SFLOAT holds (+-2045 x 10^7)');
}

// --- Byte writer --------------------------------------------------------------------------------

class FieldWriter {
  private readonly bytes: number[] = [];
  uint8(value: number, field: string): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`${field} must be a uint8`);
    this.bytes.push(value);
    return this;
  }
  uint16(value: number, field: string): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`${field} must be a uint16`);
    this.bytes.push(value & 0xff, value >> 8);
    return this;
  }
  sint16(value: number, field: string): this {
    if (!Number.isInteger(value) || value < -0x8000 || value > 0x7fff)
      throw new RangeError(`${field} must be a sint16`);
    return this.uint16(value & 0xffff, field);
  }
  dateTime(t: DateTime, field: string): this {
    if (dateTimeRangeProblem(t) !== null) throw new RangeError(`${field} is out of range`);
    return this.uint16(t.year, field)
      .uint8(t.month, field)
      .uint8(t.day, field)
      .uint8(t.hours, field)
      .uint8(t.minutes, field)
      .uint8(t.seconds, field);
  }
  done(): Uint8Array<ArrayBuffer> {
    return Uint8Array.from(this.bytes);
  }
}

function codeOf(table: Record<number, string>, value: string | number, field: string): number {
  if (typeof value === 'number') return value;
  const entry = Object.entries(table).find(([, name]) => name === value);
  if (!entry) throw new RangeError(`${field}: no code for '${value}'`);
  return Number(entry[0]);
}

function nibble(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 15) throw new RangeError(`${field} must be a nibble (0-15)`);
  return value;
}

// --- Glucose Measurement ------------------------------------------------------------------------

export interface GlucoseMeasurementFields {
  sequence: number;
  baseTime: DateTime;
  /** Absent or null: no time offset field. */
  timeOffsetMinutes?: number | null;
  /** Absent or null: no concentration, type or location. */
  concentration?: {
    value: SfloatInput;
    unit: ConcentrationUnit;
    /** Name or code (0-15); capillary whole blood if left out. */
    sampleType?: SampleType | number;
    /** Name or code (0-15); finger if left out. */
    sampleLocation?: SampleLocation | number;
  } | null;
  /** Named bits (the others false), or the raw uint16. Absent or null: no annunciation field. */
  sensorStatus?: (Partial<Record<SensorStatusBit, boolean>> & { reservedBits?: number }) | number | null;
  contextFollows?: boolean;
  /** Bits 5-7 of the flags, reserved: a receiver must ignore them. */
  reservedFlags?: number;
}

export function sensorStatusBits(status: NonNullable<GlucoseMeasurementFields['sensorStatus']>): number {
  if (typeof status === 'number') return status;
  let bits = status.reservedBits ?? 0;
  SENSOR_STATUS_BITS.forEach((name, bit) => {
    if (status[name]) bits |= 1 << bit;
  });
  return bits;
}

export function encodeGlucoseMeasurement(fields: GlucoseMeasurementFields): Uint8Array<ArrayBuffer> {
  const { concentration, sensorStatus } = fields;
  const hasOffset = fields.timeOffsetMinutes !== undefined && fields.timeOffsetMinutes !== null;
  let flags = fields.reservedFlags ?? 0;
  if ((flags & 0x1f) !== 0) throw new RangeError('reservedFlags may only set bits 5-7');
  if (hasOffset) flags |= MEASUREMENT_FLAGS.timeOffsetPresent;
  if (concentration) flags |= MEASUREMENT_FLAGS.concentrationPresent;
  if (concentration?.unit === 'mol/L') flags |= MEASUREMENT_FLAGS.unitMolPerLitre;
  if (sensorStatus !== undefined && sensorStatus !== null) flags |= MEASUREMENT_FLAGS.sensorStatusPresent;
  if (fields.contextFollows) flags |= MEASUREMENT_FLAGS.contextFollows;

  const writer = new FieldWriter()
    .uint8(flags, 'flags')
    .uint16(fields.sequence, 'sequence')
    .dateTime(fields.baseTime, 'baseTime');
  if (hasOffset) writer.sint16(fields.timeOffsetMinutes!, 'timeOffsetMinutes');
  if (concentration) {
    const type = nibble(
      codeOf(SAMPLE_TYPES, concentration.sampleType ?? 'capillary whole blood', 'sampleType'),
      'sampleType',
    );
    const location = nibble(
      codeOf(SAMPLE_LOCATIONS, concentration.sampleLocation ?? 'finger', 'sampleLocation'),
      'sampleLocation',
    );
    writer
      .uint16(encodeSfloat(concentration.value), 'concentration')
      .uint8(type | (location << 4), 'type-sample location');
  }
  if (sensorStatus !== undefined && sensorStatus !== null)
    writer.uint16(sensorStatusBits(sensorStatus), 'sensorStatus');
  return writer.done();
}

/** The fields that encode back to the bytes a measurement was decoded from. */
export function measurementFieldsOf(m: GlucoseMeasurement): GlucoseMeasurementFields {
  return {
    sequence: m.sequence,
    baseTime: { ...m.baseTime },
    timeOffsetMinutes: m.timeOffsetMinutes,
    concentration:
      m.concentration === null
        ? null
        : {
            value: m.concentration.value,
            unit: m.concentration.unit,
            sampleType: m.sampleTypeCode!,
            sampleLocation: m.sampleLocationCode!,
          },
    sensorStatus: m.sensorStatus,
    contextFollows: m.contextFollows,
    reservedFlags: m.flags & 0xe0,
  };
}

// --- Glucose Measurement Context ----------------------------------------------------------------

export interface GlucoseMeasurementContextFields {
  sequence: number;
  extendedFlags?: number | null;
  carbohydrate?: { id: CarbohydrateId | number; kilograms: SfloatInput } | null;
  meal?: Meal | number | null;
  /** Tester and health share a byte: give both or neither ('not available' is 15). */
  testerHealth?: { tester: Tester | number; health: Health | number } | null;
  exercise?: { durationSeconds: number; intensityPercent: number } | null;
  medication?: { id: MedicationId | number; amount: SfloatInput; unit: 'kg' | 'L' } | null;
  hba1cPercent?: SfloatInput | null;
}

const present = <T>(value: T | null | undefined): value is T => value !== undefined && value !== null;

export function encodeGlucoseMeasurementContext(fields: GlucoseMeasurementContextFields): Uint8Array<ArrayBuffer> {
  const { extendedFlags, carbohydrate, meal, testerHealth, exercise, medication, hba1cPercent } = fields;
  let flags = 0;
  if (present(carbohydrate)) flags |= CONTEXT_FLAGS.carbohydratePresent;
  if (present(meal)) flags |= CONTEXT_FLAGS.mealPresent;
  if (present(testerHealth)) flags |= CONTEXT_FLAGS.testerHealthPresent;
  if (present(exercise)) flags |= CONTEXT_FLAGS.exercisePresent;
  if (present(medication)) flags |= CONTEXT_FLAGS.medicationPresent;
  if (medication?.unit === 'L') flags |= CONTEXT_FLAGS.medicationInLitres;
  if (present(hba1cPercent)) flags |= CONTEXT_FLAGS.hba1cPresent;
  if (present(extendedFlags)) flags |= CONTEXT_FLAGS.extendedFlagsPresent;

  const writer = new FieldWriter().uint8(flags, 'flags').uint16(fields.sequence, 'sequence');
  if (present(extendedFlags)) writer.uint8(extendedFlags, 'extendedFlags');
  if (present(carbohydrate)) {
    writer
      .uint8(codeOf(CARBOHYDRATE_IDS, carbohydrate.id, 'carbohydrate id'), 'carbohydrate id')
      .uint16(encodeSfloat(carbohydrate.kilograms), 'carbohydrate');
  }
  if (present(meal)) writer.uint8(codeOf(MEALS, meal, 'meal'), 'meal');
  if (present(testerHealth)) {
    const tester = nibble(codeOf(TESTERS, testerHealth.tester, 'tester'), 'tester');
    const health = nibble(codeOf(HEALTH, testerHealth.health, 'health'), 'health');
    writer.uint8(tester | (health << 4), 'tester-health');
  }
  if (present(exercise)) {
    writer.uint16(exercise.durationSeconds, 'exercise duration').uint8(exercise.intensityPercent, 'exercise intensity');
  }
  if (present(medication)) {
    writer
      .uint8(codeOf(MEDICATION_IDS, medication.id, 'medication id'), 'medication id')
      .uint16(encodeSfloat(medication.amount), 'medication');
  }
  if (present(hba1cPercent)) writer.uint16(encodeSfloat(hba1cPercent), 'HbA1c');
  return writer.done();
}

/** The fields that encode back to the bytes a context was decoded from. */
export function contextFieldsOf(c: GlucoseMeasurementContext): GlucoseMeasurementContextFields {
  return {
    sequence: c.sequence,
    extendedFlags: c.extendedFlags,
    carbohydrate: c.carbohydrate && { id: c.carbohydrate.idCode, kilograms: c.carbohydrate.kilograms },
    meal: c.mealCode,
    testerHealth: c.testerCode === null ? null : { tester: c.testerCode, health: c.healthCode! },
    exercise: c.exercise && {
      durationSeconds: c.exercise.durationSeconds,
      intensityPercent: c.exercise.intensityPercent,
    },
    medication: c.medication && { id: c.medication.idCode, amount: c.medication.amount, unit: c.medication.unit },
    hba1cPercent: c.hba1cPercent,
  };
}

// --- Glucose Feature, Current Time --------------------------------------------------------------

export type GlucoseFeatureFields = (Partial<Record<GlucoseFeatureBit, boolean>> & { reservedBits?: number }) | number;

export function encodeGlucoseFeature(features: GlucoseFeatureFields): Uint8Array<ArrayBuffer> {
  let bits = typeof features === 'number' ? features : (features.reservedBits ?? 0);
  if (typeof features !== 'number') {
    GLUCOSE_FEATURE_BITS.forEach((name, bit) => {
      if (features[name]) bits |= 1 << bit;
    });
  }
  return new FieldWriter().uint16(bits, 'features').done();
}

export interface CurrentTimeFields {
  dateTime: DateTime;
  /** 1 Monday ... 7 Sunday, 0 not known; worked out from the date if left out. */
  dayOfWeekCode?: number;
  fractions256?: number;
  /** The Adjust Reason byte. */
  adjustReason?: number;
}

/** 1 Monday ... 7 Sunday of a known date, else 0. */
function dayOfWeekOf(t: DateTime): number {
  if (t.year === 0 || t.month === 0 || t.day === 0) return 0;
  const d = new Date(0);
  d.setUTCFullYear(t.year, t.month - 1, t.day);
  return ((d.getUTCDay() + 6) % 7) + 1;
}

export function encodeCurrentTime(fields: CurrentTimeFields): Uint8Array<ArrayBuffer> {
  const writer = new FieldWriter().dateTime(fields.dateTime, 'dateTime');
  return writer
    .uint8(fields.dayOfWeekCode ?? dayOfWeekOf(fields.dateTime), 'day of week')
    .uint8(fields.fractions256 ?? 0, 'fractions256')
    .uint8(fields.adjustReason ?? 0, 'adjust reason')
    .done();
}

// --- The meter ----------------------------------------------------------------------------------

/** A stored record: a measurement and, optionally, its context (same sequence number). */
export interface StoredRecord {
  /** contextFollows is set from whether `context` is given. */
  measurement: Omit<GlucoseMeasurementFields, 'contextFollows'>;
  /** The sequence number is the measurement's; any other given here is overwritten. */
  context?: Omit<GlucoseMeasurementContextFields, 'sequence'>;
}

export interface RacpExchange {
  /** Glucose Measurement (0x2A18) and Glucose Measurement Context (0x2A34) values, in order. */
  notifications: Array<Uint8Array<ArrayBuffer>>;
  /** Which characteristic each notification is on, in the same order. */
  notifiedOn: Array<'measurement' | 'context'>;
  /** The Record Access Control Point indication; null when the connection was lost first. */
  indication: Uint8Array<ArrayBuffer> | null;
  /** The transfer was cut (see `loseConnectionAfter`): no indication came. */
  connectionLost: boolean;
}

export interface EmulatedGlucoseMeterOptions {
  serialNumber: string;
  records?: StoredRecord[];
  /** The meter's clock (Current Time Service); absent: the meter has no such service. */
  clock?: CurrentTimeFields;
  features?: GlucoseFeatureFields;
}

/** A meter that supports report / number of records with all, first, last, <=, >=, range by sequence number. */
export class EmulatedGlucoseMeter {
  readonly serialNumber: string;
  clock: CurrentTimeFields | undefined;
  features: GlucoseFeatureFields;
  private readonly stored: StoredRecord[] = [];
  private cutAfter: number | null = null;

  constructor(options: EmulatedGlucoseMeterOptions) {
    this.serialNumber = options.serialNumber;
    this.clock = options.clock;
    this.features = options.features ?? {
      lowBatteryDetection: true,
      sensorMalfunctionDetection: true,
      sensorSampleSize: true,
      stripInsertionErrorDetection: true,
      resultHighLowDetection: true,
      timeFault: true,
      multipleBond: true,
    };
    for (const record of options.records ?? []) this.addRecord(record);
  }

  /** A new measurement on the meter (kept in sequence-number order). */
  addRecord(record: StoredRecord): void {
    encodeGlucoseMeasurement(record.measurement); // fails now, not mid-transfer
    this.stored.push(record);
    this.stored.sort((a, b) => a.measurement.sequence - b.measurement.sequence);
  }

  get records(): readonly StoredRecord[] {
    return this.stored;
  }

  /**
   * The next report of stored records stops after `records` records (their contexts included) with
   * no indication, as when the meter goes out of range; it then works normally again.
   */
  loseConnectionAfter(records: number): void {
    this.cutAfter = records;
  }

  featureBytes(): Uint8Array<ArrayBuffer> {
    return encodeGlucoseFeature(this.features);
  }

  hasCurrentTimeService(): boolean {
    return this.clock !== undefined;
  }

  currentTimeBytes(): Uint8Array<ArrayBuffer> {
    if (this.clock === undefined) throw new Error('this meter has no Current Time Service');
    return encodeCurrentTime(this.clock);
  }

  /** The Serial Number String (UTF-8). */
  serialNumberBytes(): Uint8Array<ArrayBuffer> {
    return new TextEncoder().encode(this.serialNumber);
  }

  /** The notifications and the indication a write of `bytes` to the control point brings. */
  handleRacpWrite(bytes: Uint8Array): RacpExchange {
    const opCode = bytes[0];
    const operator = bytes[1];
    const operand = bytes.subarray(2);
    if (opCode === undefined) return respond(0, 'op code not supported');

    if (opCode === RACP_OP_CODES.abort) {
      // Transfers here finish within the write, so there is never one left to stop: success.
      if (operator !== RACP_OPERATORS.null) return respond(opCode, 'invalid operator');
      if (operand.length !== 0) return respond(opCode, 'invalid operand');
      return respond(opCode, 'success');
    }
    if (
      opCode !== RACP_OP_CODES['report-stored-records'] &&
      opCode !== RACP_OP_CODES['report-number-of-stored-records']
    ) {
      return respond(opCode, 'op code not supported'); // delete included: a patient's meter is read only
    }
    const selection = this.select(operator, operand);
    if (typeof selection === 'string') return respond(opCode, selection);

    if (opCode === RACP_OP_CODES['report-number-of-stored-records']) {
      const count = selection.length;
      return {
        notifications: [],
        notifiedOn: [],
        indication: Uint8Array.of(RACP_OP_CODES['number-of-stored-records-response'], 0, count & 0xff, count >> 8),
        connectionLost: false,
      };
    }
    if (selection.length === 0) return respond(opCode, 'no records found');

    const cut = this.cutAfter;
    this.cutAfter = null;
    const exchange: RacpExchange = { notifications: [], notifiedOn: [], indication: null, connectionLost: false };
    for (const [index, record] of selection.entries()) {
      if (cut !== null && index >= cut) return { ...exchange, connectionLost: true };
      const hasContext = record.context !== undefined;
      exchange.notifications.push(encodeGlucoseMeasurement({ ...record.measurement, contextFollows: hasContext }));
      exchange.notifiedOn.push('measurement');
      if (hasContext) {
        exchange.notifications.push(
          encodeGlucoseMeasurementContext({ ...record.context, sequence: record.measurement.sequence }),
        );
        exchange.notifiedOn.push('context');
      }
    }
    if (cut !== null && selection.length > cut) return { ...exchange, connectionLost: true };
    return { ...exchange, indication: responseCode(opCode, 'success') };
  }

  /** The records an operator and operand pick, or the response code refusing them. */
  private select(operator: number | undefined, operand: Uint8Array): StoredRecord[] | RacpResponseCode {
    const all = this.stored;
    switch (operator) {
      case RACP_OPERATORS.all:
      case RACP_OPERATORS.first:
      case RACP_OPERATORS.last:
        if (operand.length !== 0) return 'invalid operand';
        if (operator === RACP_OPERATORS.all) return [...all];
        if (all.length === 0) return [];
        return [operator === RACP_OPERATORS.first ? all[0]! : all[all.length - 1]!];
      case RACP_OPERATORS['less-or-equal']:
      case RACP_OPERATORS['greater-or-equal']:
      case RACP_OPERATORS['within-range']: {
        const filterType = operand[0];
        if (filterType === RACP_FILTER_TYPES['user-facing-time']) return 'operand not supported';
        if (filterType !== RACP_FILTER_TYPES['sequence-number']) {
          return filterType === undefined || filterType === 0 ? 'invalid operand' : 'operand not supported';
        }
        const range = operator === RACP_OPERATORS['within-range'];
        if (operand.length !== (range ? 5 : 3)) return 'invalid operand';
        const first = operand[1]! | (operand[2]! << 8);
        if (!range) {
          return all.filter(({ measurement: { sequence } }) =>
            operator === RACP_OPERATORS['greater-or-equal'] ? sequence >= first : sequence <= first,
          );
        }
        const last = operand[3]! | (operand[4]! << 8);
        if (first > last) return 'invalid operand';
        return all.filter(({ measurement: { sequence } }) => sequence >= first && sequence <= last);
      }
      case RACP_OPERATORS.null:
      case undefined:
        return 'invalid operator';
      default:
        return 'operator not supported';
    }
  }
}

function responseCode(requestOpCode: number, code: RacpResponseCode): Uint8Array<ArrayBuffer> {
  return Uint8Array.of(
    RACP_OP_CODES['response-code'],
    RACP_OPERATORS.null,
    requestOpCode,
    RACP_RESPONSE_CODE_VALUES[code],
  );
}

function respond(requestOpCode: number, code: RacpResponseCode): RacpExchange {
  return { notifications: [], notifiedOn: [], indication: responseCode(requestOpCode, code), connectionLost: false };
}

/** A Uint8Array as the DataView Web Bluetooth hands a characteristic's value in. */
export function asDataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
