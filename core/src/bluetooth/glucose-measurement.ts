import { readDateTime, type DateTime } from './date-time.ts';
import { FieldReader } from './errors.ts';
import { decodeSfloat, type SfloatValue } from './sfloat.ts';

/**
 * Glucose Measurement (0x2A18), as the Glucose Service 1.0 and the GATT Specification Supplement
 * lay it out, little-endian:
 *
 *   flags                      uint8   bit 0 time offset present
 *                                      bit 1 concentration, type and sample location present
 *                                      bit 2 concentration unit: 0 kg/L, 1 mol/L
 *                                      bit 3 sensor status annunciation present
 *                                      bit 4 context information follows (a 0x2A34 comes next)
 *                                      bits 5-7 reserved, ignored
 *   sequence number            uint16
 *   base time                  Date Time (7 bytes), the meter's local clock
 *   time offset                sint16  minutes, if bit 0
 *   concentration              SFLOAT  kg/L or mol/L, if bit 1
 *   type-sample location       uint8   type in the low nibble, location in the high one, if bit 1
 *   sensor status annunciation uint16  if bit 3
 *
 * Bytes after the last field are ignored: a later version of the service may append fields.
 */

export const MEASUREMENT_FLAGS = {
  timeOffsetPresent: 0x01,
  concentrationPresent: 0x02,
  unitMolPerLitre: 0x04,
  sensorStatusPresent: 0x08,
  contextFollows: 0x10,
} as const;

/** Sample types by their code (0 and 11-15 are reserved). */
export const SAMPLE_TYPES = {
  1: 'capillary whole blood',
  2: 'capillary plasma',
  3: 'venous whole blood',
  4: 'venous plasma',
  5: 'arterial whole blood',
  6: 'arterial plasma',
  7: 'undetermined whole blood',
  8: 'undetermined plasma',
  9: 'interstitial fluid',
  10: 'control solution',
} as const;
export type SampleType = (typeof SAMPLE_TYPES)[keyof typeof SAMPLE_TYPES] | 'reserved';
export const CONTROL_SOLUTION_SAMPLE_TYPE = 0x0a;

/** Sample locations by their code (0 and 5-14 are reserved). */
export const SAMPLE_LOCATIONS = {
  1: 'finger',
  2: 'alternate site test',
  3: 'earlobe',
  4: 'control solution',
  15: 'not available',
} as const;
export type SampleLocation = (typeof SAMPLE_LOCATIONS)[keyof typeof SAMPLE_LOCATIONS] | 'reserved';
export const CONTROL_SOLUTION_SAMPLE_LOCATION = 4;

/** The Sensor Status Annunciation bits 0-11, in bit order. Bits 12-15 are reserved. */
export const SENSOR_STATUS_BITS = [
  'deviceBatteryLow',
  'sensorMalfunction',
  'sampleSizeInsufficient',
  'stripInsertionError',
  'stripTypeIncorrect',
  'resultHigherThanDeviceCanProcess',
  'resultLowerThanDeviceCanProcess',
  'temperatureTooHigh',
  'temperatureTooLow',
  'readInterrupted',
  'generalDeviceFault',
  'timeFault',
] as const;
export type SensorStatusBit = (typeof SENSOR_STATUS_BITS)[number];

/**
 * The annunciations at the time of measurement: device battery low, sensor malfunction, sample size
 * insufficient, strip insertion error, strip type incorrect, result higher / lower than the device
 * can process, temperature too high / too low, read interrupted (strip pulled too soon), general
 * device fault, time fault (the time may be inaccurate); `reservedBits` holds bits 12-15 as sent.
 */
export type SensorStatus = Record<SensorStatusBit, boolean> & { reservedBits: number };

export type ConcentrationUnit = 'kg/L' | 'mol/L';

export interface GlucoseMeasurement {
  /** The flags byte as sent, reserved bits included. */
  flags: number;
  /** The meter's sequence number, 0-65535. */
  sequence: number;
  /** The meter's local clock when measured (no zone). */
  baseTime: DateTime;
  /** Minutes to add to the base time for the time the user saw, or null if absent. */
  timeOffsetMinutes: number | null;
  concentration: { value: SfloatValue; unit: ConcentrationUnit } | null;
  /** Null when there is no concentration (the type and location come with it). */
  sampleType: SampleType | null;
  sampleTypeCode: number | null;
  sampleLocation: SampleLocation | null;
  sampleLocationCode: number | null;
  /** Null when the meter sent no annunciation field. */
  sensorStatus: SensorStatus | null;
  /** A Glucose Measurement Context with this sequence number follows. */
  contextFollows: boolean;
}

const CHARACTERISTIC = 'Glucose Measurement';

export function sampleTypeName(code: number): SampleType {
  return SAMPLE_TYPES[code as keyof typeof SAMPLE_TYPES] ?? 'reserved';
}

export function sampleLocationName(code: number): SampleLocation {
  return SAMPLE_LOCATIONS[code as keyof typeof SAMPLE_LOCATIONS] ?? 'reserved';
}

export function decodeSensorStatus(bits: number): SensorStatus {
  const status = { reservedBits: bits & 0xf000 } as SensorStatus;
  SENSOR_STATUS_BITS.forEach((name, bit) => (status[name] = (bits & (1 << bit)) !== 0));
  return status;
}

/** Decodes one Glucose Measurement value; throws GlucoseDecodeError if it is short or malformed. */
export function decodeGlucoseMeasurement(data: DataView): GlucoseMeasurement {
  const reader = new FieldReader(data, CHARACTERISTIC);
  const flags = reader.uint8('flags');
  const sequence = reader.uint16('sequence number');
  const baseTime = readDateTime(reader, 'base time');
  const timeOffsetMinutes = flags & MEASUREMENT_FLAGS.timeOffsetPresent ? reader.sint16('time offset') : null;

  let concentration: GlucoseMeasurement['concentration'] = null;
  let sampleTypeCode: number | null = null;
  let sampleLocationCode: number | null = null;
  if (flags & MEASUREMENT_FLAGS.concentrationPresent) {
    const value = decodeSfloat(reader.uint16('glucose concentration'));
    const unit: ConcentrationUnit = flags & MEASUREMENT_FLAGS.unitMolPerLitre ? 'mol/L' : 'kg/L';
    concentration = { value, unit };
    const typeAndLocation = reader.uint8('type-sample location');
    sampleTypeCode = typeAndLocation & 0x0f;
    sampleLocationCode = typeAndLocation >> 4;
  }
  const sensorStatus =
    flags & MEASUREMENT_FLAGS.sensorStatusPresent
      ? decodeSensorStatus(reader.uint16('sensor status annunciation'))
      : null;

  return {
    flags,
    sequence,
    baseTime,
    timeOffsetMinutes,
    concentration,
    sampleType: sampleTypeCode === null ? null : sampleTypeName(sampleTypeCode),
    sampleTypeCode,
    sampleLocation: sampleLocationCode === null ? null : sampleLocationName(sampleLocationCode),
    sampleLocationCode,
    sensorStatus,
    contextFollows: (flags & MEASUREMENT_FLAGS.contextFollows) !== 0,
  };
}
