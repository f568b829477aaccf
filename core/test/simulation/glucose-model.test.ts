import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createGlucoseModel,
  MAX_RATE_MMOL_PER_MIN,
  meterReading,
  MODEL_BOUNDS,
  PATIENT_PROFILES,
  sensorReading,
  type GlucoseProfile,
} from '../../src/simulation/glucose-model.ts';
import { seededRandom } from '../../src/simulation/random.ts';
import { swedishDayIndex, swedishLocalTime } from '../../src/domain/swedish-time.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Local midnight (CET) starting Monday 3 March 2025. */
const START = new Date('2025-03-02T23:00:00Z');

/** A patient with nothing going on but what a test switches on. */
const QUIET: GlucoseProfile = {
  baselineMmol: 7,
  variability: 0,
  mealsPerDay: 0,
  hypoPerWeek: 0,
  hyperPerWeek: 0,
  dawnPhenomenon: false,
  exercisePerWeek: 0,
};

function trace(profile: GlucoseProfile, seed: number, days: number, stepMinutes = 1): number[] {
  const model = createGlucoseModel(profile, seed, START);
  const values: number[] = [];
  for (let t = 0; t < days * DAY; t += stepMinutes * MINUTE)
    values.push(model.trueMmolAt(new Date(START.getTime() + t)));
  return values;
}

const share = <T>(values: T[], test: (v: T) => boolean) => values.filter(test).length / values.length;
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Mean of a per-minute trace at one minute of the (CET) day, over all days. */
const meanAtMinuteOfDay = (values: number[], minuteOfDay: number) =>
  mean(values.filter((_, i) => i % 1440 === minuteOfDay));

/** A source whose Box-Muller deviate is 0 (cos(pi/2)), so meters measure without error. */
const noiseless = () => 0.25;

