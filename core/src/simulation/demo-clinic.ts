import type { TeamRole } from '../domain/care-team.ts';
import type { DeviceKind, DeviceReading, MealMarker, ReadingKind } from '../domain/reading.ts';
import { swedishDayIndex, swedishLocalTime } from '../domain/swedish-time.ts';
import {
  createGlucoseModel,
  meterReading,
  PATIENT_PROFILES,
  sensorReading,
  type GlucoseModel,
  type GlucoseProfile,
  type PatientProfileName,
} from './glucose-model.ts';
import { normal, seededRandom, seedFor } from './random.ts';

/**
 * The demo clinic seeded on the first `npm start`: a hospital diabetes clinic and a municipal
 * home-care group escalating to it, with fictitious patients whose devices have a history. All names
 * are invented; no personal identity numbers are generated, as a valid personnummer may be a real one.
 */

export const DEMO_LABELS = ['säbo', 'hemsjukvård', 'typ 1', 'typ 2', 'gravid', 'insulinpump'] as const;
export type DemoLabel = (typeof DEMO_LABELS)[number];

export const DEMO_EMAIL_DOMAIN = 'demo.glucoboard.se';

export interface DemoMember {
  email: string;
  name: string;
  role: TeamRole;
}

export interface DemoPatient {
  name: string;
  identityNumber: null;
  labels: DemoLabel[];
  targetProfile: 'standard' | 'older_high_risk';
  /** Email of the team's physician responsible for the patient, if the team has one. */
  responsiblePhysicianEmail: string | null;
  device: { serial: string; kind: DeviceKind };
  profileName: PatientProfileName;
  profile: GlucoseProfile;
}

export interface DemoTeam {
  name: string;
  /** Name of the team that critical alerts escalate to, if any (it comes earlier in the list). */
  escalatesTo: string | null;
  escalateAfterMinutes: number;
  members: DemoMember[];
  patients: DemoPatient[];
}

export interface DemoClinic {
  teams: DemoTeam[];
}

const CLINIC = 'Diabetesmottagningen Östra';
const HOME_CARE = 'Hemsjukvården Centrum';

/** Invented full names, grouped so that the pregnant are young women and the home-care patients old. */
type NamePool = 'youngWoman' | 'youngMan' | 'olderWoman' | 'olderMan';
// prettier-ignore
const NAMES: Record<NamePool, readonly string[]> = {
  youngWoman: [
    'Elin Bergqvist', 'Sara Lindholm', 'Amira Haddad', 'Hanna Lindén', 'Wilma Sjöberg',
    'Maja Ekholm', 'Jovana Petrović', 'Ida Nyberg', 'Aino Korhonen', 'Linnea Holmgren',
  ],
  youngMan: [
    'Oskar Lundgren', 'Ali Rahimi', 'Viktor Engström', 'Emil Blom', 'Mehmet Yilmaz',
    'Johan Wikström', 'Samuel Ahlgren', 'Leo Dahlberg', 'Daniel Mäkinen',
  ],
  olderWoman: [
    'Birgitta Karlsson', 'Gunnel Åberg', 'Ingrid Wennberg', 'Margareta Strand', 'Ulla Lindqvist',
    'Elsa Fredriksson', 'Kerstin Nordin', 'Anita Berglund', 'Marianne Sundqvist', 'Inger Hägglund',
    'Britt Wallin', 'Siv Eklund', 'Gunilla Håkansson', 'Maj-Britt Lund', 'Sirkka Laine',
  ],
  olderMan: [
    'Gösta Lindfors', 'Karl-Erik Norling', 'Rune Björk', 'Bengt Ekman', 'Lennart Hellström',
    'Stig Mattsson', 'Rolf Axelsson', 'Kjell Sundberg', 'Göran Wahlström', 'Bertil Danielsson',
    'Arne Jonsson', 'Yusuf Demir', 'Raimo Virtanen', 'Tore Lundmark',
  ],
};

/** Who a patient is, clinically; names are dealt out to these by the seed. */
interface PatientTemplate {
  pool: NamePool;
  labels: DemoLabel[];
  kind: DeviceKind;
  profile: PatientProfileName;
  highRisk?: boolean;
}

