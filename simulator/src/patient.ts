import type { DeviceKind } from '@glucoboard/core/domain';
import {
  demoClinic,
  PATIENT_PROFILES,
  type GlucoseProfile,
  type PatientProfileName,
} from '@glucoboard/core/simulation';
import { randomFor } from './seeds.ts';

/** Whose glucose a meter measures: one of the model's presets, or a demo patient's own profile. */
export interface SimulatedPatient {
  profileName: PatientProfileName;
  profile: GlucoseProfile;
}

/** Mostly well-controlled patients, with enough hypo- and hyper-prone ones to keep a board busy. */
const PROFILE_WEIGHTS: [PatientProfileName, number][] = [
  ['stable', 0.45],
  ['variable', 0.3],
  ['hypoProne', 0.12],
  ['hyperProne', 0.13],
];

let demoPatients: Map<string, SimulatedPatient> | undefined;

/**
 * The patient behind a device. A serial of the demo clinic (`DEMO-CGM-0001`, ...) is that demo
 * patient, with the profile the demo's history was made with, so live demo meters carry on the
 * same story; any other device gets a preset drawn from the seed and its id.
 */
export function patientOf(deviceId: string, seed: number): SimulatedPatient {
  demoPatients ??= new Map(
    demoClinic()
      .teams.flatMap((team) => team.patients)
      .map((p) => [p.device.serial, { profileName: p.profileName, profile: p.profile }]),
  );
  const demo = demoPatients.get(deviceId);
  if (demo) return demo;
  let u = randomFor(seed, `${deviceId}:patient`)();
  for (const [name, weight] of PROFILE_WEIGHTS) {
    if (u < weight) return { profileName: name, profile: PATIENT_PROFILES[name] };
    u -= weight;
  }
  return { profileName: 'stable', profile: PATIENT_PROFILES.stable };
}

export type DeviceProfile = DeviceKind | 'mixed';

/** Share of CGM sensors in a mixed fleet: most type 1 patients in Sweden use one. */
export const MIXED_CGM_SHARE = 0.6;

/** The kind of the i-th provisioned meter of a fleet. */
export function kindOf(profile: DeviceProfile, index: number, seed: number): DeviceKind {
  if (profile !== 'mixed') return profile;
  return randomFor(seed, `meter-${index}:kind`)() < MIXED_CGM_SHARE ? 'cgm' : 'bgm';
}
