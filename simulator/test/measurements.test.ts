import { METER_RANGE, SENSOR_RANGE } from '@glucoboard/core/simulation';
import { describe, expect, it } from 'vitest';
import { measurementsOf, type Measurement } from '../src/measurements.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const FROM = Date.parse('2025-03-03T00:00:00Z');

function take(device: { deviceId: string; kind: 'bgm' | 'cgm' }, seed: number, until: number): Measurement[] {
  const schedule = measurementsOf(device, seed, FROM);
  const out: Measurement[] = [];
  while (schedule.nextAt < until) out.push(schedule.take());
  return out;
}

describe('measurements', () => {
  it('are the same for the same seed, device and start, and differ for another seed or device', () => {
    const cgm = { deviceId: 'SIM-CGM-1', kind: 'cgm' as const };
    const a = take(cgm, 42, FROM + DAY);
    expect(take(cgm, 42, FROM + DAY)).toEqual(a);
    expect(take(cgm, 43, FROM + DAY)).not.toEqual(a);
    expect(take({ ...cgm, deviceId: 'SIM-CGM-2' }, 42, FROM + DAY)).not.toEqual(a);
    const bgm = { deviceId: 'SIM-BGM-1', kind: 'bgm' as const };
    expect(take(bgm, 7, FROM + 5 * DAY)).toEqual(take(bgm, 7, FROM + 5 * DAY));
  });

  it('do not depend on how far ahead the caller looks', () => {
    const cgm = { deviceId: 'SIM-CGM-9', kind: 'cgm' as const };
    const schedule = measurementsOf(cgm, 1, FROM);
    const stepwise: Measurement[] = [];
    for (let until = FROM; until < FROM + DAY; until += 37 * MINUTE) {
      while (schedule.nextAt < until) stepwise.push(schedule.take());
    }
    expect(stepwise).toEqual(take(cgm, 1, stepwise.at(-1)!.at + 1));
  });

  it('give a CGM a reading every 5 minutes, in its range or flagged LO/HI, with gaps now and then', () => {
    const readings = take({ deviceId: 'SIM-CGM-3', kind: 'cgm' }, 5, FROM + 14 * DAY);
    expect(readings.length).toBeGreaterThan(14 * 288 * 0.9);
    expect(readings.length).toBeLessThanOrEqual(14 * 288);
    for (const [i, r] of readings.entries()) {
      expect(r.kind).toBe('cgm');
      if (i > 0) expect((r.at - readings[i - 1]!.at) % (5 * MINUTE)).toBe(0);
      if (r.flag === null) {
        expect(r.mmol).toBeGreaterThanOrEqual(SENSOR_RANGE.lowMmol);
        expect(r.mmol).toBeLessThanOrEqual(SENSOR_RANGE.highMmol);
        expect(Math.round(r.mmol! * 10) / 10).toBe(r.mmol);
      } else {
        expect(r.mmol).toBeNull();
      }
    }
  });

  it('show LO or HI when glucose leaves the sensor range', () => {
    // Across many hypo- and hyper-prone patients some episode goes beyond 2.2-22.2 mmol/L.
    const flags = new Set<string>();
    for (let i = 0; i < 40 && flags.size < 2; i++) {
      for (const r of take({ deviceId: `SIM-CGM-${i}`, kind: 'cgm' }, 3, FROM + 14 * DAY))
        if (r.flag) flags.add(r.flag);
    }
    expect([...flags].sort()).toEqual(['HI', 'LO']);
  });

  it('give a fingerstick meter checks around meals and now and then a control-solution test', () => {
    const readings = take({ deviceId: 'SIM-BGM-2', kind: 'bgm' }, 11, FROM + 60 * DAY);
    const perDay = readings.length / 60;
    expect(perDay).toBeGreaterThanOrEqual(3);
    expect(perDay).toBeLessThanOrEqual(6.5);
    expect(readings.filter((r) => r.meal === 'before').length).toBeGreaterThanOrEqual(3 * 60);
    expect(readings.some((r) => r.meal === 'after')).toBe(true);
    const controls = readings.filter((r) => r.kind === 'control');
    expect(controls.length).toBeGreaterThanOrEqual(1);
    for (const c of controls) {
      expect(c.meal).toBeNull();
      expect(c.mmol).toBeGreaterThan(4.5); // the control solution's 6.1 with meter noise
      expect(c.mmol).toBeLessThan(7.7);
    }
    for (const [i, r] of readings.entries()) {
      expect(r.at % 1000).toBe(0);
      if (i > 0) expect(r.at).toBeGreaterThan(readings[i - 1]!.at);
      if (r.flag === null) {
        expect(r.mmol).toBeGreaterThanOrEqual(METER_RANGE.lowMmol);
        expect(r.mmol).toBeLessThanOrEqual(METER_RANGE.highMmol);
      }
    }
  });

  it('never measure before the start', () => {
    for (const kind of ['bgm', 'cgm'] as const) {
      const readings = take({ deviceId: `SIM-${kind}`, kind }, 2, FROM + 2 * DAY);
      expect(readings[0]!.at).toBeGreaterThanOrEqual(FROM);
    }
  });
});
