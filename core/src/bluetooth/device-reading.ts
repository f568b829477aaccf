import { MGDL_PER_MMOL } from '../domain/ranges.ts';
import type { DeviceReading } from '../domain/reading.ts';
import { FLAGGED_MMOL_MAX, FLAGGED_MMOL_MIN, READING_MMOL_MAX, READING_MMOL_MIN } from '../wire/device-readings.ts';
import {
  instantOfWallTime,
  isKnownTimeZone,
  isoInTimeZone,
  wallTimeMs,
  type CurrentTime,
  type DateTime,
} from './date-time.ts';
import type { GlucoseMeasurementContext } from './glucose-context.ts';
import {
  CONTROL_SOLUTION_SAMPLE_LOCATION,
  CONTROL_SOLUTION_SAMPLE_TYPE,
  type GlucoseMeasurement,
  type SensorStatusBit,
} from './glucose-measurement.ts';
import { sfloatNumber, type SfloatValue } from './sfloat.ts';

/**
 * From a decoded measurement (and its context) to the device reading of SPEC section 4, the body a
 * meter sends to `/devices` or `POST /api/devices/readings`. Every reading this gives passes
 * `validateReadingsBatch` (core/src/wire/device-readings.ts) for a server clock near its time.
 */

/** A device reading as it goes on the wire: the DeviceReading with measuredAt as ISO-8601 text. */
export type WireDeviceReading = Omit<DeviceReading, 'measuredAt'> & { measuredAt: string };

export const READING_REFUSAL_REASONS = [
  /** The measurement has no concentration and no LO/HI annunciation: nothing to report. */
  'no-concentration',
  /** The concentration is NaN, NRes or the reserved SFLOAT, with no LO/HI annunciation. */
  'value-not-a-number',
  /** A number outside what a meter shows (0.6-33.3 mmol/L, or 0-50 with LO/HI). */
  'value-out-of-range',
  /** The meter flagged the measurement as faulty (strip, sample, sensor, temperature...). */
  'sensor-fault',
  /** The meter's clock was not set: year, month or day is 0 ("not known"). */
  'time-unknown',
  /** The date does not exist (30 February). */
  'time-invalid',
  /** The time falls where the zone's offset has seconds (local mean time before ~1900). */
  'time-not-representable',
  /** options.timeZone is not an IANA zone Intl knows. */
  'unknown-time-zone',
  /** The context belongs to another sequence number. */
  'context-mismatch',
] as const;
export type ReadingRefusalReason = (typeof READING_REFUSAL_REASONS)[number];

/** Things worth showing that do not make the reading wrong. */
export type ReadingWarning = 'device-battery-low' | 'time-fault';

export type DeviceReadingResult =
  | { ok: true; reading: WireDeviceReading; warnings: ReadingWarning[] }
  | { ok: false; reason: ReadingRefusalReason; faults?: SensorStatusBit[] };

/**
 * Annunciations that say the result itself is not to be trusted. Battery low and time fault do
 * not: the number is still the meter's result (the time fault is passed on as a warning).
 */
const FAULTS: readonly SensorStatusBit[] = [
  'sensorMalfunction',
  'sampleSizeInsufficient',
  'stripInsertionError',
  'stripTypeIncorrect',
  'temperatureTooHigh',
  'temperatureTooLow',
  'readInterrupted',
  'generalDeviceFault',
];

/**
 * mmol/L rounded to one decimal (SPEC: one decimal for BGM), from the SFLOAT's own digits so that
 * no float noise decides a rounding: kg/L is mg/dL x 1e-5, mol/L is mmol/L x 1e-3.
 */
export function concentrationToMmol(value: SfloatValue & { kind: 'number' }, unit: 'kg/L' | 'mol/L'): number {
  const { mantissa, exponent } = value;
  // tenths of mmol/L: mol/L x 10^4, or kg/L x 10^6 (tenths of mg/dL) / 18.0156
  const tenths =
    unit === 'mol/L' ? sfloatNumber(mantissa, exponent + 4) : sfloatNumber(mantissa, exponent + 6) / MGDL_PER_MMOL;
  return Math.round(tenths) / 10 + 0;
}

