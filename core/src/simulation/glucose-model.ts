import type { MeterFlag } from '../domain/reading.ts';
import { swedishDayIndex, swedishLocalTime } from '../domain/swedish-time.ts';
import { normal, seededRandom } from './random.ts';

/**
 * A deterministic physiological glucose model for one simulated patient (mmol/L), shared by the
 * device simulator and the demo seed. It is a story generator, not a metabolic simulation: a
 * baseline with slow drift, meals that rise and are brought back by insulin, dawn phenomenon,
 * exercise dips and hypo/hyper episodes at given weekly rates, stepped minute by minute so that
 * the same seed, profile and start always tell the same story whatever the caller's sampling.
 */

export interface GlucoseProfile {
  /** Fasting level the patient returns to between events. */
  baselineMmol: number;
  /** 0..1: scales meal rises and the slow drift. */
  variability: number;
  mealsPerDay: number;
  hypoPerWeek: number;
  hyperPerWeek: number;
  /** Early-morning rise (04-08) from counter-regulatory hormones. */
  dawnPhenomenon: boolean;
  exercisePerWeek: number;
}

export interface GlucoseModel {
  /**
   * True plasma glucose at an instant (before the start: the value at the start). Instants must not
   * decrease from one call to the next: the model steps forward minute by minute.
   */
  trueMmolAt(at: Date): number;
  /** When the patient starts eating in [from, to) (any order of calls), so meters can measure around meals. */
  mealsBetween(from: Date, to: Date): Meal[];
}

export interface Meal {
  at: Date;
  /** A snack, rather than breakfast, lunch or dinner (whose times anchor fingersticks). */
  snack: boolean;
}

export type PatientProfileName = 'stable' | 'variable' | 'hypoProne' | 'hyperProne';

/** Presets: a well-controlled patient, a swinging one, and two that the board should bring to the top. */
export const PATIENT_PROFILES: Record<PatientProfileName, GlucoseProfile> = {
  stable: {
    baselineMmol: 6.6,
    variability: 0.2,
    mealsPerDay: 3,
    hypoPerWeek: 0.3,
    hyperPerWeek: 0.2,
    dawnPhenomenon: false,
    exercisePerWeek: 2,
  },
  variable: {
    baselineMmol: 7.8,
    variability: 0.6,
    mealsPerDay: 4,
    hypoPerWeek: 1,
    hyperPerWeek: 1.5,
    dawnPhenomenon: true,
    exercisePerWeek: 1,
  },
  hypoProne: {
    baselineMmol: 5.9,
    variability: 0.5,
    mealsPerDay: 3,
    hypoPerWeek: 5,
    hyperPerWeek: 0.5,
    dawnPhenomenon: false,
    exercisePerWeek: 3,
  },
  hyperProne: {
    baselineMmol: 9.2,
    variability: 0.6,
    mealsPerDay: 3,
    hypoPerWeek: 0.3,
    hyperPerWeek: 4,
    dawnPhenomenon: true,
    exercisePerWeek: 0.5,
  },
};

/** Physiological bounds of plasma glucose the model stays within. */
export const MODEL_BOUNDS = { minMmol: 1.5, maxMmol: 30 } as const;
/** Plasma glucose rarely changes faster than this (mmol/L per minute), even with treatment. */
export const MAX_RATE_MMOL_PER_MIN = 0.25;

const MINUTE = 60_000;

/** Something added to the baseline for a while: a meal, insulin bringing it back, exercise, dawn. */
interface Excursion {
  from: number;
  until: number;
  offset(at: number): number;
}

