import { describe, expect, it } from 'vitest';
import {
  CONTROL_SOLUTION_MMOL,
  DEMO_LABELS,
  demoClinic,
  demoHistory,
  type DemoPatient,
} from '../../src/simulation/demo-clinic.ts';
import type { DeviceReading } from '../../src/domain/reading.ts';
import { swedishDayIndex } from '../../src/domain/swedish-time.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Local midnight (CET), Monday 3 March 2025. */
const FROM = new Date('2025-03-02T23:00:00Z');
const days = (n: number) => new Date(FROM.getTime() + n * DAY);

const clinic = demoClinic();
const [hospital, homeCare] = clinic.teams;
const patients = clinic.teams.flatMap((team) => team.patients);
const members = clinic.teams.flatMap((team) => team.members);
const firstPatient = (test: (p: DemoPatient) => boolean): DemoPatient => {
  const found = patients.find(test);
  if (!found) throw new Error('no such demo patient');
  return found;
};
const cgmPatient = firstPatient((p) => p.device.kind === 'cgm' && p.profileName === 'stable');
const bgmPatient = firstPatient((p) => p.device.kind === 'bgm');

function expectTimeOrdered(readings: DeviceReading[], from: Date, to: Date): void {
  readings.forEach((reading, i) => {
    expect(reading.seq).toBe(i);
    expect(reading.measuredAt.getTime()).toBeGreaterThanOrEqual(from.getTime());
    expect(reading.measuredAt.getTime()).toBeLessThan(to.getTime());
    if (i > 0) expect(reading.measuredAt.getTime()).toBeGreaterThan(readings[i - 1]!.measuredAt.getTime());
  });
}

function expectDisplayable(reading: DeviceReading): void {
  if (reading.mmol === null) {
    expect(['LO', 'HI']).toContain(reading.flag);
  } else {
    expect(reading.flag).toBeNull();
    expect(reading.mmol).toBeGreaterThanOrEqual(0.6);
    expect(reading.mmol).toBeLessThanOrEqual(33.3);
    expect(Math.round(reading.mmol * 10) / 10).toBe(reading.mmol);
  }
}

describe('demo clinic', () => {
  it('is the same for a seed and differs for another', () => {
    expect(demoClinic(1)).toEqual(clinic);
    expect(demoClinic(1)).toEqual(demoClinic(1));
    expect(demoClinic(2)).not.toEqual(clinic);
  });

  it('has a hospital clinic and a municipal home-care team escalating to it after 15 minutes', () => {
    expect(clinic.teams).toHaveLength(2);
    expect(hospital!.name).toMatch(/^Diabetesmottagningen /);
    expect(homeCare!.name).toMatch(/^Hemsjukvården /);
    expect(hospital!.escalatesTo).toBeNull();
    expect(homeCare!.escalatesTo).toBe(hospital!.name);
    for (const team of clinic.teams) expect(team.escalateAfterMinutes).toBe(15);
  });

  it('has about 40 patients with unique realistic names and no identity numbers', () => {
    expect(patients.length).toBeGreaterThanOrEqual(35);
    expect(patients.length).toBeLessThanOrEqual(45);
    for (const team of clinic.teams) expect(team.patients.length).toBeGreaterThanOrEqual(10);
    expect(new Set(patients.map((p) => p.name)).size).toBe(patients.length);
    for (const p of patients) {
      expect(p.name).toMatch(/^\p{Lu}[\p{L}-]+ \p{Lu}[\p{L}-]+$/u);
      expect(p.identityNumber).toBeNull();
    }
    // Nothing that looks like a personnummer anywhere (YYMMDD-XXXX or YYYYMMDDXXXX).
    expect(JSON.stringify(clinic)).not.toMatch(/\d{6}[-+]?\d{4}/);
  });

  it('gives every patient a device with a unique serial of its kind, the clinic mostly CGM, home care mostly BGM', () => {
    const serials = patients.map((p) => p.device.serial);
    expect(new Set(serials).size).toBe(serials.length);
    for (const p of patients)
      expect(p.device.serial).toMatch(new RegExp(`^DEMO-${p.device.kind.toUpperCase()}-\\d{4}$`));
    const cgmShare = (team: typeof hospital) =>
      team!.patients.filter((p) => p.device.kind === 'cgm').length / team!.patients.length;
    expect(cgmShare(hospital)).toBeGreaterThan(0.6);
    expect(cgmShare(homeCare)).toBeLessThan(0.4);
  });

  it('labels patients to fit their team, with older and SÄBO patients on high-risk targets', () => {
    for (const p of patients) {
      for (const label of p.labels) expect(DEMO_LABELS).toContain(label);
      expect(p.labels.filter((l) => l === 'typ 1' || l === 'typ 2')).toHaveLength(1);
      if (p.labels.includes('insulinpump')) expect(p.labels).toContain('typ 1');
      if (p.labels.includes('säbo')) expect(p.targetProfile).toBe('older_high_risk');
    }
    for (const p of hospital!.patients) expect(p.labels).not.toContain('säbo');
    for (const p of hospital!.patients) expect(p.labels).not.toContain('hemsjukvård');
    const homeCareLabels = homeCare!.patients.map((p) => p.labels);
    expect(homeCareLabels.every((l) => l.includes('hemsjukvård') !== l.includes('säbo'))).toBe(true);
    expect(homeCareLabels.filter((l) => l.includes('hemsjukvård')).length).toBeGreaterThan(homeCareLabels.length / 2);
    expect(homeCareLabels.some((l) => l.includes('säbo'))).toBe(true);
    for (const p of homeCare!.patients) expect(p.targetProfile).toBe('older_high_risk');
    expect(hospital!.patients.some((p) => p.targetProfile === 'standard')).toBe(true);
    expect(hospital!.patients.some((p) => p.labels.includes('gravid'))).toBe(true);
  });

  it('mixes glucose profiles so that the board has a few patients to triage', () => {
    const count = (name: DemoPatient['profileName']) => patients.filter((p) => p.profileName === name).length;
    expect(count('stable') + count('variable')).toBeGreaterThan(patients.length / 2);
    expect(count('hypoProne')).toBeGreaterThanOrEqual(2);
    expect(count('hyperProne')).toBeGreaterThanOrEqual(2);
    for (const p of patients) {
      expect(p.profile.baselineMmol).toBeGreaterThan(4);
      expect(p.profile.baselineMmol).toBeLessThan(12);
      expect(p.profile.variability).toBeGreaterThanOrEqual(0);
      expect(p.profile.variability).toBeLessThanOrEqual(1);
    }
  });

  it('staffs each team with 2-3 members at the demo domain: a nurse, and a physician or admin', () => {
    const emails = members.map((m) => m.email);
    expect(new Set(emails).size).toBe(emails.length);
    for (const email of emails) expect(email).toMatch(/^[a-z0-9.-]+@demo\.glucoboard\.se$/);
    for (const team of clinic.teams) {
      expect(team.members.length).toBeGreaterThanOrEqual(2);
      expect(team.members.length).toBeLessThanOrEqual(3);
      expect(team.members.some((m) => m.role === 'nurse')).toBe(true);
      expect(team.members.some((m) => m.role === 'physician' || m.role === 'admin')).toBe(true);
      const physicians = team.members.filter((m) => m.role === 'physician').map((m) => m.email);
      for (const p of team.patients) {
        if (p.responsiblePhysicianEmail !== null) expect(physicians).toContain(p.responsiblePhysicianEmail);
      }
    }
    const staffNames = new Set(members.map((m) => m.name));
    expect(patients.some((p) => staffNames.has(p.name))).toBe(false);
  });
});