const tpl = (
  pool: NamePool,
  kind: DeviceKind,
  profile: PatientProfileName,
  labels: DemoLabel[],
  highRisk = false,
): PatientTemplate => ({ pool, kind, profile, labels, highRisk });

/** The clinic: mostly type 1 on CGM, some pumps and pregnancies, type 2 on CGM or fingersticks. */
const CLINIC_PATIENTS: PatientTemplate[] = [
  tpl('youngWoman', 'cgm', 'variable', ['typ 1', 'insulinpump']),
  tpl('youngMan', 'cgm', 'stable', ['typ 1', 'insulinpump']),
  tpl('youngWoman', 'cgm', 'stable', ['typ 1', 'gravid']),
  tpl('youngWoman', 'cgm', 'hypoProne', ['typ 1', 'gravid', 'insulinpump']),
  tpl('youngMan', 'cgm', 'variable', ['typ 1']),
  tpl('youngMan', 'cgm', 'hyperProne', ['typ 1']),
  tpl('youngWoman', 'cgm', 'stable', ['typ 1']),
  tpl('youngMan', 'cgm', 'hypoProne', ['typ 1']),
  tpl('youngWoman', 'cgm', 'variable', ['typ 1']),
  tpl('youngMan', 'cgm', 'stable', ['typ 1', 'insulinpump']),
  tpl('youngWoman', 'cgm', 'stable', ['typ 1']),
  tpl('youngMan', 'cgm', 'variable', ['typ 1']),
  tpl('olderMan', 'cgm', 'stable', ['typ 2']),
  tpl('olderWoman', 'cgm', 'variable', ['typ 2']),
  tpl('olderMan', 'cgm', 'hyperProne', ['typ 2']),
  tpl('olderWoman', 'bgm', 'stable', ['typ 2']),
  tpl('olderMan', 'bgm', 'stable', ['typ 2']),
  tpl('youngWoman', 'cgm', 'variable', ['typ 2', 'gravid']),
  tpl('youngMan', 'bgm', 'variable', ['typ 2']),
  tpl('olderWoman', 'cgm', 'hypoProne', ['typ 1'], true),
  tpl('olderMan', 'cgm', 'stable', ['typ 1'], true),
  tpl('olderWoman', 'bgm', 'stable', ['typ 2'], true),
  tpl('olderMan', 'cgm', 'variable', ['typ 2']),
  tpl('youngWoman', 'cgm', 'stable', ['typ 1']),
  tpl('olderWoman', 'bgm', 'stable', ['typ 2']),
  tpl('olderMan', 'cgm', 'variable', ['typ 2'], true),
];

/** Municipal home care: elderly people at home or in special housing (SÄBO), mostly fingersticks. */
const HOME_CARE_PATIENTS: PatientTemplate[] = [
  tpl('olderWoman', 'bgm', 'stable', ['hemsjukvård', 'typ 2']),
  tpl('olderMan', 'bgm', 'variable', ['hemsjukvård', 'typ 2']),
  tpl('olderWoman', 'bgm', 'stable', ['säbo', 'typ 2']),
  tpl('olderMan', 'bgm', 'hypoProne', ['säbo', 'typ 2']),
  tpl('olderWoman', 'cgm', 'variable', ['hemsjukvård', 'typ 1']),
  tpl('olderMan', 'bgm', 'hyperProne', ['hemsjukvård', 'typ 2']),
  tpl('olderWoman', 'bgm', 'stable', ['hemsjukvård', 'typ 2']),
  tpl('olderWoman', 'bgm', 'variable', ['säbo', 'typ 2']),
  tpl('olderMan', 'cgm', 'stable', ['hemsjukvård', 'typ 2']),
  tpl('olderWoman', 'bgm', 'stable', ['hemsjukvård', 'typ 2']),
  tpl('olderMan', 'cgm', 'hypoProne', ['säbo', 'typ 1']),
  tpl('olderWoman', 'bgm', 'hyperProne', ['hemsjukvård', 'typ 2']),
  tpl('olderMan', 'bgm', 'stable', ['hemsjukvård', 'typ 2']),
  tpl('olderWoman', 'bgm', 'stable', ['säbo', 'typ 2']),
];