/** A hypo or hyper episode pulls glucose towards a level, whatever else is going on. */
interface Episode {
  from: number;
  until: number;
  direction: 'down' | 'up';
  level: number;
  weight(at: number): number;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const smoothstep = (x: number): number => {
  const t = clamp(x, 0, 1);
  return t * t * (3 - 2 * t);
};
const between = (random: () => number, lo: number, hi: number): number => lo + (hi - lo) * random();

/**
 * Rise and fall of a meal (or a dip of exercise): 1 at `peakMinutes`, a gentle rise before it and a
 * slower return after (insulin action), practically gone after five times the peak time.
 */
function bump(minutesSince: number, peakMinutes: number): number {
  if (minutesSince <= 0) return 0;
  const x = minutesSince / peakMinutes;
  const shape = x * Math.exp(1 - x);
  return shape * shape;
}

/** Number of events in a day for a weekly rate (Knuth's Poisson sampler; rates here are small). */
function eventsToday(perWeek: number, random: () => number): number {
  const limit = Math.exp(-Math.max(0, perWeek) / 7);
  let count = 0;
  for (let p = random(); p > limit; p *= random()) count++;
  return count;
}

/** Main meals first, then snacks, at Swedish mealtimes (hours of the local day). */
const MEAL_HOURS = [7, 12, 18, 15, 21, 10] as const;

interface PlannedMeal extends Excursion {
  at: number;
  snack: boolean;
}

function planMeals(profile: GlucoseProfile, day: number, random: () => number): PlannedMeal[] {
  const count = clamp(Math.round(profile.mealsPerDay), 0, MEAL_HOURS.length);
  const meals: PlannedMeal[] = [];
  for (let i = 0; i < count; i++) {
    const jitterMinutes = clamp(30 * normal(random), -75, 75);
    const at = swedishLocalTime(day, MEAL_HOURS[i]!) + jitterMinutes * MINUTE;
    const snack = i >= 3;
    const rise = (snack ? 0.5 : 1) * (2 + 4 * clamp(0.15 + 0.7 * profile.variability + 0.2 * normal(random), 0, 1));
    const peakMinutes = between(random, 45, 90);
    if (snack && random() < 0.2) continue; // snacks are often skipped
    meals.push({
      at,
      snack,
      from: at,
      until: at + 5 * peakMinutes * MINUTE,
      offset: (t) => rise * bump((t - at) / MINUTE, peakMinutes),
    });
  }
  return meals;
}

function planDawn(day: number, random: () => number): Excursion {
  const rise = between(random, 0.8, 2.2);
  const from = swedishLocalTime(day, 4);
  const top = swedishLocalTime(day, 8);
  const gone = swedishLocalTime(day, 11);
  return {
    from,
    until: gone,
    offset: (t) =>
      t < top ? rise * smoothstep((t - from) / (top - from)) : rise * (1 - smoothstep((t - top) / (gone - top))),
  };
}

function planExercise(day: number, random: () => number): Excursion {
  const at = swedishLocalTime(day, between(random, 10, 19.5));
  const dip = between(random, 1, 3);
  const peakMinutes = between(random, 40, 70);
  return { from: at, until: at + 5 * peakMinutes * MINUTE, offset: (t) => -dip * bump((t - at) / MINUTE, peakMinutes) };
}

/** Falls below 3.0 for roughly 20-60 minutes, then treatment (glucose tablets) brings it back. */
function planHypo(day: number, random: () => number): Episode {
  const nocturnal = random() < 0.4;
  const at = swedishLocalTime(day, nocturnal ? between(random, 0.5, 5) : between(random, 9.5, 17.5));
  const fall = between(random, 35, 55) * MINUTE;
  const hold = between(random, 15, 45) * MINUTE;
  const recovery = between(random, 15, 25) * MINUTE;
  return episode('down', between(random, 1.9, 2.8), at, fall, hold, recovery);
}

/** Rises above 14 (some above 20) over hours, e.g. a missed dose or illness, until corrected. */
function planHyper(day: number, random: () => number): Episode {
  const severe = random() < 0.3;
  const at = swedishLocalTime(day, between(random, 6, 22));
  const level = severe ? between(random, 20.5, 25) : between(random, 14.5, 19.5);
  const rise = between(random, 60, 120) * MINUTE;
  const hold = between(random, 60, 240) * MINUTE;
  const correction = between(random, 60, 120) * MINUTE;
  return episode('up', level, at, rise, hold, correction);
}

function episode(
  direction: Episode['direction'],
  level: number,
  at: number,
  inMs: number,
  holdMs: number,
  outMs: number,
): Episode {
  const held = at + inMs;
  const released = held + holdMs;
  return {
    direction,
    level,
    from: at,
    until: released + outMs,
    weight: (t) => (t < held ? smoothstep((t - at) / inMs) : 1 - smoothstep((t - released) / outMs)),
  };
}

export function createGlucoseModel(profile: GlucoseProfile, seed: number, start: Date): GlucoseModel {
  // Separate streams for the day plans and the drift, so that planning ahead (mealsBetween) does not
  // change what the drift draws: values never depend on how the model is asked.
  const planRandom = seededRandom(seed);
  const driftRandom = seededRandom(seed ^ 0x5bd1e995);
  const startMs = start.getTime();
  const excursions: Excursion[] = [];
  const episodes: Episode[] = [];
  const meals: PlannedMeal[] = [];
  // Plan from the day before, so that yesterday evening's meal or episode is still felt at start.
  let plannedThrough = swedishDayIndex(startMs) - 2;

  function planDay(day: number, random = planRandom): void {
    const todaysMeals = planMeals(profile, day, random);
    meals.push(...todaysMeals);
    excursions.push(...todaysMeals);
    if (profile.dawnPhenomenon) excursions.push(planDawn(day, random));
    for (let n = eventsToday(profile.exercisePerWeek, random); n > 0; n--) excursions.push(planExercise(day, random));
    for (let n = eventsToday(profile.hypoPerWeek, random); n > 0; n--) episodes.push(planHypo(day, random));
    for (let n = eventsToday(profile.hyperPerWeek, random); n > 0; n--) episodes.push(planHyper(day, random));
  }

  /** Plans every day up to the one after an instant, so that events starting soon are known. */
  function planThrough(at: number): void {
    while (plannedThrough < swedishDayIndex(at) + 1) planDay(++plannedThrough);
  }

  // Slow drift: an Ornstein-Uhlenbeck process smoothed once more, so it wanders without jitter.
  const driftSd = 0.3 + 1.0 * clamp(profile.variability, 0, 1);
  const driftMinutes = 120;
  const smoothingMinutes = 30;
  let drift = driftSd * normal(driftRandom);
  let smoothDrift = drift;

  /** Where physiology is heading at an instant, before the rate limit. */
  function drive(at: number): number {
    planThrough(at);
    prune(excursions, at);
    prune(episodes, at);
    let mmol = profile.baselineMmol + smoothDrift;
    for (const e of excursions) if (at >= e.from) mmol += e.offset(at);
    for (const e of episodes) {
      if (at < e.from) continue;
      const pulled = mmol + (e.level - mmol) * e.weight(at);
      mmol = e.direction === 'down' ? Math.min(mmol, pulled) : Math.max(mmol, pulled);
    }
    return clamp(mmol, MODEL_BOUNDS.minMmol, MODEL_BOUNDS.maxMmol);
  }

  function stepDrift(): void {
    drift += -drift / driftMinutes + driftSd * Math.sqrt(2 / driftMinutes) * normal(driftRandom);
    smoothDrift += (drift - smoothDrift) / smoothingMinutes;
  }

  let minute = 0;
  let lastAt = -Infinity;
  let current = drive(startMs);
  let next = step(current, 1);

  function step(from: number, toMinute: number): number {
    stepDrift();
    const target = drive(startMs + toMinute * MINUTE);
    return from + clamp(target - from, -MAX_RATE_MMOL_PER_MIN, MAX_RATE_MMOL_PER_MIN);
  }

  return {
    trueMmolAt(at: Date): number {
      const t = at.getTime();
      if (Number.isNaN(t)) throw new RangeError('invalid instant');
      if (t < lastAt) throw new RangeError('the glucose model only moves forward in time');
      lastAt = t;
      const minutes = Math.max(0, (t - startMs) / MINUTE);
      while (minute + 1 <= minutes) {
        minute++;
        current = next;
        next = step(current, minute + 1);
      }
      return current + (next - current) * (minutes - minute);
    },
    mealsBetween(from: Date, to: Date): Meal[] {
      planThrough(to.getTime());
      return meals
        .filter((m) => m.at >= from.getTime() && m.at < to.getTime())
        .sort((a, b) => a.at - b.at)
        .map((m) => ({ at: new Date(m.at), snack: m.snack }));
    },
  };
}

function prune(events: { until: number }[], at: number): void {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.until < at) events.splice(i, 1);
}

