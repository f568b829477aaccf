import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { provisionMeters } from '../provisioning.ts';
import { runSimulation } from '../simulation.ts';
import type { DeviceRecord } from '../device-file.ts';
import { verifyStored } from '../verify.ts';
import { pgInsertCeiling, socketIoCeiling } from './ceilings.ts';
import { runHypoProbes } from './hypo-probes.ts';
import { markdown, percentiles, verdicts, type BenchReport, type ProfileResult } from './report.ts';
import { cpuSeconds, memoryOf, startStack, type CpuShares, type Stack } from './stack.ts';

/**
 * `npm run bench`: SPEC section 6's profiles on this machine, everything on it at once (server,
 * workers, PostgreSQL, Redis and the simulator). Steady (meters at one reading per 5 s, with hypo
 * probes and a real board client measuring alert latency), storm (every meter reconnects within
 * 10 s and backfills 12 h of CGM in batches), the naive baseline on the same storm, and the bare
 * ceilings. Writes bench-results/<time>.json and .md and prints the Markdown.
 */

const { values: args } = parseArgs({
  options: {
    meters: { type: 'string', default: '2000' },
    'steady-seconds': { type: 'string', default: '60' },
    backfill: { type: 'string', default: '144' },
    batch: { type: 'string', default: '48' },
    probes: { type: 'string', default: '30' },
    'naive-meters': { type: 'string' },
    'database-url': {
      type: 'string',
      default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
    'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
    out: { type: 'string', default: 'bench-results' },
    'cpu-prof': { type: 'boolean', default: false },
  },
});

const whole = (name: string, value: string | undefined, min: number): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`bench: --${name} must be a whole number >= ${min}\n`);
    process.exit(2);
  }
  return n;
};
const meters = whole('meters', args.meters, 1);
const steadySeconds = whole('steady-seconds', args['steady-seconds'], 10);
const backfill = whole('backfill', args.backfill, 1);
const batch = whole('batch', args.batch, 1);
const probes = whole('probes', args.probes, 1);
const naiveMeters = whole('naive-meters', args['naive-meters'] ?? String(Math.min(meters, 100)), 1);

const ADMIN = { email: 'bench@example.se', password: 'benchmark password, local only' };
const CGM_INTERVAL_MS = 5 * 60_000;
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

function stackOptions(ingestMode: 'group' | 'naive') {
  return {
    adminDatabaseUrl: args['database-url']!,
    redisUrl: args['redis-url']!,
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
    ingestMode,
    log: (line: string) => log(line),
    ...(args['cpu-prof'] ? { cpuProfileDir: path.resolve(args.out!, 'profiles', ingestMode) } : {}),
  };
}

