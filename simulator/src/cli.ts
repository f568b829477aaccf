import fs from 'node:fs/promises';
import { parseArguments, USAGE, UsageError, type CliArguments } from './arguments.ts';
import { DeviceFileError, readDeviceFile, writeDeviceFile, type DeviceRecord } from './device-file.ts';
import { formatDuration } from './durations.ts';
import type pg from 'pg';
import { formatProgress } from './progress.ts';
import { provisionMeters, ProvisioningError } from './provisioning.ts';
import {
  resolveSimulationOptions,
  SimulationOptionError,
  startSimulation,
  type SimulationOptions,
} from './simulation.ts';
import type { StoredVerification } from './verify.ts';

/** `npm run sim -- ...`: exit 0 when done, 1 when the run failed or lost data, 2 for a bad command line. */
async function main(argv: string[]): Promise<number> {
  let args: CliArguments;
  try {
    args = parseArguments(argv, process.env);
  } catch (err) {
    if (err instanceof UsageError) return usageError(err.message);
    throw err;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  const options = (devices: SimulationOptions['devices']): SimulationOptions => ({
    url: args.url,
    devices,
    seed: args.seed,
    speed: args.speed,
    durationMs: args.durationMs,
    historyMs: args.historyMs,
    backfillMs: args.backfillMs,
    rampMs: args.rampMs,
    ...(args.connectFirstMs !== undefined ? { connectFirstMs: args.connectFirstMs } : {}),
    malformedShare: args.malformedShare,
    lostAckShare: args.lostAckShare,
    disconnectShare: args.disconnectShare,
    offlineShare: args.offlineShare,
    outageMs: args.outageMs,
    clockSkewMs: args.clockSkewMs,
    ackTimeoutMs: args.ackTimeoutMs,
    connectTimeoutMs: args.connectTimeoutMs,
    maxConnecting: args.maxConnecting,
    backoff: { baseMs: args.backoffBaseMs, capMs: args.backoffCapMs },
    maxBatch: args.maxBatch,
    drainTimeoutMs: args.drainTimeoutMs,
  });
  // Checked before provisioning, which costs the server an argon2 hash per meter.
  try {
    resolveSimulationOptions(options([{ deviceId: 'check', token: 'check', kind: 'cgm', nextSeq: 0 }]));
  } catch (err) {
    if (err instanceof SimulationOptionError) return usageError(err.message);
    throw err;
  }

  let devices: DeviceRecord[];
  try {
    devices = await meters(args);
  } catch (err) {
    if (err instanceof UsageError || err instanceof DeviceFileError) return usageError(err.message);
    if (err instanceof ProvisioningError) {
      process.stderr.write(`sim: provisioning failed: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  const live = !args.quiet;
  const tty = process.stderr.isTTY === true;
  const simulation = startSimulation({
    ...options(devices),
    onProgress: live
      ? (p) => process.stderr.write(tty ? `\r\x1b[2K${formatProgress(p)}` : `${formatProgress(p)}\n`)
      : undefined,
  });
  const { clock } = simulation;
  process.stderr.write(
    `sim: ${devices.length} meters, simulated time from ${new Date(clock.simStart - args.backfillMs).toISOString()}` +
      ` at speed ${args.speed}` +
      (args.durationMs !== undefined ? `, measuring for ${formatDuration(args.durationMs)}` : ', until Ctrl-C') +
      '\n',
  );
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    process.stderr.write(interrupts === 1 ? '\nsim: stopping; draining queues (Ctrl-C again to quit now)\n' : '\n');
    simulation.stop({ drain: interrupts === 1 });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const report = await simulation.done;
  if (live && tty) process.stderr.write('\n');
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  if (args.saveDevices) {
    const next = new Map(report.devices.map((d) => [d.deviceId, d.nextSeq]));
    await writeDeviceFile(
      args.saveDevices,
      devices.map((d) => ({ ...d, nextSeq: next.get(d.deviceId) ?? d.nextSeq })),
    );
    process.stderr.write(`sim: devices saved to ${args.saveDevices}\n`);
  }

  let verification: StoredVerification | undefined;
  if (args.verify) {
    verification = await withDatabase(args.databaseUrl!, async (pool) => {
      const { verifyStored } = await import('./verify.ts');
      return verifyStored(pool, report.ledger);
    });
  }
  const output = { profile: args.devicesFile ? 'devices' : args.profile, ...report.summary, verification };
  const json = `${JSON.stringify(output, null, 2)}\n`;
  if (args.summaryFile) await fs.writeFile(args.summaryFile, json);
  else process.stdout.write(json);

  if (verification && (verification.lost > 0 || verification.duplicated > 0 || verification.mismatched > 0)) {
    process.stderr.write(
      `sim: verification FAILED: ${verification.lost} lost, ${verification.duplicated} duplicated, ${verification.mismatched} mismatched\n`,
    );
    return 1;
  }
  return 0;
}

async function meters(args: CliArguments): Promise<DeviceRecord[]> {
  if (args.devicesFile !== undefined) {
    const all = await readDeviceFile(args.devicesFile);
    const wanted = args.meters ?? all.length;
    if (wanted > all.length) {
      throw new UsageError(`--meters ${wanted}: ${args.devicesFile} holds only ${all.length} devices`);
    }
    const chosen = all.slice(0, wanted);
    if (!args.continueSeqs) return chosen;
    const { continueAfterStored } = await import('./verify.ts');
    return withDatabase(args.databaseUrl!, (pool) => continueAfterStored(pool, chosen));
  }
  const count = args.meters ?? 100;
  const started = Date.now();
  process.stderr.write(`sim: provisioning ${count} meters at ${args.url} ...\n`);
  const devices = await provisionMeters({
    url: args.url,
    email: args.adminEmail!,
    password: args.adminPassword!,
    meters: count,
    profile: args.profile,
    seed: args.seed,
    concurrency: args.provisionConcurrency,
    teamName: args.team,
    onProgress: (done, total) => {
      if (!args.quiet && (done % 100 === 0 || done === total))
        process.stderr.write(`sim: provisioned ${done}/${total}\n`);
    },
  });
  process.stderr.write(`sim: provisioned ${count} meters in ${formatDuration(Date.now() - started)}\n`);
  return devices;
}

/** The server's database, for --verify and --continue-seqs (loaded only then: an ordinary run needs no storage layer). */
async function withDatabase<T>(databaseUrl: string, use: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const [{ openDatabase }, { createLogger }] = await Promise.all([
    import('@glucoboard/core/storage'),
    import('@glucoboard/core/platform'),
  ]);
  const db = await openDatabase({ databaseUrl, dataDir: '.', log: createLogger('silent', 'sim'), poolSize: 2 });
  try {
    return await use(db.pool);
  } finally {
    await db.close();
  }
}

function usageError(message: string): number {
  process.stderr.write(`sim: ${message}\nRun npm run sim -- --help for the options.\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sim: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