export function toDeviceReading(
  measurement: GlucoseMeasurement,
  context: GlucoseMeasurementContext | undefined,
  options: { timeZone: string },
): DeviceReadingResult {
  if (context !== undefined && context.sequence !== measurement.sequence)
    return { ok: false, reason: 'context-mismatch' };

  const status = measurement.sensorStatus;
  const faults = status === null ? [] : FAULTS.filter((bit) => status[bit]);
  const high = status?.resultHigherThanDeviceCanProcess === true;
  const low = status?.resultLowerThanDeviceCanProcess === true;
  // Both at once contradict each other: the meter does not know what it measured.
  if (high && low) faults.push('resultHigherThanDeviceCanProcess', 'resultLowerThanDeviceCanProcess');
  if (faults.length > 0) return { ok: false, reason: 'sensor-fault', faults };

  // Value and flag.
  const value = measurement.concentration?.value;
  let flag: 'LO' | 'HI' | null = high ? 'HI' : low ? 'LO' : null;
  // An SFLOAT infinity is a value beyond what the meter can show: its LO or HI.
  if (flag === null && value?.kind === '+INFINITY') flag = 'HI';
  if (flag === null && value?.kind === '-INFINITY') flag = 'LO';
  let mmol: number | null = null;
  if (value?.kind === 'number') mmol = concentrationToMmol(value, measurement.concentration!.unit);
  if (flag === null) {
    if (value === undefined) return { ok: false, reason: 'no-concentration' };
    if (mmol === null) return { ok: false, reason: 'value-not-a-number' };
    if (!(mmol >= READING_MMOL_MIN && mmol <= READING_MMOL_MAX)) return { ok: false, reason: 'value-out-of-range' };
  } else if (mmol !== null && !(mmol >= FLAGGED_MMOL_MIN && mmol <= FLAGGED_MMOL_MAX)) {
    // A LO/HI reading keeps a number the readings table can hold (the limit it crossed, usually);
    // any other number is dropped and the flag alone says what the meter showed.
    mmol = null;
  }

  // Time: the meter's wall clock plus its offset, read in the patient's zone.
  const { baseTime, timeOffsetMinutes } = measurement;
  if (baseTime.year === 0 || baseTime.month === 0 || baseTime.day === 0) return { ok: false, reason: 'time-unknown' };
  const wall = wallTimeMs(baseTime);
  if (Number.isNaN(wall)) return { ok: false, reason: 'time-invalid' };
  if (!isKnownTimeZone(options.timeZone)) return { ok: false, reason: 'unknown-time-zone' };
  const instant = instantOfWallTime(options.timeZone, wall + (timeOffsetMinutes ?? 0) * 60_000);
  const measuredAt = isoInTimeZone(options.timeZone, instant);
  if (measuredAt === null || !/^\d{4}-/.test(measuredAt)) return { ok: false, reason: 'time-not-representable' };

  const controlSolution =
    measurement.sampleTypeCode === CONTROL_SOLUTION_SAMPLE_TYPE ||
    measurement.sampleLocationCode === CONTROL_SOLUTION_SAMPLE_LOCATION;
  const meal = context?.meal === 'preprandial' ? 'before' : context?.meal === 'postprandial' ? 'after' : null;

  const warnings: ReadingWarning[] = [];
  if (status?.deviceBatteryLow) warnings.push('device-battery-low');
  if (status?.timeFault) warnings.push('time-fault');
  return {
    ok: true,
    reading: { seq: measurement.sequence, measuredAt, mmol, flag, kind: controlSolution ? 'control' : 'bgm', meal },
    warnings,
  };
}

/**
 * How far the meter's clock is ahead of the phone's (negative: behind), in ms, reading the
 * meter's wall clock in `timeZone`; null if the meter's date is not set or not real. Readings keep
 * the meter's own time (SPEC: measured_at is the device clock); this is for telling the user.
 */
export function meterClockDrift(meterTime: CurrentTime | DateTime, phoneNow: Date, timeZone: string): number | null {
  const dateTime = 'dateTime' in meterTime ? meterTime.dateTime : meterTime;
  const fraction = 'fractions256' in meterTime ? (meterTime.fractions256 * 1000) / 256 : 0;
  const wall = wallTimeMs(dateTime);
  if (Number.isNaN(wall) || !isKnownTimeZone(timeZone)) return null;
  return instantOfWallTime(timeZone, wall) + fraction - phoneNow.getTime();
}
