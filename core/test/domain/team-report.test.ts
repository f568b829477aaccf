import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALERT_RULES, SEVERITIES } from '../../src/domain/alert-rules.ts';
import { BAND_COUNT, TARGET_PROFILES } from '../../src/domain/targets.ts';
import {
  assembleTeamReport,
  median,
  REPORT_DEFAULT_DAYS,
  resolveReportPeriod,
  type ReportAlertFacts,
  type ReportPatientFacts,
} from '../../src/domain/team-report.ts';
import { swedishLocalTime } from '../../src/domain/swedish-time.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const TO = new Date('2026-03-29T00:00:00Z');
const FROM = new Date(TO.getTime() - 28 * DAY);
/** 5-minute slots of the 28 days. */
const SLOTS = (28 * DAY) / (5 * MINUTE);

/** Band counts: bands 0-6 are <3.0, 3.0-3.4, 3.5-3.8, 3.9-7.8, 7.9-10.0, 10.1-13.9, >13.9. */
const bands = (...counts: number[]) => Array.from({ length: BAND_COUNT }, (_, i) => counts[i] ?? 0);

function patient(over: Partial<ReportPatientFacts> & { id: string }): ReportPatientFacts {
  const b = over.bands ?? bands();
  return {
    name: over.id,
    labels: [],
    targetProfile: 'standard',
    responsiblePhysician: null,
    cgmPaired: false,
    noDataMinutes: 2880,
    bands: b,
    previousBands: bands(),
    bySource: { device: b.reduce((a, n) => a + n, 0), manual: 0, import: 0 },
    cgmSlots: 0,
    cgmSeen: false,
    lastReadingAt: b.some((n) => n > 0) ? new Date(TO.getTime() - 60 * MINUTE) : null,
    ...over,
  };
}

function alert(over: Partial<ReportAlertFacts> & { patientId: string }): ReportAlertFacts {
  return {
    rule: 'low',
    severity: 'warning',
    openedAt: new Date(TO.getTime() - 2 * DAY),
    acknowledgedAt: null,
    resolvedAt: new Date(TO.getTime() - DAY),
    escalated: false,
    retrospective: false,
    ...over,
  };
}

const doctor = (teamPhysician = true) => ({ id: '00000000-0000-4000-8000-0000000000d0', name: 'Dr', teamPhysician });

describe('the team report period', () => {
  const now = new Date('2027-06-15T10:00:00Z');

  it('defaults to the last 28 days up to now', () => {
    expect(resolveReportPeriod({}, now)).toEqual({
      ok: true,
      from: new Date(now.getTime() - REPORT_DEFAULT_DAYS * DAY),
      to: now,
    });
  });

  it('reads a day as Swedish midnight, a day as `to` included whole', () => {
    const r = resolveReportPeriod({ from: { day: '2026-03-01' }, to: { day: '2026-03-31' } }, now);
    // 1 March is CET (+01:00); 1 April is CEST (+02:00).
    expect(r).toEqual({ ok: true, from: new Date('2026-02-28T23:00:00Z'), to: new Date('2026-03-31T22:00:00Z') });
  });

  it('ends a period that reaches past now at now, and refuses one that starts later', () => {
    expect(resolveReportPeriod({ from: { day: '2027-06-01' }, to: { day: '2027-06-15' } }, now)).toEqual({
      ok: true,
      from: new Date('2027-05-31T22:00:00Z'),
      to: now,
    });
    expect(resolveReportPeriod({ from: { day: '2027-06-16' } }, now)).toMatchObject({
      ok: false,
      error: { code: 'PERIOD_REVERSED', message: 'from must be before now' },
    });
  });

  it('refuses a reversed or empty period and one longer than 366 days, with their codes', () => {
    const at = (iso: string) => ({ instant: new Date(iso) });
    expect(
      resolveReportPeriod({ from: at('2026-03-02T00:00:00Z'), to: at('2026-03-01T00:00:00Z') }, now),
    ).toMatchObject({ ok: false, error: { code: 'PERIOD_REVERSED', field: 'to' } });
    expect(
      resolveReportPeriod({ from: at('2026-03-01T00:00:00Z'), to: at('2026-03-01T00:00:00Z') }, now),
    ).toMatchObject({ ok: false, error: { code: 'PERIOD_REVERSED' } });
    expect(resolveReportPeriod({ from: { day: '2025-01-01' }, to: { day: '2026-01-02' } }, now)).toMatchObject({
      ok: false,
      error: { code: 'PERIOD_TOO_LONG', field: 'from' },
    });
    // 367 days are refused above; a whole leap year (2024-01-01 .. 2024-12-31, 366 days) is not.
    expect(resolveReportPeriod({ from: { day: '2024-01-01' }, to: { day: '2024-12-31' } }, now).ok).toBe(true);
  });

  it('always gives from < to within the limit, or a refusal (property)', () => {
    const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((t) => new Date(t));
    fc.assert(
      fc.property(fc.option(instant), fc.option(instant), (from, to) => {
        const r = resolveReportPeriod(
          { ...(from ? { from: { instant: from } } : {}), ...(to ? { to: { instant: to } } : {}) },
          now,
        );
        if (r.ok) {
          expect(r.from.getTime()).toBeLessThan(r.to.getTime());
          expect(r.to.getTime()).toBeLessThanOrEqual(now.getTime());
          expect(r.to.getTime() - r.from.getTime()).toBeLessThanOrEqual(366 * DAY + 3_600_000);
        } else {
          expect(['PERIOD_REVERSED', 'PERIOD_TOO_LONG']).toContain(r.error.code);
        }
      }),
    );
  });

  it('is the same instant for a day whatever the clock change (swedishLocalTime)', () => {
    const r = resolveReportPeriod({ from: { day: '2026-10-25' }, to: { day: '2026-10-25' } }, now);
    expect(r).toEqual({
      ok: true,
      from: new Date(swedishLocalTime(Date.UTC(2026, 9, 25) / DAY, 0)),
      to: new Date(swedishLocalTime(Date.UTC(2026, 9, 26) / DAY, 0)),
    });
    // The day the clocks go back has 25 hours.
    if (r.ok) expect(r.to.getTime() - r.from.getTime()).toBe(25 * 3_600_000);
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the middle two', () => {
    expect(median([])).toBeNull();
    expect(median([7])).toBe(7);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('lies between min and max and has as many values on each side (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1 }), (values) => {
        const m = median(values)!;
        expect(m).toBeGreaterThanOrEqual(Math.min(...values));
        expect(m).toBeLessThanOrEqual(Math.max(...values));
        expect(values.filter((v) => v < m).length).toBeLessThanOrEqual(values.length / 2);
        expect(values.filter((v) => v > m).length).toBeLessThanOrEqual(values.length / 2);
      }),
    );
  });
});

