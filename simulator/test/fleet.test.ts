import { readingFingerprint } from '@glucoboard/core/domain';
import { describe, expect, it } from 'vitest';
import type { AckedReading } from '../src/ledger.ts';
import type { MeterIdentity } from '../src/meter.ts';
import { VirtualTime } from '../src/scheduler.ts';
import { startSimulation, type SimulationOptions, type SimulationReport } from '../src/simulation.ts';
import { FakeServer } from './support/fake-server.ts';

/**
 * Whole fleets against an in-memory server that keeps the device contract, on virtual time: the
 * meters' state machines (queues, resends, backoff, retry-after, outages) run exactly as they do
 * against the real server, deterministically and in milliseconds.
 */

const NOW = Date.parse('2026-01-15T12:00:00Z');

function meters(count: number, prefix = 'SIM-T'): MeterIdentity[] {
  return Array.from({ length: count }, (_, i) => ({
    deviceId: `${prefix}-${i}`,
    token: `token-${i}`,
    kind: i % 3 === 0 ? ('bgm' as const) : ('cgm' as const),
    nextSeq: i % 5 === 0 ? 1000 : 0,
  }));
}

async function run(
  options: Omit<SimulationOptions, 'timers' | 'uplinks'>,
  configure: (server: FakeServer) => void = () => undefined,
): Promise<{ report: SimulationReport; server: FakeServer }> {
  const time = new VirtualTime(NOW);
  const server = new FakeServer(time);
  for (const d of options.devices) server.pair(d.deviceId, d.token, d.kind);
  configure(server);
  const simulation = startSimulation({ ...options, timers: time, uplinks: server.uplinks() });
  let finished = false;
  void simulation.done.then(() => (finished = true));
  for (let step = 0; step < 100_000 && !finished; step++) {
    time.advance(250);
    if (simulation.progress().phase === 'done') await simulation.done;
  }
  return { report: await simulation.done, server };
}

const fingerprint = (r: AckedReading) => readingFingerprint({ ...r, measuredAt: new Date(r.measuredAt) });

function ackedByDevice(report: SimulationReport): Map<string, string[]> {
  return new Map(
    [...report.ledger.devices()].map((d) => [
      d.deviceId,
      [...d.acked()].sort((a, b) => a.seq - b.seq).map((r) => `${r.seq}:${fingerprint(r)}`),
    ]),
  );
}

const TROUBLE = {
  malformedShare: 0.1,
  lostAckShare: 0.2,
  disconnectShare: 0.1,
  offlineShare: 0.3,
  outageMs: 5000,
  clockSkewMs: 4 * 60_000,
  ackTimeoutMs: 1000,
  backoff: { baseMs: 200, capMs: 2000 },
};

