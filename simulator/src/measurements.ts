import {
  swedishDayIndex,
  swedishLocalTime,
  type DeviceKind,
  type MealMarker,
  type MeterFlag,
  type ReadingKind,
} from '@glucoboard/core/domain';
import {
  CONTROL_SOLUTION_MMOL,
  createGlucoseModel,
  mainMealTimes,
  meterReading,
  sensorReading,
  type GlucoseModel,
} from '@glucoboard/core/simulation';
import { patientOf } from './patient.ts';
import { randomFor, seedFor } from './seeds.ts';

/**
 * When a device measures and what it shows, produced incrementally in simulated time (a live meter
 * runs for as long as it is left running). The physiology is core's glucose model, and the display
 * (ISO 15197 noise for a meter, sensor noise, LO/HI beyond the measuring range) is core's
 * meterReading/sensorReading; what lives here is only *when* each kind of device takes a reading.
 */

/** What a device measured, before it gets a seq and is put on the wire. */
export interface Measurement {
  /** Simulated instant of the measurement (ms since the epoch), by a correct clock. */
  at: number;
  mmol: number | null;
  flag: MeterFlag | null;
  kind: ReadingKind;
  meal: MealMarker | null;
}

export interface MeasurementSchedule {
  /** The simulated instant of the next measurement. */
  readonly nextAt: number;
  /** Takes the measurement at nextAt and moves on to the following one. */
  take(): Measurement;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const CGM_INTERVAL = 5 * MINUTE;
/** Interstitial glucose, which a CGM measures, lags plasma glucose by some minutes. */
const SENSOR_LAG = 7 * MINUTE;
/** Usual hours of breakfast, lunch and dinner, for a patient whose model skips a main meal. */
/** A control-solution test about once a fortnight, as meter makers ask (and as the demo seeds). */
const CONTROL_EVERY_DAYS = 14;

/**
 * The measurements of a device from `from` (simulated ms) on. The same seed, device id, kind and
 * start give the same measurements, whatever the caller's timing.
 */
export function measurementsOf(device: { deviceId: string; kind: DeviceKind }, seed: number, from: number) {
  const patient = patientOf(device.deviceId, seed);
  const modelSeed = seedFor(seed, `${device.deviceId}:model`);
  const random = randomFor(seed, `${device.deviceId}:device`);
  if (device.kind === 'cgm') {
    return sensorSchedule(createGlucoseModel(patient.profile, modelSeed, new Date(from - SENSOR_LAG)), random, from);
  }
  return fingerstickSchedule(createGlucoseModel(patient.profile, modelSeed, new Date(from)), random, from);
}

/** A CGM: every 5 minutes from a random phase, with now and then a gap of 10-55 minutes (signal loss). */
export function sensorSchedule(model: GlucoseModel, random: () => number, from: number): MeasurementSchedule {
  let at = from + Math.floor(random() * 300) * SECOND;
  const advance = () => {
    at += CGM_INTERVAL;
    if (random() < 1 / 200) at += (1 + Math.floor(random() * 10)) * CGM_INTERVAL;
  };
  return {
    get nextAt() {
      return at;
    },
    take() {
      const shown = sensorReading(model.trueMmolAt(new Date(at - SENSOR_LAG)), random);
      const measurement: Measurement = { at, mmol: shown.mmol, flag: shown.flag, kind: 'cgm', meal: null };
      advance();
      return measurement;
    },
  };
}

interface Planned {
  at: number;
  kind: 'bgm' | 'control';
  meal: MealMarker | null;
}

/**
 * A fingerstick meter: before each main meal, two hours after some of them (the post-prandial
 * check), and a control-solution test about once a fortnight; planned a Swedish day at a time
 * around the meals the model has the patient eat.
 */
export function fingerstickSchedule(model: GlucoseModel, random: () => number, from: number): MeasurementSchedule {
  let day = swedishDayIndex(from);
  let planned: Planned[] = [];
  let next = 0;

  function planDay(): void {
    const meals = mainMealTimes(model, day);
    const plan: Planned[] = [];
    for (const meal of meals) {
      plan.push({ at: meal - (5 + 15 * random()) * MINUTE, kind: 'bgm', meal: 'before' });
      if (random() < 0.4) plan.push({ at: meal + (105 + 30 * random()) * MINUTE, kind: 'bgm', meal: 'after' });
    }
    if (random() < 1 / CONTROL_EVERY_DAYS) {
      plan.push({ at: swedishLocalTime(day, 9.5 + 1.5 * random()), kind: 'control', meal: null });
    }
    // A meter keeps whole seconds.
    planned = plan
      .map((p) => ({ ...p, at: Math.round(p.at / SECOND) * SECOND }))
      .filter((p) => p.at >= from)
      .sort((a, b) => a.at - b.at);
    next = 0;
    day++;
  }

  const ensure = (): Planned => {
    while (next >= planned.length) planDay();
    return planned[next]!;
  };

  return {
    get nextAt() {
      return ensure().at;
    },
    take() {
      const p = ensure();
      next++;
      const shown =
        p.kind === 'control'
          ? meterReading(CONTROL_SOLUTION_MMOL, random)
          : meterReading(model.trueMmolAt(new Date(p.at)), random);
      return { at: p.at, mmol: shown.mmol, flag: shown.flag, kind: p.kind, meal: p.meal };
    },
  };
}
