import { FieldReader } from './errors.ts';
import { decodeSfloat, type SfloatValue } from './sfloat.ts';

/**
 * Glucose Measurement Context (0x2A34), little-endian, fields in this order when their flag is set:
 *
 *   flags              uint8   bit 0 carbohydrate id and carbohydrate present
 *                              bit 1 meal present
 *                              bit 2 tester-health present
 *                              bit 3 exercise duration and intensity present
 *                              bit 4 medication id and medication present
 *                              bit 5 medication unit: 0 kilograms, 1 litres
 *                              bit 6 HbA1c present
 *                              bit 7 extended flags present
 *   sequence number    uint16  the measurement's
 *   extended flags     uint8   (all reserved in 1.0)
 *   carbohydrate id    uint8   1 breakfast, 2 lunch, 3 dinner, 4 snack, 5 drink, 6 supper, 7 brunch
 *   carbohydrate       SFLOAT  kilograms
 *   meal               uint8   1 preprandial, 2 postprandial, 3 fasting, 4 casual, 5 bedtime
 *   tester-health      uint8   tester in the low nibble, health in the high one
 *   exercise duration  uint16  seconds, 65535 overrun
 *   exercise intensity uint8   percent
 *   medication id      uint8   1 rapid, 2 short, 3 intermediate, 4 long acting, 5 pre-mixed insulin
 *   medication         SFLOAT  kilograms or litres
 *   HbA1c              SFLOAT  percent
 */

export const CONTEXT_FLAGS = {
  carbohydratePresent: 0x01,
  mealPresent: 0x02,
  testerHealthPresent: 0x04,
  exercisePresent: 0x08,
  medicationPresent: 0x10,
  medicationInLitres: 0x20,
  hba1cPresent: 0x40,
  extendedFlagsPresent: 0x80,
} as const;

export const CARBOHYDRATE_IDS = {
  1: 'breakfast',
  2: 'lunch',
  3: 'dinner',
  4: 'snack',
  5: 'drink',
  6: 'supper',
  7: 'brunch',
} as const;
export type CarbohydrateId = (typeof CARBOHYDRATE_IDS)[keyof typeof CARBOHYDRATE_IDS] | 'reserved';

export const MEALS = {
  1: 'preprandial',
  2: 'postprandial',
  3: 'fasting',
  4: 'casual',
  5: 'bedtime',
} as const;
export type Meal = (typeof MEALS)[keyof typeof MEALS] | 'reserved';

export const TESTERS = {
  1: 'self',
  2: 'health care professional',
  3: 'lab test',
  15: 'not available',
} as const;
export type Tester = (typeof TESTERS)[keyof typeof TESTERS] | 'reserved';

export const HEALTH = {
  1: 'minor health issues',
  2: 'major health issues',
  3: 'during menses',
  4: 'under stress',
  5: 'no health issues',
  15: 'not available',
} as const;
export type Health = (typeof HEALTH)[keyof typeof HEALTH] | 'reserved';

export const MEDICATION_IDS = {
  1: 'rapid acting insulin',
  2: 'short acting insulin',
  3: 'intermediate acting insulin',
  4: 'long acting insulin',
  5: 'pre-mixed insulin',
} as const;
export type MedicationId = (typeof MEDICATION_IDS)[keyof typeof MEDICATION_IDS] | 'reserved';

/** The exercise duration that means "longer than 65534 s". */
export const EXERCISE_DURATION_OVERRUN = 0xffff;

export interface GlucoseMeasurementContext {
  /** The flags byte as sent. */
  flags: number;
  /** The sequence number of the measurement this belongs to. */
  sequence: number;
  extendedFlags: number | null;
  carbohydrate: { id: CarbohydrateId; idCode: number; kilograms: SfloatValue } | null;
  meal: Meal | null;
  mealCode: number | null;
  /** Tester and health come in one byte: both present or both null. */
  tester: Tester | null;
  testerCode: number | null;
  health: Health | null;
  healthCode: number | null;
  exercise: { durationSeconds: number; overrun: boolean; intensityPercent: number } | null;
  medication: { id: MedicationId; idCode: number; amount: SfloatValue; unit: 'kg' | 'L' } | null;
  hba1cPercent: SfloatValue | null;
}

const CHARACTERISTIC = 'Glucose Measurement Context';

function named<T extends Record<number, string>>(table: T, code: number): T[keyof T] | 'reserved' {
  return (table[code as keyof T] as T[keyof T] | undefined) ?? 'reserved';
}

export const carbohydrateIdName = (code: number): CarbohydrateId => named(CARBOHYDRATE_IDS, code);
export const mealName = (code: number): Meal => named(MEALS, code);
export const testerName = (code: number): Tester => named(TESTERS, code);
export const healthName = (code: number): Health => named(HEALTH, code);
export const medicationIdName = (code: number): MedicationId => named(MEDICATION_IDS, code);

/** Decodes one Glucose Measurement Context value; throws GlucoseDecodeError if short. */
export function decodeGlucoseMeasurementContext(data: DataView): GlucoseMeasurementContext {
  const reader = new FieldReader(data, CHARACTERISTIC);
  const flags = reader.uint8('flags');
  const sequence = reader.uint16('sequence number');
  const extendedFlags = flags & CONTEXT_FLAGS.extendedFlagsPresent ? reader.uint8('extended flags') : null;

  let carbohydrate: GlucoseMeasurementContext['carbohydrate'] = null;
  if (flags & CONTEXT_FLAGS.carbohydratePresent) {
    const idCode = reader.uint8('carbohydrate id');
    const kilograms = decodeSfloat(reader.uint16('carbohydrate'));
    carbohydrate = { id: carbohydrateIdName(idCode), idCode, kilograms };
  }
  const mealCode = flags & CONTEXT_FLAGS.mealPresent ? reader.uint8('meal') : null;

  let testerCode: number | null = null;
  let healthCode: number | null = null;
  if (flags & CONTEXT_FLAGS.testerHealthPresent) {
    const testerHealth = reader.uint8('tester-health');
    testerCode = testerHealth & 0x0f;
    healthCode = testerHealth >> 4;
  }

  let exercise: GlucoseMeasurementContext['exercise'] = null;
  if (flags & CONTEXT_FLAGS.exercisePresent) {
    const durationSeconds = reader.uint16('exercise duration');
    const intensityPercent = reader.uint8('exercise intensity');
    exercise = { durationSeconds, overrun: durationSeconds === EXERCISE_DURATION_OVERRUN, intensityPercent };
  }

  let medication: GlucoseMeasurementContext['medication'] = null;
  if (flags & CONTEXT_FLAGS.medicationPresent) {
    const idCode = reader.uint8('medication id');
    const amount = decodeSfloat(reader.uint16('medication'));
    const unit = flags & CONTEXT_FLAGS.medicationInLitres ? 'L' : 'kg';
    medication = { id: medicationIdName(idCode), idCode, amount, unit };
  }
  const hba1cPercent = flags & CONTEXT_FLAGS.hba1cPresent ? decodeSfloat(reader.uint16('HbA1c')) : null;

  return {
    flags,
    sequence,
    extendedFlags,
    carbohydrate,
    meal: mealCode === null ? null : mealName(mealCode),
    mealCode,
    tester: testerCode === null ? null : testerName(testerCode),
    testerCode,
    health: healthCode === null ? null : healthName(healthCode),
    healthCode,
    exercise,
    medication,
    hba1cPercent,
  };
}