describe('demo history', () => {
  it('is the same for the same seed, and differs by seed and by patient', () => {
    const history = demoHistory(cgmPatient, FROM, days(1), 1);
    expect(demoHistory(cgmPatient, FROM, days(1), 1)).toEqual(history);
    expect(demoHistory(cgmPatient, FROM, days(1), 2)).not.toEqual(history);
    const twin = firstPatient((p) => p !== cgmPatient && p.device.kind === 'cgm' && p.profileName === 'stable');
    const values = (readings: DeviceReading[]) => readings.map((r) => r.mmol);
    expect(values(demoHistory({ ...twin, profile: cgmPatient.profile }, FROM, days(1), 1))).not.toEqual(
      values(history),
    );
  });

  it('has a CGM reading every 5 minutes in time order, with only occasional gaps of at most an hour', () => {
    const to = days(14);
    const readings = demoHistory(cgmPatient, FROM, to, 1);
    expectTimeOrdered(readings, FROM, to);
    const intervals = readings.slice(1).map((r, i) => r.measuredAt.getTime() - readings[i]!.measuredAt.getTime());
    for (const interval of intervals) {
      expect(interval % (5 * MINUTE)).toBe(0);
      expect(interval).toBeLessThanOrEqual(60 * MINUTE);
    }
    const gaps = intervals.filter((interval) => interval > 5 * MINUTE);
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.length / intervals.length).toBeLessThan(0.02);
    expect(readings.length).toBeGreaterThan(0.9 * 14 * 288);
    for (const r of readings) {
      expect(r.kind).toBe('cgm');
      expect(r.meal).toBeNull();
      expectDisplayable(r);
    }
  });

  it('has 3-6 fingersticks a day around meals and a control-solution test about once a fortnight', () => {
    const to = days(30);
    const readings = demoHistory(bgmPatient, FROM, to, 1);
    expectTimeOrdered(readings, FROM, to);
    const fingersticks = readings.filter((r) => r.kind === 'bgm');
    const perDay = new Map<number, number>();
    for (const r of fingersticks) {
      expect(['before', 'after']).toContain(r.meal);
      expectDisplayable(r);
      const day = swedishDayIndex(r.measuredAt.getTime());
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    expect(perDay.size).toBe(30);
    for (const count of perDay.values()) {
      expect(count).toBeGreaterThanOrEqual(3);
      expect(count).toBeLessThanOrEqual(6);
    }
    const meanOf = (meal: 'before' | 'after') => {
      const values = fingersticks.filter((r) => r.meal === meal).map((r) => r.mmol ?? 0);
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    expect(meanOf('after')).toBeGreaterThan(meanOf('before'));

    const controls = readings.filter((r) => r.kind === 'control');
    expect(controls.length).toBeGreaterThanOrEqual(1);
    expect(controls.length).toBeLessThanOrEqual(3);
    for (const r of controls) {
      expect(r.meal).toBeNull();
      expect(Math.abs(r.mmol! - CONTROL_SOLUTION_MMOL)).toBeLessThan(1.5);
    }
  });

  it('has a control-solution test in 30 days for every BGM patient', () => {
    for (const p of patients.filter((patient) => patient.device.kind === 'bgm')) {
      expect(demoHistory(p, FROM, days(30), 3).some((r) => r.kind === 'control')).toBe(true);
    }
  });

  it('keeps to a window that does not start or end on a reading', () => {
    const from = new Date(FROM.getTime() + 7 * MINUTE + 13_000);
    const to = new Date(from.getTime() + 3 * 60 * MINUTE + 1);
    expectTimeOrdered(demoHistory(cgmPatient, from, to, 1), from, to);
    expect(demoHistory(bgmPatient, to, to, 1)).toEqual([]);
  });
});
