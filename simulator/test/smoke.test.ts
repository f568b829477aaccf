import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startTestSystem } from '@glucoboard/server/test-support/clinic';
import { readDeviceFile, writeDeviceFile, type DeviceRecord } from '../src/device-file.ts';
import { provisionMeters } from '../src/provisioning.ts';
import { runSimulation, type SimulationReport } from '../src/simulation.ts';
import { continueAfterStored, verifyStored, type StoredVerification } from '../src/verify.ts';
import { runCli } from './support/cli.ts';

/**
 * The CI smoke test: the real server on PostgreSQL, a few hundred meters provisioned through the
 * admin API, a few seconds of compressed time with malformed input, lost acks, dropped connections
 * and meters going out of range; then the database must hold every acked reading exactly once.
 * Nothing here asserts on timing: the numbers are printed, the correctness is asserted.
 */

const METERS = 300;

let env: Awaited<ReturnType<typeof startTestSystem>>;
let report: SimulationReport;
let verification: StoredVerification;
let rowsOfRun: number;
let provisionMs: number;
let impostorReport: SimulationReport;
let provisioned: DeviceRecord[];

beforeAll(async () => {
  env = await startTestSystem('postgres');
  const url = env.system.url;
  const started = Date.now();
  const devices = await provisionMeters({
    url,
    email: ADMIN.email,
    password: ADMIN.password,
    meters: METERS,
    profile: 'mixed',
    seed: 42,
    concurrency: 8,
    tag: 'SMOKE',
  });
  provisionMs = Date.now() - started;
  provisioned = devices;

  report = await runSimulation({
    url,
    devices,
    seed: 42,
    speed: 3000, // 5 s of real time tell about 4 hours
    durationMs: 5000,
    backfillMs: 2 * 3_600_000, // and each meter starts with 2 hours stored, sent in batches
    malformedShare: 0.05,
    lostAckShare: 0.05,
    disconnectShare: 0.03,
    offlineShare: 0.1,
    outageMs: 1000,
    clockSkewMs: 2 * 60_000,
    ackTimeoutMs: 3000,
    backoff: { baseMs: 100, capMs: 1000 },
    drainTimeoutMs: 20_000,
  });
  verification = await verifyStored(env.system.db.pool, report.ledger);
  // A meter with a real serial and a token the server never issued: refused, and left alone.
  impostorReport = await runSimulation({
    url,
    devices: [{ ...devices.find((d) => d.kind === 'cgm')!, token: 'not-a-token-the-server-issued' }],
    durationMs: 300,
    backfillMs: 3_600_000,
    drainTimeoutMs: 5000,
  });
  const rows = await env.system.db.pool.query<{ n: number }>(
    `select count(*)::int as n from readings where device_serial like 'SIM-SMOKE-%'`,
  );
  rowsOfRun = rows.rows[0]!.n;
  const s = report.summary;
  process.stderr.write(
    `simulator smoke: ${METERS} meters provisioned in ${provisionMs} ms; ${s.generated} readings, ` +
      `${s.readingsPerSecond} readings/s answered, ack p50 ${s.ackLatencyMs.p50} ms p99 ${s.ackLatencyMs.p99} ms, ` +
      `run ${s.elapsedMs} ms; ${s.duplicates} duplicates, ${s.malformed.queued} malformed\n`,
  );
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

describe('simulator against the real server (PostgreSQL)', () => {
  it('loses nothing and stores nothing twice', () => {
    expect(verification).toMatchObject({ lost: 0, duplicated: 0, mismatched: 0 });
    expect(verification.acked).toBeGreaterThan(METERS * 10);
    expect(verification.stored).toBe(verification.acked);
  });

  it('has every valid reading acked, and nothing else stored', () => {
    const s = report.summary;
    expect(s.pending).toBe(0);
    expect(s.unexpectedRejections).toEqual({});
    expect(verification.acked).toBe(s.generated);
    expect(rowsOfRun).toBe(s.generated);
    // Every valid reading was answered as stored at least once: new, or a duplicate of a resend.
    expect(s.accepted + s.duplicates).toBeGreaterThanOrEqual(s.generated);
    expect(s.accepted).toBeLessThanOrEqual(s.generated);
  });

  it('sent resends that the server answered as duplicates', () => {
    const s = report.summary;
    expect(s.lostAcks).toBeGreaterThan(0);
    expect(s.forcedDisconnects).toBeGreaterThan(0);
    expect(s.resent).toBeGreaterThan(0);
    expect(s.duplicates).toBeGreaterThan(0);
    expect(s.reconnects).toBeGreaterThan(0);
    expect(s.outages).toBeGreaterThan(0);
  });

  it('had every malformed reading and batch rejected with the code it was made for', () => {
    const s = report.summary;
    expect(s.malformed.queued).toBeGreaterThan(50);
    expect(s.malformed.rejectedAsExpected).toBe(s.malformed.queued);
    expect(s.malformed.unexpected).toBe(0);
    const seen = new Set([...report.ledger.devices()].flatMap((d) => d.rejections.map((r) => r.code)));
    for (const code of ['INVALID_READING', 'OUT_OF_RANGE', 'FUTURE_TIMESTAMP', 'TOO_OLD', 'SEQ_CONFLICT']) {
      expect(seen).toContain(code);
    }
    expect(s.refusedBatches['INVALID_PAYLOAD']).toBeGreaterThan(0);
    expect(s.refusedBatches['BATCH_TOO_LARGE']).toBeGreaterThan(0);
  });

  it('connected every meter, and gave up at once on a token the server never issued', () => {
    expect(report.summary.everConnected).toBe(METERS);
    expect(report.summary.refusedMeters).toBe(0);
    const s = impostorReport.summary;
    expect(s.refusedMeters).toBe(1);
    expect(s.connectErrors).toEqual({ DEVICE_AUTH: 1 });
    expect(s.everConnected).toBe(0);
    expect(s.sent).toBe(0);
    expect(s.pending).toBe(s.generated); // its readings stay on the meter
    expect(s.generated).toBeGreaterThan(0);
  });
  it('finds where each meter carries on from what is stored (after a restart of the demo)', async () => {
    const continued = await continueAfterStored(
      env.system.db.pool,
      provisioned.map((d) => ({ ...d, nextSeq: 0 })),
    );
    for (const d of continued) {
      const seqs = [...report.ledger.device(d.deviceId).acked()].map((r) => r.seq);
      expect(d.nextSeq).toBe(Math.max(-1, ...seqs) + 1);
    }
  });

  it('runs from the command line on a device file, carrying seqs on from the database, and verifies it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'glucoboard-sim-'));
    try {
      const input = path.join(dir, 'devices.json');
      const output = path.join(dir, 'devices-after.json');
      const summaryFile = path.join(dir, 'summary.json');
      // The file says every meter starts at seq 0, as if it had never run; --continue-seqs must fix that.
      await writeDeviceFile(
        input,
        provisioned.map((d) => ({ ...d, nextSeq: 0 })),
      );
      const cli = await runCli(
        [
          ...['--devices', input, '--meters', '40', '--url', env.system.url, '--speed', '600', '--duration', '2s'],
          ...['--malformed', '0.05', '--continue-seqs', '--verify', '--quiet'],
          ...['--summary', summaryFile, '--save-devices', output],
        ],
        { DATABASE_URL: env.system.db.url },
      );
      expect(cli.stderr).not.toMatch(/FAILED|Error/);
      expect(cli.code).toBe(0);
      const summary = JSON.parse(await fs.readFile(summaryFile, 'utf8'));
      // No SEQ_CONFLICT for a valid reading: nothing reused a seq the first run stored.
      expect(summary).toMatchObject({ meters: 40, pending: 0, unexpectedRejections: {}, malformed: { unexpected: 0 } });
      expect(summary.verification).toMatchObject({ lost: 0, duplicated: 0, mismatched: 0 });
      expect(summary.verification.acked).toBe(summary.generated);
      expect(summary.generated).toBeGreaterThan(0);
      const saved = await readDeviceFile(output);
      expect(saved).toHaveLength(40);
      for (const d of saved) {
        const firstRun = [...report.ledger.device(d.deviceId).acked()].map((r) => r.seq);
        expect(d.nextSeq).toBeGreaterThan(Math.max(-1, ...firstRun));
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('verifyStored notices a lost reading and a reading stored twice', async () => {
    const pool = env.system.db.pool;
    const [device] = [...report.ledger.devices()].filter((d) => d.ackedCount >= 2);
    const [first, second] = [...device!.acked()];
    await pool.query('delete from readings where device_serial = $1 and seq = $2', [device!.deviceId, first!.seq]);
    await pool.query(
      `insert into readings (measured_at, patient_id, device_serial, seq, mmol, flag, kind, meal, source)
       select measured_at, patient_id, device_serial, seq, mmol, flag, kind, meal, source
       from readings where device_serial = $1 and seq = $2`,
      [device!.deviceId, second!.seq],
    );
    const after = await verifyStored(pool, report.ledger);
    expect(after).toMatchObject({ lost: 1, duplicated: 1, acked: verification.acked });
    expect(after.examples.join('\n')).toContain(`${device!.deviceId} seq ${first!.seq}: acked but not stored`);
  });
});
