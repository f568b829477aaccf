import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { io as connect, type Socket } from 'socket.io-client';
import {
  BOARD_SPARKLINE_BIN_MINUTES,
  BOARD_SPARKLINE_HOURS,
  BOARD_TREND_MINUTES,
  noDataDue,
} from '@glucoboard/core/domain';
import { createLogger, deleteKeysUnder, freePort } from '@glucoboard/core/platform';
import {
  boardCountsOf,
  boardPatientsOf,
  noDataCandidates,
  openDatabase,
  openNoDataEpisodes,
  SparklineMemo,
  thresholdsOfPatients,
  type Database,
} from '@glucoboard/core/storage';
import { ADMIN, log, signIn } from '../harness.ts';
import { commandLine, fraction, wholeNumber } from '../options.ts';
import { percentiles, type Percentiles } from '../report.ts';
import { run, stopProcess, waitReady } from '../stack.ts';
import { planRegion, seedRegion, type RegionPlan } from './region.ts';

/**
 * `npm run bench:read`: the read path at region scale (issue 17, goal 2). Seeds a region (default
 * 10,000 patients in teams of 1,000, 28 days of 5-minute CGM: about 80 million readings) in SQL,
 * then, with K board clients of real sessions open on /board, measures what clinicians wait for:
 * a 1,000-patient team's board, a patient's 90-day summary and AGP, the team report, and the
 * workers' no-data scan. On the PostgreSQL server and on the embedded default (PGlite with
 * TimescaleDB), each on a fresh database. Writes <out>/read-<time>.json and .md.
 */

export const READ_BENCH_OPTIONS = {
  backend: { type: 'string', value: 'B', description: 'postgres, embedded or both', default: 'both' },
  patients: { type: 'string', value: 'N', description: "the region's patients", default: '10000' },
  fraction: {
    type: 'string',
    value: 'F',
    description: 'share of the region seeded, 0 < F <= 1 (teams stay --team-size; the no-data scan sees fewer)',
    default: '1',
  },
  'team-size': { type: 'string', value: 'N', description: 'patients per team (one board)', default: '1000' },
  days: { type: 'string', value: 'D', description: 'days of 5-minute CGM history per patient', default: '28' },
  'history-days': { type: 'string', value: 'D', description: 'days of history of the summary patients', default: '90' },
  'history-patients': { type: 'string', value: 'N', description: 'patients with that longer history', default: '50' },
  boards: { type: 'string', value: 'K', description: 'board clients (own sessions) open on /board', default: '20' },
  requests: { type: 'string', value: 'R', description: 'requests per measured endpoint', default: '60' },
  concurrency: { type: 'string', value: 'C', description: 'requests in flight at once', default: '4' },
  'sql-runs': {
    type: 'string',
    value: 'N',
    description: "times the board's SQL is timed alone in the bench process, before the server starts",
    default: '3',
  },
  'database-url': {
    type: 'string',
    value: 'URL',
    description: 'PostgreSQL the bench makes its database on (env BENCH_DATABASE_URL)',
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
  keep: { type: 'boolean', description: 'leave the seeded database / data directory in place (printed)' },
} as const;

const { settings, values: args } = commandLine(
  READ_BENCH_OPTIONS,
  {
    command: 'npm run bench:read --',
    summary:
      'The read path at region scale: board, summary, AGP, team report and no-data scan over seeded CGM history.',
  },
  (v) => {
    if (!['postgres', 'embedded', 'both'].includes(v.backend)) {
      return `--backend must be postgres, embedded or both (got "${v.backend}")`;
    }
    const numbers = {
      patients: wholeNumber('patients', v.patients, 1),
      fraction: fraction('fraction', v.fraction, 0.0001, 1),
      teamSize: wholeNumber('team-size', v['team-size'], 1),
      days: wholeNumber('days', v.days, 1),
      historyDays: wholeNumber('history-days', v['history-days'], 1),
      historyPatients: wholeNumber('history-patients', v['history-patients'], 1),
      boards: wholeNumber('boards', v.boards, 0),
      requests: wholeNumber('requests', v.requests, 1),
      concurrency: wholeNumber('concurrency', v.concurrency, 1),
      sqlRuns: wholeNumber('sql-runs', v['sql-runs'], 0),
    };
    for (const value of Object.values(numbers)) if (typeof value === 'string') return value;
    const n = numbers as { [K in keyof typeof numbers]: number };
    return { ...n, backends: (v.backend === 'both' ? ['postgres', 'embedded'] : [v.backend]) as Backend[] };
  },
);

type Backend = 'postgres' | 'embedded';
const DATABASE_LOG = createLogger('warn', 'bench-read');
const NURSE = { email: 'region.nurse@example.se', password: 'a long enough password for the bench' };

interface Measure {
  name: string;
  target: string | null;
  targetMs: number | null;
  ms: Percentiles;
  errors: number;
}

export interface BackendResult {
  backend: Backend;
  seededReadings: number;
  seedSeconds: number;
  databaseBytes: number;
  noDataScan: { firstMs: number; opened: number; againMs: number; candidates: number };
  /** The board's two SQL parts timed in the bench process, before the server starts. */
  /** boardCountsFirstMs: the first count, which counts the buckets from the readings and stores them. */
  /** boardPatientsColdMs: without the team's sparklines kept from an earlier request (a server's first board). */
  storage: {
    boardPatientsColdMs: Percentiles;
    boardPatientsMs: Percentiles;
    boardCountsFirstMs: number;
    boardCountsMs: Percentiles;
  };
  measures: Measure[];
  boardsOpen: number;
}

async function timed(count: number, concurrency: number, request: (i: number) => Promise<void>) {
  const times: number[] = [];
  let errors = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const started = performance.now();
        try {
          await request(i);
          times.push(performance.now() - started);
        } catch (err) {
          errors++;
          if (errors <= 3) log(`  request failed: ${(err as Error).message.slice(0, 200)}`);
        }
      }
    }),
  );
  return { ms: percentiles(times), errors };
}

