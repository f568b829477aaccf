import { demoClinic } from '@glucoboard/core/simulation';
import { describe, expect, it } from 'vitest';
import { startLiveMeters } from '../src/live-meters.ts';
import { patientOf } from '../src/patient.ts';
import { VirtualTime } from '../src/scheduler.ts';
import { FakeServer } from './support/fake-server.ts';

const NOW = Date.parse('2026-01-15T12:00:00Z');
const MINUTE = 60_000;

describe('live demo meters', () => {
  const patients = demoClinic().teams.flatMap((t) => t.patients);
  const devices = patients.map((p, i) => ({
    deviceId: p.device.serial,
    token: `token-${i}`,
    kind: p.device.kind,
    nextSeq: 800 + i,
  }));

  it('go on with the demo patients’ own profiles', () => {
    for (const p of patients) expect(patientOf(p.device.serial, 1).profile).toEqual(p.profile);
  });

  it('measure in real time from now, from the seq after the history, until stopped', async () => {
    const time = new VirtualTime(NOW);
    const server = new FakeServer(time);
    for (const d of devices) server.pair(d.deviceId, d.token, d.kind);
    const live = startLiveMeters({ devices, timers: time, uplinks: server.uplinks() });
    time.advance(60 * MINUTE);
    expect(live.progress().connected).toBe(devices.length);
    const stopping = live.stop();
    time.advance(10_000);
    const { summary, ledger, devices: next } = await stopping;

    expect(summary.pending).toBe(0);
    expect(summary.malformed.queued).toBe(0);
    expect(summary.duplicates).toBe(0);
    let cgmReadings = 0;
    for (const d of devices) {
      const acked = [...ledger.device(d.deviceId).acked()];
      for (const r of acked) {
        expect(r.measuredAt).toBeGreaterThanOrEqual(NOW);
        expect(r.measuredAt).toBeLessThanOrEqual(NOW + 60 * MINUTE);
      }
      if (d.kind === 'cgm') {
        // An hour of a CGM in real time: every 5 minutes, 12 readings unless the signal was lost a while.
        expect(acked.length).toBeLessThanOrEqual(12);
        expect(acked.map((r) => r.seq)).toEqual(acked.map((_, i) => d.nextSeq + i));
        for (let i = 1; i < acked.length; i++)
          expect((acked[i]!.measuredAt - acked[i - 1]!.measuredAt) % (5 * MINUTE)).toBe(0);
        cgmReadings += acked.length;
      }
      expect(next.find((x) => x.deviceId === d.deviceId)!.nextSeq).toBe(d.nextSeq + acked.length);
    }
    const sensors = devices.filter((d) => d.kind === 'cgm').length;
    expect(cgmReadings).toBeGreaterThan(sensors * 12 * 0.9);
  });
});