describe('a fleet against a server that keeps the contract', () => {
  it('delivers every valid reading exactly once through lost acks, dropped connections, outages and OVERLOADED', async () => {
    const devices = meters(40);
    const { report, server } = await run({ devices, seed: 7, speed: 600, durationMs: 60_000, ...TROUBLE }, (s) => {
      s.overloadEvery = 13;
    });
    const { summary, ledger } = report;

    // Trouble really happened.
    expect(summary.lostAcks).toBeGreaterThan(0);
    expect(summary.ackTimeouts).toBeGreaterThan(0);
    expect(summary.forcedDisconnects).toBeGreaterThan(0);
    expect(summary.outages).toBeGreaterThan(0);
    expect(summary.reconnects).toBeGreaterThan(0);
    expect(summary.refusedBatches['OVERLOADED']).toBeGreaterThan(0);
    expect(summary.duplicates).toBeGreaterThan(0);
    expect(summary.resent).toBeGreaterThan(0);

    // And nothing was lost or doubled: every valid reading acked, stored once, with its content.
    expect(summary.pending).toBe(0);
    expect(summary.unexpectedRejections).toEqual({});
    expect(ledger.acked).toBe(summary.generated);
    expect(server.stored.size).toBe(summary.generated);
    // Acks that were lost told nobody what they accepted; the resends then came back as duplicates.
    expect(summary.accepted).toBeLessThan(server.stored.size);
    expect(summary.accepted + summary.duplicates).toBeGreaterThanOrEqual(summary.generated);
    for (const device of ledger.devices()) {
      for (const r of device.acked())
        expect(server.stored.get(`${device.deviceId}\u0000${r.seq}`)).toBe(fingerprint(r));
    }

    // Every malformed item was answered with the code it was made for, and every kind was tried.
    expect(summary.malformed.queued).toBeGreaterThan(0);
    expect(summary.malformed.rejectedAsExpected).toBe(summary.malformed.queued);
    expect(summary.malformed.unexpected).toBe(0);
    const codes = new Set([...ledger.devices()].flatMap((d) => d.rejections.map((r) => r.code)));
    expect([...codes].sort()).toEqual([
      'BATCH_TOO_LARGE',
      'FUTURE_TIMESTAMP',
      'INVALID_PAYLOAD',
      'INVALID_READING',
      'OUT_OF_RANGE',
      'SEQ_CONFLICT',
      'TOO_OLD',
    ]);

    // Seqs start at each device's nextSeq, and the report carries the next ones on.
    for (const d of report.devices) {
      const acked = [...ledger.device(d.deviceId).acked()].map((r) => r.seq);
      const start = devices.find((x) => x.deviceId === d.deviceId)!.nextSeq;
      expect(Math.min(...acked)).toBe(start);
      expect(d.nextSeq).toBeGreaterThan(Math.max(...acked));
    }
    expect(summary.connected).toBeLessThanOrEqual(40);
    expect(summary.everConnected).toBe(40);
  });

  it('measures the same readings under the same seed, whatever the network did', async () => {
    const devices = meters(12);
    const base = { devices, seed: 99, speed: 1200, durationMs: 20_000, malformedShare: 0.1, clockSkewMs: 60_000 };
    const calm = await run(base);
    const again = await run(base);
    const rough = await run({ ...base, ...TROUBLE, malformedShare: 0.1, clockSkewMs: 60_000 }, (s) => {
      s.overloadEvery = 5;
      s.latencyMs = 40;
    });
    expect(again.report.summary).toEqual(calm.report.summary);
    expect(calm.report.summary.accepted).toBe(calm.report.summary.generated);
    expect(calm.report.summary.duplicates).toBe(0);
    expect(ackedByDevice(rough.report)).toEqual(ackedByDevice(calm.report));
    expect(rough.report.summary.malformed.queued).toBe(calm.report.summary.malformed.queued);
    const other = await run({ ...base, seed: 100 });
    expect(ackedByDevice(other.report)).not.toEqual(ackedByDevice(calm.report));
  });

  it('gives up on a meter the server refuses (DEVICE_AUTH) without retrying, and runs the others', async () => {
    const devices = meters(3);
    const { report, server } = await run({ devices, speed: 600, durationMs: 10_000 }, (s) =>
      s.pair(devices[1]!.deviceId, 'another token', devices[1]!.kind),
    );
    expect(server.connects.filter((c) => c.deviceId === devices[1]!.deviceId)).toHaveLength(1);
    expect(report.summary.refusedMeters).toBe(1);
    expect(report.summary.connectErrors).toEqual({ DEVICE_AUTH: 1 });
    expect(report.summary.everConnected).toBe(2);
    expect(report.ledger.device(devices[0]!.deviceId).ackedCount).toBeGreaterThan(0);
  });

  it('waits at least retryAfterMs after OVERLOADED before sending again', async () => {
    const devices = meters(1).map((d) => ({ ...d, kind: 'cgm' as const }));
    const { server, report } = await run({ devices, speed: 600, durationMs: 30_000 }, (s) => {
      s.overloadEvery = 2;
      s.overloadRetryAfterMs = 1500;
    });
    const refused = server.batches.filter((b) => b.answer === 'OVERLOADED');
    expect(refused.length).toBeGreaterThan(3);
    for (const b of refused) {
      const next = server.batches.find((x) => x.at > b.at);
      if (next) expect(next.at - b.at).toBeGreaterThanOrEqual(1500);
    }
    expect(report.summary.pending).toBe(0);
  });

  it('backfills what it held in batches of at most 500, oldest first', async () => {
    const devices = [{ deviceId: 'SIM-B-1', token: 't', kind: 'cgm' as const, nextSeq: 0 }];
    const { server, report } = await run({ devices, durationMs: 0, backfillMs: 3 * 24 * 3_600_000 });
    expect(server.batches.map((b) => b.size)).toEqual([500, report.summary.generated - 500]);
    expect(report.summary.generated).toBeGreaterThan(800);
    const acked = [...report.ledger.device('SIM-B-1').acked()];
    expect(acked.map((r) => r.seq)).toEqual(acked.map((_, i) => i));
    expect(Math.min(...acked.map((r) => r.measuredAt))).toBeGreaterThanOrEqual(NOW - 3 * 24 * 3_600_000);
    expect(Math.max(...acked.map((r) => r.measuredAt))).toBeLessThanOrEqual(NOW);
  });

  it('resends a batch whose ack is late and settles it by whichever ack comes first', async () => {
    const devices = meters(4);
    const { report, server } = await run(
      { devices, speed: 600, durationMs: 20_000, ackTimeoutMs: 1000 },
      (s) => (s.latencyMs = 1600),
    );
    expect(report.summary.ackTimeouts).toBeGreaterThan(0);
    expect(report.summary.duplicates).toBeGreaterThan(0);
    expect(report.summary.pending).toBe(0);
    expect(report.ledger.acked).toBe(report.summary.generated);
    expect(server.stored.size).toBe(report.summary.generated);
  });

  it('keeps at most --max-connecting handshakes in flight', async () => {
    const devices = meters(30);
    const { server, report } = await run({ devices, durationMs: 5000, maxConnecting: 3 }, (s) => (s.latencyMs = 300));
    expect(server.maxHandshakes).toBe(3);
    expect(report.summary.everConnected).toBe(30);
  });

  it('with connectFirstMs measures the connected fleet: the duration and the measured acks start once all are connected', async () => {
    const devices = meters(30);
    let measuringCalls = 0;
    const slowHandshakes = (s: FakeServer) => (s.handshakeMs = 500);
    const { report } = await run(
      {
        devices,
        speed: 60,
        durationMs: 10_000,
        maxConnecting: 3,
        connectFirstMs: 60_000,
        onMeasuring: () => measuringCalls++,
      },
      slowHandshakes,
    );
    const s = report.summary;
    // Ten rounds of three handshakes at 500 ms each.
    expect(s.measured?.connected).toBe(30);
    expect(s.measured!.afterMs).toBeGreaterThanOrEqual(4500);
    expect(s.measured!.afterMs).toBeLessThan(6000);
    expect(measuringCalls).toBe(1);
    expect(s.elapsedMs).toBeGreaterThanOrEqual(s.measured!.afterMs + 10_000);
    // The meters connected first were already sending: their acks are in the whole run's only.
    expect(s.measured!.ackLatencyMs.count).toBeGreaterThan(0);
    expect(s.measured!.ackLatencyMs.count).toBeLessThan(s.ackLatencyMs.count);
    expect(s.measured!.readingsPerSecond).toBeGreaterThan(0);
    // Simulated time never ran past real now: no reading was refused as from the future.
    expect(s.unexpectedRejections).toEqual({});
    expect(report.ledger.acked).toBe(s.generated);
  });

  it('with connectFirstMs starts measuring when the wait runs out, with the meters connected by then', async () => {
    const devices = meters(30);
    const { report } = await run(
      { devices, speed: 60, durationMs: 5000, maxConnecting: 1, connectFirstMs: 3000 },
      (s) => (s.handshakeMs = 500),
    );
    const measured = report.summary.measured!;
    expect(measured.afterMs).toBeGreaterThanOrEqual(3000);
    expect(measured.afterMs).toBeLessThan(3200);
    expect(measured.connected).toBeGreaterThanOrEqual(5);
    expect(measured.connected).toBeLessThan(30);
  });

  it('without connectFirstMs reports no measured part', async () => {
    const { report } = await run({ devices: meters(3), speed: 60, durationMs: 2000 });
    expect(report.summary.measured).toBeUndefined();
  });

  it('stops on request and drains what is queued first', async () => {
    const time = new VirtualTime(NOW);
    const server = new FakeServer(time);
    const devices = meters(5);
    for (const d of devices) server.pair(d.deviceId, d.token, d.kind);
    const simulation = startSimulation({ devices, speed: 600, timers: time, uplinks: server.uplinks() });
    time.advance(10_000);
    expect(simulation.progress().phase).toBe('running');
    simulation.stop();
    expect(simulation.progress().phase).not.toBe('running');
    time.advance(5000);
    const report = await simulation.done;
    expect(report.summary.pending).toBe(0);
    expect(report.summary.generated).toBeGreaterThan(0);
    expect(server.stored.size).toBe(report.summary.generated);
  });
});