describe('glucose model', () => {
  it('tells the same story for the same seed, profile and start, and another for another seed', () => {
    const first = trace(PATIENT_PROFILES.variable, 42, 2);
    expect(trace(PATIENT_PROFILES.variable, 42, 2)).toEqual(first);
    expect(trace(PATIENT_PROFILES.variable, 43, 2)).not.toEqual(first);
  });

  it('gives the same values however often it is asked, and asking for meals changes nothing', () => {
    const everyMinute = trace(PATIENT_PROFILES.hypoProne, 7, 3);
    const model = createGlucoseModel(PATIENT_PROFILES.hypoProne, 7, START);
    model.mealsBetween(START, new Date(START.getTime() + 10 * DAY));
    for (let minute = 0; minute < 3 * 1440; minute += 37) {
      expect(model.trueMmolAt(new Date(START.getTime() + minute * MINUTE))).toBeCloseTo(everyMinute[minute]!, 10);
    }
  });

  it('interpolates between minutes and refuses to go back in time', () => {
    const model = createGlucoseModel(PATIENT_PROFILES.stable, 1, START);
    const a = model.trueMmolAt(new Date(START.getTime() + 10 * MINUTE));
    const half = model.trueMmolAt(new Date(START.getTime() + 10.5 * MINUTE));
    const b = model.trueMmolAt(new Date(START.getTime() + 11 * MINUTE));
    expect(half).toBeCloseTo((a + b) / 2, 10);
    expect(() => model.trueMmolAt(new Date(START.getTime() + 10 * MINUTE))).toThrow(RangeError);
  });

  it('stays within physiological bounds and mostly changes slower than 0.1 mmol/L per minute', () => {
    for (const profile of Object.values(PATIENT_PROFILES)) {
      for (const seed of [1, 2, 3]) {
        const values = trace(profile, seed, 14);
        const rates = values.slice(1).map((v, i) => Math.abs(v - values[i]!));
        expect(Math.min(...values)).toBeGreaterThanOrEqual(MODEL_BOUNDS.minMmol);
        expect(Math.max(...values)).toBeLessThanOrEqual(MODEL_BOUNDS.maxMmol);
        expect(Math.max(...rates)).toBeLessThanOrEqual(MAX_RATE_MMOL_PER_MIN + 1e-9);
        expect(share(rates, (r) => r < 0.1)).toBeGreaterThan(0.9);
      }
    }
  });

  it('stays within bounds for any sensible profile', () => {
    const profiles = fc.record({
      baselineMmol: fc.double({ min: 3, max: 16, noNaN: true }),
      variability: fc.double({ min: 0, max: 1, noNaN: true }),
      mealsPerDay: fc.integer({ min: 0, max: 8 }),
      hypoPerWeek: fc.double({ min: 0, max: 14, noNaN: true }),
      hyperPerWeek: fc.double({ min: 0, max: 14, noNaN: true }),
      dawnPhenomenon: fc.boolean(),
      exercisePerWeek: fc.double({ min: 0, max: 14, noNaN: true }),
    });
    fc.assert(
      fc.property(profiles, fc.integer(), (profile, seed) => {
        for (const v of trace(profile, seed, 2, 3)) {
          if (!(v >= MODEL_BOUNDS.minMmol && v <= MODEL_BOUNDS.maxMmol)) return false;
        }
        return true;
      }),
      { numRuns: 25 },
    );
  });

  it('makes a hypo-prone patient spend measurably more time below 3.9 than a stable one over 14 days', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const hypoProne = share(trace(PATIENT_PROFILES.hypoProne, seed, 14), (v) => v < 3.9);
      const stable = share(trace(PATIENT_PROFILES.stable, seed, 14), (v) => v < 3.9);
      expect(hypoProne - stable).toBeGreaterThan(0.01);
    }
  });

  it('has hypo episodes that stay below 3.0 for about 20-60 minutes', () => {
    const runs: number[] = [];
    for (const seed of [1, 2, 3]) {
      let run = 0;
      for (const v of trace(PATIENT_PROFILES.hypoProne, seed, 14)) {
        if (v < 3) {
          run++;
        } else if (run > 0) {
          runs.push(run);
          run = 0;
        }
      }
    }
    expect(runs.length).toBeGreaterThanOrEqual(3 * 5); // about 10 expected per patient in 14 days
    expect(share(runs, (minutes) => minutes >= 15 && minutes <= 70)).toBeGreaterThan(0.75);
  });

  it('has hyper episodes above 14, some above 20, for a hyper-prone patient', () => {
    const traces = [1, 2, 3].map((seed) => trace(PATIENT_PROFILES.hyperProne, seed, 14));
    for (const values of traces) expect(share(values, (v) => v > 14)).toBeGreaterThan(0.05);
    expect(traces.some((values) => values.some((v) => v > 20))).toBe(true);
    expect(share(trace(PATIENT_PROFILES.stable, 1, 14), (v) => v > 14)).toBeLessThan(0.05);
  });

  it('rises after meals, peaking within 45-120 minutes of lunch at noon', () => {
    const values = trace({ ...QUIET, mealsPerDay: 3 }, 5, 14);
    const beforeLunch = meanAtMinuteOfDay(values, 11 * 60 + 30);
    let peakMinute = 12 * 60;
    for (let m = 12 * 60; m < 15 * 60; m++) {
      if (meanAtMinuteOfDay(values, m) > meanAtMinuteOfDay(values, peakMinute)) peakMinute = m;
    }
    expect(meanAtMinuteOfDay(values, peakMinute) - beforeLunch).toBeGreaterThan(1.2);
    expect(peakMinute).toBeGreaterThanOrEqual(12 * 60 + 45);
    expect(peakMinute).toBeLessThanOrEqual(14 * 60);
    // ...and insulin brings it back before dinner.
    expect(Math.abs(meanAtMinuteOfDay(values, 16 * 60 + 30) - 7)).toBeLessThan(0.7);
  });

  it('rises in the early morning with dawn phenomenon, and not without it', () => {
    const dawnRise = (dawnPhenomenon: boolean) => {
      const values = trace({ ...QUIET, dawnPhenomenon }, 3, 14);
      return meanAtMinuteOfDay(values, 7 * 60 + 45) - meanAtMinuteOfDay(values, 3 * 60 + 30);
    };
    expect(dawnRise(true)).toBeGreaterThan(0.7);
    expect(Math.abs(dawnRise(false))).toBeLessThan(0.5);
  });

  it('dips with exercise', () => {
    const daytime = (exercisePerWeek: number) =>
      mean(trace({ ...QUIET, exercisePerWeek }, 9, 14).filter((_, i) => i % 1440 >= 600 && i % 1440 < 1320));
    expect(daytime(0) - daytime(14)).toBeGreaterThan(0.3);
  });

  it('lists main meals near 07, 12 and 18 local time', () => {
    const model = createGlucoseModel({ ...QUIET, mealsPerDay: 3 }, 11, START);
    const meals = model.mealsBetween(START, new Date(START.getTime() + 7 * DAY));
    expect(meals).toHaveLength(21);
    expect(meals.every((meal) => !meal.snack)).toBe(true);
    meals.forEach((meal, i) => {
      const nominal = swedishLocalTime(swedishDayIndex(START.getTime()) + Math.floor(i / 3), [7, 12, 18][i % 3]!);
      expect(Math.abs(meal.at.getTime() - nominal)).toBeLessThanOrEqual(75 * MINUTE);
    });
  });
});