async function get(url: string, cookie: string): Promise<unknown> {
  const answer = await fetch(url, { headers: { cookie } });
  const text = await answer.text();
  if (answer.status !== 200) throw new Error(`GET ${url}: ${answer.status} ${text.slice(0, 200)}`);
  return text;
}

async function databaseSize(db: Database): Promise<number> {
  const r = await db.pool.query<{ bytes: string }>('select pg_database_size(current_database()) as bytes');
  return Number(r.rows[0]!.bytes);
}

/** The workers' no-data scan (workers/src/no-data.ts), the same storage calls in the same order. */
async function noDataScan(db: Database, now: Date) {
  const started = performance.now();
  const candidates = await noDataCandidates(db.pool);
  const thresholds = await thresholdsOfPatients(
    db.pool,
    candidates.map((c) => c.patientId),
  );
  const due = candidates.filter((c) => {
    const minutes = thresholds.get(c.patientId)?.effective.noDataMinutes;
    return minutes !== undefined && noDataDue(c.since, minutes, now);
  });
  const opened = due.length === 0 ? [] : await openNoDataEpisodes(db.pool, due, now);
  return { ms: performance.now() - started, opened: opened.length, candidates: candidates.length };
}

async function storageTimes(db: Database, teamId: string, ids: string[]) {
  const board = (now: Date, sparklines: SparklineMemo) =>
    boardPatientsOf(
      db.pool,
      teamId,
      {
        now,
        sparklineHours: BOARD_SPARKLINE_HOURS,
        sparklineBinMinutes: BOARD_SPARKLINE_BIN_MINUTES,
        trendMinutes: BOARD_TREND_MINUTES,
      },
      sparklines,
    );
  const patientsCold: number[] = [];
  const patients: number[] = [];
  const counts: number[] = [];
  let first = performance.now();
  await boardCountsOf(db.pool, ids, { now: new Date(), days: 14 });
  first = performance.now() - first;
  // Cold: a memo of its own each time (a server's first board of the team); then one memo kept, as a server keeps it.
  const kept = new SparklineMemo();
  for (let i = 0; i < settings.sqlRuns; i++) {
    const t = performance.now();
    await board(new Date(), new SparklineMemo());
    patientsCold.push(performance.now() - t);
  }
  await board(new Date(), kept);
  for (let i = 0; i < settings.sqlRuns; i++) {
    const now = new Date();
    let t = performance.now();
    await board(now, kept);
    patients.push(performance.now() - t);
    t = performance.now();
    await boardCountsOf(db.pool, ids, { now, days: 14 });
    counts.push(performance.now() - t);
  }
  return {
    boardPatientsColdMs: percentiles(patientsCold),
    boardPatientsMs: percentiles(patients),
    boardCountsFirstMs: first,
    boardCountsMs: percentiles(counts),
  };
}

