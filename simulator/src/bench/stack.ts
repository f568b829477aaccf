import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { deleteKeysUnder, freePort } from '@glucoboard/core/platform';
import { benchGroups, groupSeconds, readProcesses, type CpuShares } from './cpu.ts';

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
  /** Server processes (default 1), each RUN_WORKERS=0 on its own port, all on one database and Redis prefix. */
  servers?: number;
  /** Workers processes (default 1). */
  workers?: number;
}

export interface Stack {
  /** The first server's base URL (the only one unless scaled out). */
  url: string;
  /** Every server's base URL, in start order. */
  urls: string[];
  /** The benchmark's own database, for verification and the pg ceiling. */
  pool: pg.Pool;
  databaseUrl: string;
  redisPrefix: string;
  /** The first server and workers process. */
  server: ChildProcess;
  workers: ChildProcess;
  serverProcesses: ChildProcess[];
  workerProcesses: ChildProcess[];
  stop(): Promise<void>;
}

/**
 * Glucoboard as it runs in production, on this machine: a fresh PostgreSQL database, a Redis key
 * prefix of its own, the server process(es) (RUN_WORKERS=0) and workers process(es), each started
 * the way `npm start` and `npm run workers` start them. Several servers share the database and
 * Redis prefix, as a deployment behind a load balancer would (the Socket.IO streams adapter and
 * the board events stream carry events between them). Stopped with SIGTERM; database and keys dropped.
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
  const servers: ChildProcess[] = [];
  const workers: ChildProcess[] = [];
  const urls: string[] = [];
  const killAll = () => [...servers, ...workers].forEach((child) => child.kill('SIGKILL'));
  try {
    // One at a time: the first server migrates, the others and the workers find the schema in place.
    for (let i = 0; i < (options.servers ?? 1); i++) {
      const port = await freePort();
      const server = run(
        'server/src/main.ts',
        { ...env, PORT: String(port), RUN_WORKERS: '0' },
        options.log,
        profiling,
        i,
      );
      servers.push(server);
      urls.push(`http://127.0.0.1:${port}`);
      await waitReady(`${urls[i]}/readyz`, server);
    }
    for (let i = 0; i < (options.workers ?? 1); i++) {
      const workerPort = await freePort();
      const child = run(
        'workers/src/main.ts',
        { ...env, WORKER_HEALTH_PORT: String(workerPort) },
        options.log,
        profiling,
        i,
      );
      workers.push(child);
      await waitReady(`http://127.0.0.1:${workerPort}/healthz`, child);
    }
  } catch (err) {
    killAll();
    throw err;
  }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  return {
    url: urls[0]!,
    urls,
    pool,
    databaseUrl,
    redisPrefix,
    server: servers[0]!,
    workers: workers[0]!,
    serverProcesses: servers,
    workerProcesses: workers,
    async stop() {
      await pool.end();
      await Promise.all([...servers, ...workers].map(stopProcess));
      const cleanup = new pg.Client({ connectionString: options.adminDatabaseUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${database} with (force)`);
      await cleanup.end();
      await deleteKeysUnder(options.redisUrl, redisPrefix);
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function run(
  entry: string,
  env: Record<string, string>,
  log: (line: string) => void,
  nodeOptions: readonly string[],
  index = 0,
): ChildProcess {
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const name = index === 0 ? entry.split('/')[0] : `${entry.split('/')[0]} ${index + 1}`;
  child.stderr!.on('data', (d: Buffer) => log(`[${name}] ${d.toString().trim()}`));
  return child;
}

export async function waitReady(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
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

export async function stopProcess(child: ChildProcess): Promise<void> {
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

export type { CpuShares } from './cpu.ts';

/** CPU seconds used so far by each group of processes on this machine (see cpu.ts). */
export async function cpuSeconds(stack: Pick<Stack, 'serverProcesses' | 'workerProcesses'>): Promise<CpuShares> {
  const pids = (children: ChildProcess[]) => children.flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  return groupSeconds(
    await readProcesses(),
    benchGroups({ server: pids(stack.serverProcesses), workers: pids(stack.workerProcesses) }),
  );
}
