import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';

// Timestamps come back as Date (default); bigint counts as JS numbers, which are exact far beyond
// any count this system will hold (2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

/**
 * A timestamptz expression as epoch milliseconds (a float8, parsed as a number): for result sets
 * of tens of thousands of rows, pg's text parse of timestamptz costs more than the rest of the row.
 */
export const epochMs = (expression: string): string => `floor(extract(epoch from ${expression}) * 1000)::float8`;

export type Backend = 'embedded' | 'postgres';

/** The one database handle of a process. `pg` is the only client, whichever backend is behind it. */
export interface Database {
  readonly pool: pg.Pool;
  readonly backend: Backend;
  /** The connection string `pg` uses (for the embedded backend, its loopback socket). */
  readonly url: string;
  /** Whether the TimescaleDB extension is installed in this database (set by migrate()). */
  timescale: boolean;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** A PostgreSQL URL; unset opens the embedded database under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  log: Logger;
  /** Pool size for a PostgreSQL server; the embedded backend always has one connection. */
  poolSize?: number;
  applicationName?: string;
}

/** The pools of open embedded databases (see isEmbeddedPool). */
const embeddedPools = new WeakSet<pg.Pool>();

/**
 * Whether a pool talks to the embedded database: for the few queries whose fastest shape differs.
 * There every row of a result costs far more than on a server (PGlite builds it in WebAssembly
 * and pglite-socket frames it, in this process), so a long result is better one document.
 */
export const isEmbeddedPool = (pool: pg.Pool): boolean => embeddedPools.has(pool);

export async function openDatabase(options: OpenOptions): Promise<Database> {
  return options.databaseUrl === undefined ? openEmbedded(options) : openServer(options.databaseUrl, options);
}

/**
 * A connection can be cut at any time (server restart, failover, pg_terminate_backend, a dropped
 * socket), and pg then emits 'error' on its client: with no listener, that ends the process.
 * pg-pool listens only while a client is idle, so each client gets a listener of its own for its
 * whole life. A checked-out client's caller still sees the failure, as its query's rejection, and
 * the pool discards the dead client when it comes back; an idle one is discarded at once.
 */
function poolErrors(pool: pg.Pool, log: Logger): void {
  pool.on('connect', (client) => {
    client.on('error', (err) => log.warn({ err: err.message }, 'database connection lost; it will be replaced'));
  });
  // Idle clients' errors are also re-emitted by the pool; the client's own listener logged them.
  pool.on('error', () => undefined);
}

/**
 * JIT compilation off, unless the URL sets server options itself: every query here is short, and
 * PostgreSQL's cost estimates for the set-based team queries (the board's count buckets, the
 * team report) pass jit_above_cost by far, so it compiled for 730 ms a statement that then ran
 * in 390 ms (measured on the read benchmark's 1,000-patient team, docs/benchmarks.md).
 */
function serverOptions(url: string): { options?: string } {
  const jitOff = { options: '-c jit=off' };
  try {
    return new URL(url).searchParams.has('options') ? {} : jitOff;
  } catch {
    return jitOff;
  }
}

async function openServer(url: string, options: OpenOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'glucoboard',
    connectionTimeoutMillis: 10_000,
    ...serverOptions(url),
  });
  poolErrors(pool, options.log);
  await pingDatabase(pool);
  return { pool, backend: 'postgres', url, timescale: false, close: () => pool.end() };
}

/**
 * PGlite with TimescaleDB, served to `pg` on loopback by pglite-socket. PGlite is a single
 * backend, so the pool holds exactly one connection: session state and transactions can then
 * never interleave between two callers.
 */
async function openEmbedded(options: OpenOptions): Promise<Database> {
  const dir = path.join(options.dataDir, 'pglite');
  await fs.mkdir(dir, { recursive: true });
  const [{ PGlite }, { timescaledb }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/timescaledb'),
    import('@electric-sql/pglite-socket'),
  ]);
  const db = await PGlite.create({ dataDir: dir, extensions: { timescaledb } });
  // Without a preload, a reopened database loads TimescaleDB lazily and never loads its TSL
  // module: inserts into a table with a continuous aggregate then fail with "not supported under
  // the current license". Loading it first thing in the (single) session avoids that.
  await db.exec(`LOAD 'timescaledb'`);
  // pg-pool drops a client after any query error and opens a new one at once, before the old
  // socket has closed; pglite-socket's default of one connection would refuse that replacement.
  // The pool still uses one connection at a time, and pglite-socket serialises their messages.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 60_000 });
  embeddedPools.add(pool);
  poolErrors(pool, options.log);
  options.log.info({ dataDir: dir }, 'embedded database (PGlite with TimescaleDB) open');
  let closed = false;
  return {
    pool,
    backend: 'embedded',
    url,
    timescale: false,
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
      await server.stop();
      await db.close();
    },
  };
}

/** The database answers now (a readiness check, and the first connection of a server). */
export async function pingDatabase(pool: pg.Pool): Promise<void> {
  await pool.query('select 1');
}

/**
 * Runs fn in a transaction on one client; rolls back on any error. A connection lost half-way
 * (the error is then the query's rejection, see poolErrors) rejects, and the client is discarded.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A connection that cannot even roll back is dead (or in an unknown state): the pool discards
    // it and opens a new one. One that rolled back is fine to reuse.
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