/** The measuring range of a fingerstick meter; beyond it the display shows LO or HI. */
export const METER_RANGE = { lowMmol: 0.6, highMmol: 33.3 } as const;

/**
 * What a fingerstick meter displays for a true value: error well within ISO 15197:2013 (95 % within
 * ±0.83 mmol/L below 5.55 and within ±15 % at or above), rounded to one decimal like the display.
 */
export function meterReading(trueMmol: number, random: () => number): { mmol: number | null; flag: MeterFlag | null } {
  const error = trueMmol < 5.55 ? 0.3 * normal(random) : trueMmol * 0.055 * normal(random);
  return displayed(trueMmol + error, METER_RANGE);
}

/** The measuring range of a CGM sensor (40-400 mg/dL, as common sensors); beyond it, LO or HI. */
export const SENSOR_RANGE = { lowMmol: 2.2, highMmol: 22.2 } as const;

/**
 * What a CGM sensor reports for a glucose value, one decimal: by default about 95 % within ±10 %.
 * A caller modelling the sensor's slowly drifting calibration passes a smaller white-noise share.
 */
export function sensorReading(
  mmol: number,
  random: () => number,
  relativeSd = 0.05,
): { mmol: number | null; flag: MeterFlag | null } {
  return displayed(mmol * (1 + relativeSd * normal(random)), SENSOR_RANGE);
}

function displayed(measured: number, range: { lowMmol: number; highMmol: number }) {
  const mmol = Math.round(measured * 10) / 10;
  if (mmol < range.lowMmol) return { mmol: null, flag: 'LO' as const };
  if (mmol > range.highMmol) return { mmol: null, flag: 'HI' as const };
  return { mmol, flag: null };
}