/** Staff do not depend on the seed, so that demo logins stay the same. */
const member = (name: string, role: DemoMember['role']): DemoMember => ({ email: demoEmail(name), name, role });
const CLINIC_MEMBERS = [
  member('Karolina Nyström', 'nurse'),
  member('Erik Sandell', 'physician'),
  member('Lena Åkerlund', 'admin'),
];
const HOME_CARE_MEMBERS = [
  member('Jenny Åström', 'nurse'),
  member('Fatima Osman', 'nurse'),
  member('Mikael Strömberg', 'admin'),
];

/** firstname.lastname at the demo domain, without Swedish letters (å, ä, ö become a, a, o). */
export function demoEmail(name: string): string {
  const local = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '.');
  return `${local}@${DEMO_EMAIL_DOMAIN}`;
}

export function demoClinic(seed = 1): DemoClinic {
  const random = seededRandom(seed);
  const names = Object.fromEntries(
    Object.entries(NAMES).map(([pool, list]) => [pool, shuffled(list, random)]),
  ) as Record<NamePool, string[]>;
  const serials: Record<DeviceKind, number> = { bgm: 0, cgm: 0 };

  const patientOf = (t: PatientTemplate, physician: string | null): DemoPatient => {
    const name = names[t.pool].shift();
    if (name === undefined) throw new Error(`demo name pool ${t.pool} is too small`);
    const serial = `DEMO-${t.kind.toUpperCase()}-${String(++serials[t.kind]).padStart(4, '0')}`;
    return {
      name,
      identityNumber: null,
      labels: [...t.labels],
      targetProfile: t.highRisk || t.labels.includes('säbo') ? 'older_high_risk' : 'standard',
      responsiblePhysicianEmail: physician,
      device: { serial, kind: t.kind },
      profileName: t.profile,
      profile: personalised(PATIENT_PROFILES[t.profile], random),
    };
  };
  const physicianOf = (members: DemoMember[]) => members.find((m) => m.role === 'physician')?.email ?? null;

  // The escalation target comes first, so that a seeder can create the teams in order.
  return {
    teams: [
      {
        name: CLINIC,
        escalatesTo: null,
        escalateAfterMinutes: 15,
        members: CLINIC_MEMBERS.map((m) => ({ ...m })),
        patients: CLINIC_PATIENTS.map((t) => patientOf(t, physicianOf(CLINIC_MEMBERS))),
      },
      {
        name: HOME_CARE,
        escalatesTo: CLINIC,
        escalateAfterMinutes: 15,
        members: HOME_CARE_MEMBERS.map((m) => ({ ...m })),
        // Home-care patients are elderly and frail: all of them get the older/high-risk targets.
        patients: HOME_CARE_PATIENTS.map((t) => ({ ...patientOf(t, null), targetProfile: 'older_high_risk' as const })),
      },
    ],
  };
}