describe('assembling a team report', () => {
  it('counts patients, physicians by label, targets by each profile, alerts and readings by hand', () => {
    const report = assembleTeamReport({
      from: FROM,
      to: TO,
      patients: [
        // Standard, 80 % in range, nothing low or high beyond limits: meets everything. CGM, 80 % of slots.
        patient({
          id: 'a',
          labels: ['säbo', 'typ 2'],
          responsiblePhysician: doctor(),
          bands: bands(0, 0, 0, 60, 20, 20, 0),
          cgmPaired: true,
          cgmSeen: true,
          cgmSlots: Math.ceil(SLOTS * 0.8),
          bySource: { device: 90, manual: 10, import: 0 },
        }),
        // Older/high risk: 60 % in range (> 50 % met), 2 % below (< 1 % not met), 0 very high (met).
        patient({
          id: 'b',
          labels: ['säbo'],
          targetProfile: 'older_high_risk',
          responsiblePhysician: doctor(false),
          bands: bands(0, 2, 0, 50, 10, 38, 0),
        }),
        // No readings at all.
        patient({ id: 'c', labels: ['typ 1'], responsiblePhysician: doctor(), cgmPaired: true }),
        // Pregnancy: band 3.5-7.8 is bands 2-3; 50 % in that band, 5 % very low: nothing below met.
        patient({ id: 'd', targetProfile: 'pregnancy', bands: bands(5, 0, 10, 40, 45, 0, 0) }),
      ],
      alerts: [
        alert({
          patientId: 'a',
          severity: 'critical',
          rule: 'urgent_low',
          acknowledgedAt: new Date(TO.getTime() - 2 * DAY + 4 * MINUTE),
          escalated: true,
        }),
        alert({ patientId: 'a', acknowledgedAt: new Date(TO.getTime() - 2 * DAY + 20 * MINUTE) }),
        alert({ patientId: 'b', rule: 'high', acknowledgedAt: new Date(TO.getTime() - 2 * DAY + 90 * MINUTE) }),
        alert({ patientId: 'b', rule: 'no_data', retrospective: true, acknowledgedAt: new Date(TO.getTime() - DAY) }),
        alert({ patientId: 'd', rule: 'rapid_change', severity: 'info', resolvedAt: null }),
        // Opened before the period, still open in it: not counted, but it keeps d's triage.
        alert({ patientId: 'd', rule: 'high', openedAt: new Date(FROM.getTime() - DAY), resolvedAt: null }),
        // Another team's patient: left out.
        alert({ patientId: 'x' }),
      ],
    });

    expect(report.period).toEqual({ from: FROM.toISOString(), to: TO.toISOString() });
    expect(report.days).toBe(28);
    expect(report.patients).toBe(4);
    expect(report.withPhysician).toBe(2); // b's physician has left the team
    expect(report.labels).toEqual([
      { label: 'säbo', patients: 2, withPhysician: 1 },
      { label: 'typ 1', patients: 1, withPhysician: 1 },
      { label: 'typ 2', patients: 1, withPhysician: 1 },
    ]);
    expect(report.targets).toEqual({
      evaluated: 3,
      tirMet: 2, // a (80 > 70) and b (60 > 50); d has 50 in its own band 3.5-7.8
      belowMet: 1, // a; b has 2 % below the band (limit 1), d 5 % very low
      aboveMet: 2, // a (20 < 25, 0 < 5) and b (0 very high < 10); d has 45 % above 7.8
      sufficientData: 1, // a: 80 % of the slots; c wears a CGM with nothing
      cgm: 2,
      allMet: 1,
    });
    expect(report.alerts).toEqual({
      opened: 5,
      bySeverity: { critical: 1, warning: 3, info: 1 },
      byRule: { urgent_low: 1, low: 1, high: 1, urgent_high: 0, no_data: 1, rapid_change: 1 },
      acknowledged: 4,
      escalated: 1,
      medianMinutesToAck: 20, // of 4, 20 and 90; the retrospective one is left out
      retrospective: 1,
      ackTimes: {
        buckets: [
          { upToMinutes: 5, alerts: 1 },
          { upToMinutes: 15, alerts: 0 },
          { upToMinutes: 30, alerts: 1 },
          { upToMinutes: 60, alerts: 0 },
          { upToMinutes: 240, alerts: 1 },
          { upToMinutes: null, alerts: 0 },
        ],
        unacknowledged: 1,
      },
    });
    expect(report.readings).toEqual({ total: 300, bySource: { device: 290, manual: 10, import: 0 } });
    expect(report.tirDistribution.filter((b) => b.patients > 0)).toEqual([
      { from: 50, to: 60, patients: 1 },
      { from: 60, to: 70, patients: 1 },
      { from: 80, to: 90, patients: 1 },
    ]);
    // d's warning (opened before, unresolved at the end), b's time below, c without data, a calm.
    expect(report.followUp.map((r) => [r.id, r.triage.category])).toEqual([
      ['d', 'warning_alert'],
      ['b', 'low'],
      ['c', 'too_little_data'],
      ['a', 'rest'],
    ]);
    const a = report.followUp.find((r) => r.id === 'a')!;
    expect(a).toMatchObject({
      monitoring: 'cgm',
      readings: 100,
      sufficientData: true,
      alerts: { opened: 2, critical: 1 },
    });
    expect(a.dataSufficiency).toBeCloseTo(80, 1);
    expect(a.met).toEqual({ tir: true, below: true, above: true });
    expect(report.followUp.find((r) => r.id === 'c')!.met).toEqual({ tir: null, below: null, above: null });
  });

  it('flags a drop of TIR against the period before, and judges too little data at the end', () => {
    const report = assembleTeamReport({
      from: FROM,
      to: TO,
      patients: [
        patient({ id: 'steady', bands: bands(0, 0, 0, 80, 0, 20) }),
        patient({ id: 'dropped', bands: bands(0, 0, 0, 72, 0, 28), previousBands: bands(0, 0, 0, 95, 0, 5) }),
        patient({
          id: 'quiet',
          bands: bands(0, 0, 0, 10),
          lastReadingAt: new Date(TO.getTime() - 3 * DAY), // a fingerstick meter's 48 h passed
        }),
      ],
      alerts: [],
    });
    expect(report.followUp.map((r) => r.triage.category)).toEqual(['high', 'too_little_data', 'rest']);
    expect(report.followUp[0]!.id).toBe('dropped'); // 28 % above 10.0 flags before the TIR drop is looked at
    const dropped = assembleTeamReport({
      from: FROM,
      to: TO,
      patients: [patient({ id: 'dropped', bands: bands(0, 0, 0, 76, 0, 24), previousBands: bands(0, 0, 0, 95, 0, 5) })],
      alerts: [],
    });
    expect(dropped.followUp[0]!.triage).toMatchObject({ category: 'tir_drop' });
    expect(dropped.followUp[0]!.triage.measure).toBeCloseTo(19, 10);
    expect(dropped.followUp[0]!.previousInRange).toBe(95);
  });

  const facts = fc
    .record({
      labels: fc.subarray(['säbo', 'typ 1', 'typ 2', 'gravid']),
      targetProfile: fc.constantFrom(...TARGET_PROFILES),
      physician: fc.constantFrom(null, true, false),
      counts: fc.array(fc.nat({ max: 50 }), { minLength: BAND_COUNT, maxLength: BAND_COUNT }),
      previous: fc.array(fc.nat({ max: 50 }), { minLength: BAND_COUNT, maxLength: BAND_COUNT }),
      cgm: fc.boolean(),
      slots: fc.nat({ max: SLOTS }),
    })
    .map((f, i = 0): Omit<ReportPatientFacts, 'id'> & { id?: string } => ({
      ...patient({ id: String(i) }),
      labels: f.labels,
      targetProfile: f.targetProfile,
      responsiblePhysician: f.physician === null ? null : doctor(f.physician),
      bands: f.counts,
      previousBands: f.previous,
      bySource: { device: f.counts.reduce((a, n) => a + n, 0), manual: 0, import: 0 },
      cgmPaired: f.cgm,
      cgmSeen: f.cgm,
      cgmSlots: f.cgm ? f.slots : 0,
    }));
  const alertFacts = fc.record({
    patient: fc.nat({ max: 20 }),
    severity: fc.constantFrom(...SEVERITIES),
    rule: fc.constantFrom(...ALERT_RULES),
    openedAgo: fc.integer({ min: 0, max: 40 * DAY }),
    ackAfter: fc.option(fc.integer({ min: 0, max: 2 * DAY })),
    escalated: fc.boolean(),
    retrospective: fc.boolean(),
  });

  it('never counts more than there are, and sums up sensibly (property)', () => {
    fc.assert(
      fc.property(fc.array(facts, { maxLength: 20 }), fc.array(alertFacts, { maxLength: 40 }), (ps, as) => {
        const patients = ps.map((p, i) => ({ ...p, id: `p${i}`, name: `p${i}` }));
        const alerts = as.map((a) => {
          const openedAt = new Date(TO.getTime() - 1 - a.openedAgo);
          return alert({
            patientId: `p${a.patient}`,
            severity: a.severity,
            rule: a.rule,
            openedAt,
            acknowledgedAt: a.ackAfter === null ? null : new Date(openedAt.getTime() + a.ackAfter),
            escalated: a.escalated,
            retrospective: a.retrospective,
          });
        });
        const r = assembleTeamReport({ from: FROM, to: TO, patients, alerts });
        const n = patients.length;
        expect(r.patients).toBe(n);
        expect(r.withPhysician).toBeLessThanOrEqual(n);
        const t = r.targets;
        for (const met of [t.tirMet, t.belowMet, t.aboveMet, t.allMet]) expect(met).toBeLessThanOrEqual(t.evaluated);
        expect(t.allMet).toBeLessThanOrEqual(Math.min(t.tirMet, t.belowMet, t.aboveMet));
        expect(t.evaluated).toBeLessThanOrEqual(n);
        expect(t.sufficientData).toBeLessThanOrEqual(t.cgm);
        expect(t.cgm).toBeLessThanOrEqual(n);
        for (const l of r.labels) {
          expect(l.withPhysician).toBeLessThanOrEqual(l.patients);
          expect(l.patients).toBeLessThanOrEqual(n);
        }
        // Each patient counts once under each of its labels; the physicians among them likewise.
        expect(r.labels.reduce((a, l) => a + l.patients, 0)).toBe(patients.reduce((a, p) => a + p.labels.length, 0));
        expect(r.labels.reduce((a, l) => a + l.withPhysician, 0)).toBeLessThanOrEqual(r.withPhysician * 4);
        expect(r.tirDistribution.reduce((a, b) => a + b.patients, 0)).toBe(t.evaluated);

        const x = r.alerts;
        expect(Object.values(x.bySeverity).reduce((a, v) => a + v, 0)).toBe(x.opened);
        expect(Object.values(x.byRule).reduce((a, v) => a + v, 0)).toBe(x.opened);
        expect(x.acknowledged).toBeLessThanOrEqual(x.opened);
        expect(x.escalated).toBeLessThanOrEqual(x.opened);
        const timed = x.ackTimes.buckets.reduce((a, b) => a + b.alerts, 0);
        expect(timed + x.ackTimes.unacknowledged + x.retrospective).toBe(x.opened);
        if (timed === 0) expect(x.medianMinutesToAck).toBeNull();
        else expect(x.medianMinutesToAck).toBeGreaterThanOrEqual(0);
        expect(r.readings.total).toBe(
          r.readings.bySource.device + r.readings.bySource.manual + r.readings.bySource.import,
        );

        // The follow-up list holds every patient once, in triage order.
        expect(r.followUp.map((f) => f.id).sort()).toEqual(patients.map((p) => p.id).sort());
        for (let i = 1; i < r.followUp.length; i++)
          expect(r.followUp[i - 1]!.triage.rank).toBeLessThanOrEqual(r.followUp[i]!.triage.rank);
      }),
    );
  });
});
