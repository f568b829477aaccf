import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pgInsertCeiling, socketIoCeiling } from './ceilings.ts';
import { ADMIN, CGM_INTERVAL_MS, log, profile, provision, signIn, steadyProfile } from './harness.ts';
import { runHypoProbes } from './hypo-probes.ts';
import { commandLine, wholeNumber } from './options.ts';
import { markdown, percentiles, verdicts, type BenchReport, type ProfileResult } from './report.ts';
import { runScaleOut, scaleOutMarkdown } from './scale-out.ts';
import { startStack } from './stack.ts';

/**
 * `npm run bench`: SPEC section 6's profiles on this machine, everything on it at once (server,
 * workers, PostgreSQL, Redis and the simulator). Steady (meters at one reading per 5 s, with hypo
 * probes and a real board client measuring alert latency), storm (every meter reconnects within
 * 10 s and backfills 12 h of CGM in batches), the naive baseline on the same storm, and the bare
 * ceilings. `--profile scale-out`: several servers and workers processes on one database and
 * Redis, meters spread over the servers, a board on the first server. Writes
 * <out>/<time>.json and .md and prints the Markdown.
 */

export const BENCH_OPTIONS = {
  profile: {
    type: 'string',
    value: 'P',
    description:
      'spec: steady, storm, naive baseline, ceilings; scale-out: several servers and workers (default spec; scale-out when --servers or --workers > 1)',
  },
  meters: { type: 'string', value: 'N', description: 'simulated CGMs', default: '2000' },
  'steady-seconds': { type: 'string', value: 'S', description: 'length of the steady profile, >= 10', default: '60' },
  backfill: { type: 'string', value: 'N', description: 'readings each meter backfills in the storm', default: '144' },
  batch: { type: 'string', value: 'N', description: 'readings per batch in the storm', default: '48' },
  probes: { type: 'string', value: 'N', description: 'hypo probes measuring alert latency in steady', default: '30' },
  'naive-meters': {
    type: 'string',
    value: 'N',
    description: 'meters of the naive baseline (default min(meters, 100))',
  },
  servers: { type: 'string', value: 'N', description: 'server processes (scale-out default 2)' },
  workers: { type: 'string', value: 'N', description: 'workers processes (scale-out default 2)' },
  'database-url': {
    type: 'string',
    value: 'URL',
    description: 'PostgreSQL the bench makes its databases on (env BENCH_DATABASE_URL)',
    default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  },
  'redis-url': {
    type: 'string',
    value: 'URL',
    description: 'Redis (env BENCH_REDIS_URL)',
    default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  },
  out: {
    type: 'string',
    value: 'DIR',
    description: 'where the JSON and Markdown reports go',
    default: 'bench-results',
  },
  'cpu-prof': { type: 'boolean', description: 'write V8 CPU profiles of server and workers to <out>/profiles/' },
} as const;

const { values: args, settings } = commandLine(
  BENCH_OPTIONS,
  { command: 'npm run bench --', summary: "SPEC section 6's performance profiles, everything on this machine." },
  (v) => {
    if (v.profile !== undefined && v.profile !== 'spec' && v.profile !== 'scale-out') {
      return `--profile must be spec or scale-out (got "${v.profile}")`;
    }
    const asked = (value: string | undefined) => value !== undefined && Number(value) > 1;
    const profile = v.profile ?? (asked(v.servers) || asked(v.workers) ? 'scale-out' : 'spec');
    const scaled = profile === 'scale-out';
    const numbers = {
      meters: wholeNumber('meters', v.meters, 1),
      steadySeconds: wholeNumber('steady-seconds', v['steady-seconds'], 10),
      backfill: wholeNumber('backfill', v.backfill, 1),
      batch: wholeNumber('batch', v.batch, 1),
      probes: wholeNumber('probes', v.probes, 1),
      naiveMeters: wholeNumber('naive-meters', v['naive-meters'] ?? String(Math.min(Number(v.meters), 100)), 1),
      servers: wholeNumber('servers', v.servers ?? (scaled ? '2' : '1'), 1),
      workers: wholeNumber('workers', v.workers ?? (scaled ? '2' : '1'), 1),
    };
    for (const value of Object.values(numbers)) if (typeof value === 'string') return value;
    const n = numbers as { [K in keyof typeof numbers]: number };
    if (scaled && n.servers < 2) return '--profile scale-out needs --servers >= 2';
    if (!scaled && (n.servers > 1 || n.workers > 1)) return '--profile spec runs one server and one workers process';
    return { profile, ...n };
  },
);
const { meters, steadySeconds, backfill, batch, probes, naiveMeters } = settings;

function stackOptions(ingestMode: 'group' | 'naive') {
  return {
    adminDatabaseUrl: args['database-url'],
    redisUrl: args['redis-url'],
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
    ingestMode,
    log: (line: string) => log(line),
    ...(args['cpu-prof'] ? { cpuProfileDir: path.resolve(args.out, 'profiles', ingestMode) } : {}),
  };
}

const machine = () => ({
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  memoryBytes: os.totalmem(),
  node: process.version,
  platform: `${os.type()} ${os.release()}`,
});
const command = () => `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();

/** Writes <out>/<startedAt>.json and .md; prints the Markdown and where both went. */
async function writeReport(startedAt: string, report: unknown, text: string): Promise<void> {
  await fs.mkdir(args.out, { recursive: true });
  const base = path.resolve(args.out, startedAt.replace(/[:.]/g, '-'));
  await fs.writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(`${base}.md`, text);
  process.stdout.write(`${text}\nWritten: ${base}.json, ${base}.md\n`);
}

async function scaleOut(): Promise<void> {
  const startedAt = new Date().toISOString();
  log(
    `bench scale-out: ${settings.servers} servers, ${settings.workers} workers, ${meters} meters, steady ${steadySeconds} s`,
  );
  const report = await runScaleOut({
    stackOptions: { ...stackOptions('group'), servers: settings.servers, workers: settings.workers },
    meters,
    probes,
    steadySeconds,
  });
  const full = { startedAt, command: command(), machine: machine(), settings, ...report };
  await writeReport(startedAt, full, scaleOutMarkdown(full));
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
    const steady = await profile(stack, load, steadyProfile(steadySeconds), async (measuring) => {
      await measuring; // SPEC's steady: the meters connected
      alerts = await runHypoProbes({
        url: stack.url,
        cookie: session.cookie!,
        devices: probeDevices,
        spacingMs: Math.max(100, ((steadySeconds - 15) * 1000) / probes),
      });
    });
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
      command: command(),
      machine: machine(),
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

  await writeReport(startedAt, report, markdown(report));
}

await (settings.profile === 'scale-out' ? scaleOut() : main()).catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