/** A preset with small personal differences, so that patients on one preset are not clones. */
function personalised(preset: GlucoseProfile, random: () => number): GlucoseProfile {
  const baselineMmol = Math.round((preset.baselineMmol + clamp(0.4 * normal(random), -0.8, 0.8)) * 10) / 10;
  const variability = Math.round(clamp(preset.variability + 0.05 * normal(random), 0, 1) * 100) / 100;
  return { ...preset, baselineMmol, variability };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const CGM_INTERVAL = 5 * MINUTE;
/** Interstitial glucose, which a CGM measures, lags plasma glucose by some minutes. */
const SENSOR_LAG = 7 * MINUTE;
/** Level of the normal control solution (its bottle's range is about 5-7 mmol/L). */
export const CONTROL_SOLUTION_MMOL = 6.1;

interface Planned {
  at: number;
  kind: ReadingKind;
  meal: MealMarker | null;
}

/**
 * The readings a demo patient's device would have produced in [from, to), in time order with seq
 * from 0. The patient's serial is mixed into the seed, so patients on one preset differ.
 */
export function demoHistory(patient: DemoPatient, from: Date, to: Date, seed: number): DeviceReading[] {
  const patientSeed = seedFor(seed, patient.device.serial);
  const random = seededRandom(seedFor(patientSeed, 'device'));
  const [start, end] = [from.getTime(), to.getTime()];
  const model = createGlucoseModel(patient.profile, patientSeed, new Date(start - SENSOR_LAG));
  const calibration = sensorCalibration(random);
  const plan =
    patient.device.kind === 'cgm' ? planSensor(start, end, random) : planFingersticks(start, end, model, random);
  plan.sort((a, b) => a.at - b.at);

  return plan.map(({ at, kind, meal }, seq): DeviceReading => {
    const shown =
      kind === 'control'
        ? meterReading(CONTROL_SOLUTION_MMOL, random)
        : kind === 'cgm'
          ? sensorReading(model.trueMmolAt(new Date(at - SENSOR_LAG)) * calibration(), random, 0.025)
          : meterReading(model.trueMmolAt(new Date(at)), random);
    return { seq, measuredAt: new Date(at), mmol: shown.mmol, flag: shown.flag, kind, meal };
  });
}

/**
 * A sensor's error is mostly a slowly drifting calibration (AR(1) over readings, about 4 % SD, hours
 * long) rather than jitter; with the white noise on top, about 95 % of readings stay within ±10 %.
 */
function sensorCalibration(random: () => number): () => number {
  const keep = 0.98;
  let bias = 0.04 * normal(random);
  return () => {
    bias = keep * bias + Math.sqrt(1 - keep * keep) * 0.04 * normal(random);
    return 1 + bias;
  };
}

/** Every 5 minutes from a random phase, with an occasional gap of 15-60 minutes (signal loss). */
function planSensor(start: number, end: number, random: () => number): Planned[] {
  const plan: Planned[] = [];
  let skip = 0;
  for (let at = start + Math.floor(random() * 300) * SECOND; at < end; at += CGM_INTERVAL) {
    if (skip > 0) {
      skip--;
    } else if (random() < 1 / 200) {
      skip = 1 + Math.floor(random() * 10); // 2-11 readings missing in all
    } else {
      plan.push({ at, kind: 'cgm', meal: null });
    }
  }
  return plan;
}

/** Usual hours of breakfast, lunch and dinner, for a patient whose model eats fewer main meals. */
const MAIN_MEAL_HOURS = [7, 12, 18];

/**
 * When the patient eats breakfast, lunch and dinner on a (Swedish) day: the model's main meals,
 * or the usual hours if the model planned fewer. Fingersticks are taken around these.
 */
export function mainMealTimes(model: GlucoseModel, day: number): number[] {
  const [dayStart, dayEnd] = [swedishLocalTime(day, 0), swedishLocalTime(day + 1, 0)];
  const mains = model.mealsBetween(new Date(dayStart), new Date(dayEnd)).filter((meal) => !meal.snack);
  return mains.length >= MAIN_MEAL_HOURS.length
    ? mains.map((meal) => meal.at.getTime())
    : MAIN_MEAL_HOURS.map((hours) => swedishLocalTime(day, hours));
}

/**
 * 3-6 fingersticks a day: before each main meal, and two hours after some of them (the
 * post-prandial check); and a control-solution test about once a fortnight.
 */
function planFingersticks(start: number, end: number, model: GlucoseModel, random: () => number): Planned[] {
  const plan: Planned[] = [];
  const firstDay = swedishDayIndex(start);
  const lastDay = swedishDayIndex(end - 1);
  let controlDay = firstDay + Math.floor(random() * 14);
  for (let day = firstDay; day <= lastDay; day++) {
    const meals = mainMealTimes(model, day);
    const checkedAfter = shuffled(meals, random).slice(0, Math.floor(random() * 4));
    for (const meal of meals) plan.push({ at: meal - (5 + 15 * random()) * MINUTE, kind: 'bgm', meal: 'before' });
    for (const meal of checkedAfter) {
      plan.push({ at: meal + (105 + 30 * random()) * MINUTE, kind: 'bgm', meal: 'after' });
    }
    if (day === controlDay) {
      plan.push({ at: swedishLocalTime(day, 9.5 + 1.5 * random()), kind: 'control', meal: null });
      controlDay += 12 + Math.floor(random() * 5);
    }
  }
  // A meter keeps whole seconds.
  return plan.map((p) => ({ ...p, at: Math.round(p.at / SECOND) * SECOND })).filter((p) => p.at >= start && p.at < end);
}