async function runBackend(backend: Backend, plan: RegionPlan): Promise<BackendResult> {
  const id = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `glucoboard-read-${backend}-`));
  let databaseUrl: string | undefined;
  if (backend === 'postgres') {
    const admin = new pg.Client({ connectionString: args['database-url'] });
    await admin.connect();
    await admin.query(`create database glucoboard_read_${id}`);
    await admin.end();
    const url = new URL(args['database-url']);
    url.pathname = `/glucoboard_read_${id}`;
    databaseUrl = url.toString();
  }
  const redisPrefix = `bench-read-${id}`;
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    REDIS_URL: args['redis-url'],
    REDIS_PREFIX: redisPrefix,
    DATA_DIR: dataDir,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DEMO: '0',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    // The embedded database takes one connection: its server runs the workers itself.
    RUN_WORKERS: backend === 'embedded' ? '1' : '0',
  };
  const base = `http://127.0.0.1:${port}`;
  const startServer = async () => {
    const child = run('server/src/main.ts', env, (line) => log(line), []);
    await waitReady(`${base}/readyz`, child, 600_000);
    return child;
  };

  try {
    // 1. The server migrates and makes the sysadmin; teams and the nurse through the People API.
    let server = await startServer();
    const admin = await signIn(base);
    const teamIds: string[] = [];
    for (let t = 0; t < plan.teams; t++) {
      teamIds.push(((await admin.post('/api/teams', { name: `Region team ${t + 1}` })) as { id: string }).id);
    }
    const nurse = (await admin.post('/api/users', { ...NURSE, name: 'Region nurse' })) as { id: string };
    for (const teamId of teamIds) await admin.post(`/api/teams/${teamId}/members`, { userId: nurse.id, role: 'nurse' });
    await stopProcess(server);

    // 2. Seed in SQL with the server stopped (the embedded database has one connection), time the
    // no-data scan and the board's SQL, then start the server again.
    const db = await openDatabase({ databaseUrl, dataDir, log: DATABASE_LOG, poolSize: 2 });
    let seeded;
    let scan;
    let storage;
    let bytes;
    try {
      log(
        `${backend}: seeding ${plan.patients.toLocaleString('en')} patients, about ${plan.readingsApprox.toLocaleString('en')} readings`,
      );
      seeded = await seedRegion(db.pool, plan, { seed: id, teamIds, now: new Date(), log });
      log(
        `${backend}: seeded ${seeded.readings.toLocaleString('en')} readings in ${seeded.seconds.toFixed(0)} s; vacuum analyze`,
      );
      // What autovacuum does to an insert-only table in a live system (PostgreSQL 13+ vacuums
      // on inserts too): the visibility map lets the covering index answer without the heap.
      await db.pool.query('vacuum (analyze) readings');
      await db.pool.query('analyze');
      const first = await noDataScan(db, new Date());
      const again = await noDataScan(db, new Date());
      scan = { firstMs: first.ms, opened: first.opened, againMs: again.ms, candidates: first.candidates };
      log(
        `${backend}: no-data scan ${first.ms.toFixed(0)} ms (${first.opened} opened), again ${again.ms.toFixed(0)} ms`,
      );
      const team1 = await db.pool.query<{ id: string }>('select id from patients where team_id = $1', [teamIds[0]]);
      storage = await storageTimes(
        db,
        teamIds[0]!,
        team1.rows.map((r) => r.id),
      );
      bytes = await databaseSize(db);
    } finally {
      await db.close();
    }
    server = await startServer();

    try {
      // 3. K board clients, each its own session, as K open tabs.
      const sockets: Socket[] = [];
      for (let k = 0; k < settings.boards; k++) {
        const session = await signInAs(base, NURSE);
        const socket = connect(`${base}/board`, {
          transports: ['websocket'],
          extraHeaders: { cookie: session },
          forceNew: true,
        });
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        sockets.push(socket);
      }
      const cookie = await signInAs(base, NURSE);
      const measures: Measure[] = [];
      const measure = async (
        name: string,
        target: { text: string; ms: number } | null,
        count: number,
        concurrency: number,
        request: (i: number) => Promise<void>,
      ) => {
        log(`${backend}: ${name}`);
        const { ms, errors } = await timed(count, concurrency, request);
        measures.push({ name, target: target?.text ?? null, targetMs: target?.ms ?? null, ms, errors });
      };
      const board = (teamId: string) => get(`${base}/api/board?teamId=${teamId}`, cookie).then(() => undefined);
      // The first board of each team computes its 14 + 14-day counts; later ones within a minute
      // reuse them (the server's StatisticsMemo), as a team's tabs do.
      await measure(
        `board, first of each team (${plan.teams} teams, counts computed)`,
        { text: 'p95 <= 300 ms', ms: 300 },
        plan.teams,
        1,
        (i) => board(teamIds[i]!),
      );
      await measure(
        `board of a ${plan.teamSize.toLocaleString('en')}-patient team, as served`,
        { text: 'p95 <= 300 ms', ms: 300 },
        settings.requests,
        settings.concurrency,
        () => board(teamIds[0]!),
      );
      const history = await historyPatients(base, cookie, teamIds[0]!, plan.historyPatients);
      const days = plan.historyDays;
      await measure(
        `summary, ${days} days`,
        { text: 'p95 <= 100 ms', ms: 100 },
        settings.requests,
        settings.concurrency,
        (i) =>
          get(`${base}/api/patients/${history[i % history.length]}/summary?days=${days}`, cookie).then(() => undefined),
      );
      await measure(
        `AGP, ${days} days`,
        { text: 'p95 <= 100 ms', ms: 100 },
        settings.requests,
        settings.concurrency,
        (i) =>
          get(`${base}/api/patients/${history[i % history.length]}/agp?days=${days}`, cookie).then(() => undefined),
      );
      if (await exists(`${base}/api/teams/${teamIds[0]}/report`, cookie)) {
        await measure(
          `team report, ${plan.teamSize.toLocaleString('en')} patients, 28 days`,
          null,
          Math.max(3, Math.round(settings.requests / 10)),
          1,
          () => get(`${base}/api/teams/${teamIds[0]}/report`, cookie).then(() => undefined),
        );
      }
      const open = sockets.filter((s) => s.connected).length;
      for (const s of sockets) s.disconnect();
      return {
        backend,
        seededReadings: seeded.readings,
        seedSeconds: seeded.seconds,
        databaseBytes: bytes,
        noDataScan: scan,
        storage,
        measures,
        boardsOpen: open,
      };
    } finally {
      await stopProcess(server);
    }
  } finally {
    if (args.keep) {
      log(`${backend}: kept ${databaseUrl ?? path.join(dataDir, 'pglite')}`);
    } else {
      if (databaseUrl) {
        const cleanup = new pg.Client({ connectionString: args['database-url'] });
        await cleanup.connect();
        await cleanup.query(`drop database if exists glucoboard_read_${id} with (force)`);
        await cleanup.end();
      }
      await fs.rm(dataDir, { recursive: true, force: true });
    }
    await deleteKeysUnder(args['redis-url'], redisPrefix);
  }
}