describe('meter reading', () => {
  it('errs within ISO 15197:2013 for at least 95 % of 2,000 readings, without bias', () => {
    const random = seededRandom(2013);
    let within = 0;
    const errors: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const trueMmol = 2 + 23 * random();
      const { mmol } = meterReading(trueMmol, random);
      expect(mmol).not.toBeNull();
      const error = mmol! - trueMmol;
      errors.push(error);
      const limit = trueMmol < 5.55 ? 0.83 : 0.15 * trueMmol;
      if (Math.abs(error) <= limit) within++;
    }
    expect(within / 2000).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(mean(errors))).toBeLessThan(0.1);
    // A meter that never erred would pass too; it must be noisy.
    expect(share(errors, (e) => Math.abs(e) > 0.1)).toBeGreaterThan(0.5);
  });

  it('shows values to one decimal, LO below 0.6 and HI above 33.3 at the measuring range edges', () => {
    expect(meterReading(0.6, noiseless)).toEqual({ mmol: 0.6, flag: null });
    expect(meterReading(0.5, noiseless)).toEqual({ mmol: null, flag: 'LO' });
    expect(meterReading(0, noiseless)).toEqual({ mmol: null, flag: 'LO' });
    expect(meterReading(33.3, noiseless)).toEqual({ mmol: 33.3, flag: null });
    expect(meterReading(33.4, noiseless)).toEqual({ mmol: null, flag: 'HI' });
    expect(meterReading(7.26, noiseless)).toEqual({ mmol: 7.3, flag: null });
    const random = seededRandom(5);
    const far = (trueMmol: number) => Array.from({ length: 200 }, () => meterReading(trueMmol, random).flag);
    expect(share(far(0.2), (flag) => flag === 'LO')).toBeGreaterThan(0.9);
    expect(share(far(40), (flag) => flag === 'HI')).toBeGreaterThan(0.95);
  });

  it('always answers a value within the measuring range or a flag, never both', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 45, noNaN: true }), fc.integer(), (trueMmol, seed) => {
        const { mmol, flag } = meterReading(trueMmol, seededRandom(seed));
        if (mmol === null) return (flag === 'LO' && trueMmol < 5) || (flag === 'HI' && trueMmol > 20);
        return flag === null && mmol >= 0.6 && mmol <= 33.3 && Math.round(mmol * 10) / 10 === mmol;
      }),
    );
  });
});

describe('sensor reading', () => {
  it('stays within ±10 % for about 95 % of readings and flags beyond 2.2-22.2', () => {
    const random = seededRandom(10);
    let within = 0;
    for (let i = 0; i < 2000; i++) {
      const trueMmol = 3 + 15 * random();
      const { mmol } = sensorReading(trueMmol, random);
      if (Math.abs(mmol! - trueMmol) <= 0.1 * trueMmol + 0.05) within++;
    }
    expect(within / 2000).toBeGreaterThanOrEqual(0.94);
    expect(sensorReading(2.1, noiseless)).toEqual({ mmol: null, flag: 'LO' });
    expect(sensorReading(2.2, noiseless)).toEqual({ mmol: 2.2, flag: null });
    expect(sensorReading(22.3, noiseless)).toEqual({ mmol: null, flag: 'HI' });
  });
});