async function provision(stack: Stack, count: number, tag: string): Promise<DeviceRecord[]> {
  const started = Date.now();
  const devices = await provisionMeters({
    url: stack.url,
    email: ADMIN.email,
    password: ADMIN.password,
    meters: count,
    profile: 'cgm',
    seed: 42,
    tag,
    concurrency: 8,
  });
  log(`provisioned ${count} meters (${tag}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return devices;
}

/** Peak resident memory of the server and workers processes while `work` runs. */
async function sampled<T>(stack: Stack, work: () => Promise<T>) {
  const peak = { server: 0, workers: 0 };
  const sample = async () => {
    const [s, w] = await Promise.all([memoryOf(stack.server.pid), memoryOf(stack.workers.pid)]);
    peak.server = Math.max(peak.server, s?.rss ?? 0);
    peak.workers = Math.max(peak.workers, w?.rss ?? 0);
  };
  const timer = setInterval(() => void sample(), 500);
  try {
    return { result: await work(), peak };
  } finally {
    clearInterval(timer);
    await sample();
  }
}

/** Waits until every committed batch has been evaluated (the outbox is empty); ms after `since`, or null. */
async function evaluated(stack: Stack, since: number, timeoutMs = 300_000): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const left = await stack.pool.query<{ n: string }>('select count(*) as n from evaluation_outbox');
    if (Number(left.rows[0]!.n) === 0) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 200));
  }
  return null;
}

/** A Prometheus counter or histogram part summed over its labels, from a server's /metrics. */
async function scrape(url: string): Promise<(name: string) => number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return (name) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function profile(
  stack: Stack,
  devices: DeviceRecord[],
  options: { durationMs: number; speed: number; rampMs: number; backfillMs?: number; maxBatch?: number },
  alongside?: () => Promise<unknown>,
): Promise<ProfileResult> {
  const before = await scrape(stack.url);
  const cpuBefore = await cpuSeconds(stack);
  const wallBefore = performance.now();
  const { result, peak } = await sampled(stack, async () => {
    const [report] = await Promise.all([
      runSimulation({
        url: stack.url,
        devices,
        seed: 42,
        speed: options.speed,
        durationMs: options.durationMs,
        rampMs: options.rampMs,
        ...(options.backfillMs !== undefined ? { backfillMs: options.backfillMs } : {}),
        ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
        // Long enough for a storm's whole backfill to be answered: the rate is measured to the last ack.
        drainTimeoutMs: 900_000,
        progressIntervalMs: 5000,
        onProgress: (p) =>
          log(
            `  ${p.phase}: ${p.connected} connected, ${p.sent} sent, ${p.answered} answered, ${Math.round(p.ratePerSecond)}/s`,
          ),
      }),
      alongside?.(),
    ]);
    const evaluatedAfterMs = await evaluated(stack, Date.now());
    return { report, evaluatedAfterMs };
  });
  const { report, evaluatedAfterMs } = result;
  const after = await scrape(stack.url);
  const cpuAfter = await cpuSeconds(stack);
  const wallSeconds = (performance.now() - wallBefore) / 1000;
  const delta = (name: string) => after(name) - before(name);
  const flushes = delta('glucoboard_db_write_seconds_count');
  // The next profile continues each meter's sequence.
  for (const d of report.devices) {
    const device = devices.find((x) => x.deviceId === d.deviceId);
    if (device) device.nextSeq = d.nextSeq;
  }
  const check = await verifyStored(stack.pool, report.ledger);
  const s = report.summary;
  return {
    meters: devices.length,
    readingsSent: s.sent,
    accepted: s.accepted,
    duplicates: s.duplicates,
    rejected: Object.values(s.rejected).reduce((a, b) => a + b, 0),
    refusedBatches: s.refusedBatches,
    readingsPerSecond: s.readingsPerSecond,
    ackMs: {
      count: s.ackLatencyMs.count,
      p50: s.ackLatencyMs.p50,
      p95: s.ackLatencyMs.p95,
      p99: s.ackLatencyMs.p99,
      max: s.ackLatencyMs.max,
    },
    evaluatedAfterMs,
    lost: check.lost,
    duplicated: check.duplicated,
    mismatched: check.mismatched,
    cpuCores: Object.fromEntries(
      Object.entries(cpuAfter).map(([group, seconds]) => [
        group,
        (seconds - cpuBefore[group as keyof CpuShares]) / wallSeconds,
      ]),
    ) as CpuShares,
    dbFlushes: flushes,
    meanFlushMs: flushes > 0 ? (1000 * delta('glucoboard_db_write_seconds_sum')) / flushes : null,
    rowsPerFlush: flushes > 0 ? delta('glucoboard_reading_batch_size_sum') / flushes : null,
    serverPeakRssBytes: peak.server || null,
    workersPeakRssBytes: peak.workers || null,
  };
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  log(`bench: ${meters} meters, steady ${steadySeconds} s, storm backfill ${backfill} readings in batches of ${batch}`);

  const stack = await startStack(stackOptions('group'));
  let report: BenchReport;
  try {
    const load = await provision(stack, meters, 'LOAD');
    const probeDevices = await provision(stack, probes, 'PROBE');
    // The bench's own user joins the probes' team, so its board receives their alerts.
    const session = await signIn(stack.url);
    const me = (await session.get('/api/me')) as { id: string };
    await session.post(`/api/teams/${probeDevices[0]!.teamId}/members`, { userId: me.id, role: 'nurse' });

    log('steady profile');
    let alerts: Awaited<ReturnType<typeof runHypoProbes>> | undefined;
    const steady = await profile(
      stack,
      load,
      // A CGM measures every 5 min: at 60 × speed, one reading every 5 s of real time.
      { durationMs: steadySeconds * 1000, speed: 60, rampMs: 5000 },
      async () => {
        await new Promise((r) => setTimeout(r, 8000)); // after the ramp
        alerts = await runHypoProbes({
          url: stack.url,
          cookie: session.cookie!,
          devices: probeDevices,
          spacingMs: Math.max(100, ((steadySeconds - 15) * 1000) / probes),
        });
      },
    );
    const duplicateAlertRows = await stack.pool.query<{ n: string }>(
      `select coalesce(sum(n - 1), 0) as n from (
         select count(*) as n from alerts where patient_id = any($1::uuid[]) and rule = 'urgent_low' group by patient_id
       ) x`,
      [probeDevices.map((d) => d.patientId)],
    );

    log('storm profile');
    const storm = await profile(stack, load, {
      durationMs: 15_000,
      speed: 1,
      rampMs: 10_000,
      backfillMs: backfill * CGM_INTERVAL_MS,
      maxBatch: batch,
    });

    log('ceilings');
    const pgCeiling = await pgInsertCeiling(stack.pool, { rows: 200_000, batch: 1000 });
    const ioCeiling = await socketIoCeiling({ clients: 200, messages: 50, batchSize: batch });

    await stack.stop();
    log('naive baseline');
    const naiveStack = await startStack(stackOptions('naive'));
    let naive: ProfileResult;
    try {
      const naiveDevices = await provision(naiveStack, naiveMeters, 'NAIVE');
      naive = await profile(naiveStack, naiveDevices, {
        durationMs: 15_000,
        speed: 1,
        rampMs: 10_000,
        backfillMs: backfill * CGM_INTERVAL_MS,
        maxBatch: batch,
      });
    } finally {
      await naiveStack.stop();
    }

    const partial: Omit<BenchReport, 'verdicts'> = {
      startedAt,
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryBytes: os.totalmem(),
        node: process.version,
        platform: `${os.type()} ${os.release()}`,
      },
      settings: { meters, steadySeconds, backfill, batch, probes, naiveMeters },
      steady,
      alerts: {
        probes: alerts?.probes ?? 0,
        missing: alerts?.missing ?? probes,
        duplicateAlertEvents: alerts?.duplicateEvents ?? 0,
        duplicateAlertRows: Number(duplicateAlertRows.rows[0]!.n),
        latencyMs: percentiles(alerts?.latenciesMs ?? []),
      },
      storm,
      naive,
      ceilings: {
        pgInsertRowsPerSecond: pgCeiling.perSecond,
        socketIoMessagesPerSecond: ioCeiling.perSecond,
        socketIoReadingsPerSecond: ioCeiling.readingsPerSecond,
      },
    };
    report = { ...partial, verdicts: verdicts(partial) };
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }

  await fs.mkdir(args.out!, { recursive: true });
  const base = path.join(args.out!, startedAt.replace(/[:.]/g, '-'));
  const text = markdown(report);
  await fs.writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(`${base}.md`, text);
  process.stdout.write(`${text}\nWritten: ${base}.json, ${base}.md\n`);
}

/** A signed-in HTTP session (cookie and same-origin writes), for the bench's own setup calls. */
async function signIn(url: string) {
  const session = {
    cookie: undefined as string | undefined,
    async request(method: string, route: string, body?: unknown): Promise<unknown> {
      const answer = await fetch(`${url}${route}`, {
        method,
        headers: {
          origin: url,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(session.cookie ? { cookie: session.cookie } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const setCookie = answer.headers.get('set-cookie');
      if (setCookie) session.cookie = setCookie.split(';')[0];
      if (answer.status >= 400) throw new Error(`${method} ${route}: ${answer.status} ${await answer.text()}`);
      return answer.status === 204 ? undefined : answer.json();
    },
    get: (route: string) => session.request('GET', route),
    post: (route: string, body: unknown) => session.request('POST', route, body),
  };
  await session.post('/api/auth/login', ADMIN);
  return session;
}

await main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