async function signInAs(base: string, who: { email: string; password: string }): Promise<string> {
  const answer = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify(who),
  });
  if (answer.status !== 200) throw new Error(`sign-in: ${answer.status} ${await answer.text()}`);
  return answer.headers.get('set-cookie')!.split(';')[0]!;
}

/** The patients of the team with the long history: patients 1..N of the seed are the first by name. */
async function historyPatients(base: string, cookie: string, teamId: string, count: number): Promise<string[]> {
  const board = JSON.parse((await get(`${base}/api/board?teamId=${teamId}`, cookie)) as string) as {
    patients: Array<{ id: string; name: string }>;
  };
  return board.patients
    .map((p) => ({ id: p.id, name: p.name }))
    .sort((a, b) => a.name.localeCompare(b.name))
    .slice(0, count)
    .map((p) => p.id);
}

async function exists(url: string, cookie: string): Promise<boolean> {
  const answer = await fetch(url, { headers: { cookie } });
  await answer.arrayBuffer();
  return answer.status !== 404;
}

function markdown(report: ReadReport): string {
  const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  const n = (x: number) => Math.round(x).toLocaleString('en');
  const lines = [
    `Read benchmark ${report.startedAt} on ${report.machine.cpus} × ${report.machine.cpuModel}; load average at start ${report.machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}.`,
    '',
    `Command: \`${report.command}\``,
    '',
    `Region: ${n(report.plan.patients)} patients in ${report.plan.teams} teams of ${n(report.plan.teamSize)}, ${report.plan.days} days of 5-minute CGM (${report.plan.historyPatients} patients with ${report.plan.historyDays} days); ${report.settings.boards} board clients open; ${report.settings.requests} requests per measure, ${report.settings.concurrency} at a time.`,
    '',
  ];
  for (const r of report.results) {
    lines.push(
      `### ${r.backend === 'postgres' ? 'PostgreSQL server' : 'Embedded (PGlite with TimescaleDB)'}`,
      '',
      `Seeded ${n(r.seededReadings)} readings in ${r.seedSeconds.toFixed(0)} s; database ${(r.databaseBytes / 2 ** 30).toFixed(2)} GiB; ${r.boardsOpen} boards open while measuring.`,
      '',
      '| measure | p50 ms | p95 ms | p99 ms | max ms | n | errors | target | |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...r.measures.map(
        (m) =>
          `| ${m.name} | ${ms(m.ms.p50)} | ${ms(m.ms.p95)} | ${ms(m.ms.p99)} | ${ms(m.ms.max)} | ${m.ms.count} | ${m.errors} | ${
            m.target ?? '-'
          } | ${m.targetMs === null ? '' : m.errors === 0 && m.ms.p95 <= m.targetMs ? 'pass' : '**miss**'} |`,
      ),
      '',
      `No-data scan over ${n(r.noDataScan.candidates)} patients with a meter: ${ms(r.noDataScan.firstMs)} ms (opened ${r.noDataScan.opened} warnings), again ${ms(r.noDataScan.againMs)} ms. Board SQL alone (team 1, bench process, ${r.storage.boardCountsMs.count} runs, median): patients, sparklines, trend and alerts ${ms(r.storage.boardPatientsColdMs.p50)} ms without the team's sparkline bins kept, ${ms(r.storage.boardPatientsMs.p50)} ms with them; 14 + 14-day band counts ${ms(r.storage.boardCountsFirstMs)} ms the first time (buckets counted from the readings and stored), then ${ms(r.storage.boardCountsMs.p50)} ms (from the buckets).`,
      '',
    );
  }
  return lines.join('\n');
}

interface ReadReport {
  startedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; node: string; loadAverage: number[] };
  settings: typeof settings;
  plan: RegionPlan;
  results: BackendResult[];
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const plan = planRegion(settings);
  log(
    `bench:read: ${plan.patients.toLocaleString('en')} patients, ${plan.teams} teams of ${plan.teamSize}, ${plan.days} days; about ${plan.readingsApprox.toLocaleString('en')} readings per backend (${settings.backends.join(', ')})`,
  );
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    loadAverage: os.loadavg(),
  };
  const results: BackendResult[] = [];
  for (const backend of settings.backends) results.push(await runBackend(backend, plan));
  const report: ReadReport = {
    startedAt,
    command: `npm run bench:read -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    settings,
    plan,
    results,
  };
  const text = markdown(report);
  await fs.mkdir(args.out, { recursive: true });
  const file = path.resolve(args.out, `read-${startedAt.replace(/[:.]/g, '-')}`);
  await fs.writeFile(`${file}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(`${file}.md`, text);
  process.stdout.write(`${text}\nWritten: ${file}.json, ${file}.md\n`);
}

await main().catch((err: Error) => {
  process.stderr.write(`bench:read failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
