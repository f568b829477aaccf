import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { deleteKeysUnder, freePort } from '@glucoboard/core/platform';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface StackOptions {
  /** A PostgreSQL database the benchmark may create databases from (trust or password in the URL). */
  adminDatabaseUrl: string;
  redisUrl: string;
  adminEmail: string;
  adminPassword: string;
  ingestMode: 'group' | 'naive';
  log: (line: string) => void;
  /** Write V8 CPU profiles of the server and workers here (node --cpu-prof), for flame graphs. */
  cpuProfileDir?: string;
}

export interface Stack {
  url: string;
  /** The benchmark's own database, for verification and the pg ceiling. */
  pool: pg.Pool;
  databaseUrl: string;
  redisPrefix: string;
  server: ChildProcess;
  workers: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Glucoboard as it runs in production, on this machine: a fresh PostgreSQL database, a Redis key
 * prefix of its own, the server process (RUN_WORKERS=0) and one workers process, each started the
 * way `npm start` and `npm run workers` start them. Stopped with SIGTERM; database and keys dropped.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const id = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const database = `glucoboard_bench_${id}`;
  const admin = new pg.Client({ connectionString: options.adminDatabaseUrl });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.end();
  const url = new URL(options.adminDatabaseUrl);
  url.pathname = `/${database}`;
  const databaseUrl = url.toString();
  const redisPrefix = `bench-${id}`;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'glucoboard-bench-'));
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DATABASE_URL: databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: redisPrefix,
    DATA_DIR: dataDir,
    ADMIN_EMAIL: options.adminEmail,
    ADMIN_PASSWORD: options.adminPassword,
    DEMO: '0',
    LOG_LEVEL: 'warn',
    INGEST_MODE: options.ingestMode,
    HOST: '127.0.0.1',
  };
  const profiling = options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [];
  const server = run('server/src/main.ts', { ...env, PORT: String(port), RUN_WORKERS: '0' }, options.log, profiling);
  const base = `http://127.0.0.1:${port}`;
  await waitReady(`${base}/readyz`, server);
  // The server migrates first; the workers then find the schema in place.
  const workerPort = await freePort();
  const workers = run(
    'workers/src/main.ts',
    { ...env, WORKER_HEALTH_PORT: String(workerPort) },
    options.log,
    profiling,
  );
  await waitReady(`http://127.0.0.1:${workerPort}/healthz`, workers).catch(async (err) => {
    server.kill('SIGKILL');
    throw err;
  });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  return {
    url: base,
    pool,
    databaseUrl,
    redisPrefix,
    server,
    workers,
    async stop() {
      await pool.end();
      await Promise.all([stopProcess(server), stopProcess(workers)]);
      const cleanup = new pg.Client({ connectionString: options.adminDatabaseUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${database} with (force)`);
      await cleanup.end();
      await deleteKeysUnder(options.redisUrl, redisPrefix);
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

function run(
  entry: string,
  env: Record<string, string>,
  log: (line: string) => void,
  nodeOptions: readonly string[],
): ChildProcess {
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const name = entry.split('/')[0];
  child.stderr!.on('data', (d: Buffer) => log(`[${name}] ${d.toString().trim()}`));
  return child;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

/** Resident memory of a process now and at its peak (Linux /proc), in bytes. */
export async function memoryOf(pid: number | undefined): Promise<{ rss: number; peak: number } | undefined> {
  if (pid === undefined) return undefined;
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Who used the machine's CPU: the processes of the run, grouped (Linux /proc). */
export type CpuShares = Record<'simulator' | 'server' | 'workers' | 'postgres' | 'redis' | 'other', number>;

/** CPU seconds used so far by each group of processes on this machine. */
export async function cpuSeconds(stack: Pick<Stack, 'server' | 'workers'>): Promise<CpuShares> {
  const ticks = 100; // USER_HZ on Linux
  const totals: CpuShares = { simulator: 0, server: 0, workers: 0, postgres: 0, redis: 0, other: 0 };
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / ticks; // utime + stime
    const pid = Number(entry);
    const group =
      pid === process.pid
        ? 'simulator'
        : pid === stack.server.pid
          ? 'server'
          : pid === stack.workers.pid
            ? 'workers'
            : comm.startsWith('postgres')
              ? 'postgres'
              : comm.startsWith('redis')
                ? 'redis'
                : 'other';
    totals[group] += seconds;
  }
  return totals;
}
