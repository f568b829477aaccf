import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg, { type PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { Database } from './database.ts';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
/** Arbitrary constant: every Glucoboard process takes this advisory lock while migrating. */
const MIGRATION_LOCK = 0x6c75636f; // "luco"

export type Variant = 'timescale' | 'plain';

interface MigrationFile {
  version: number;
  name: string;
  /** undefined: applies on both backends. */
  variant: Variant | undefined;
  file: string;
}

/**
 * Files are `NNN_name.sql` (both backends) or a pair `NNN_name.timescale.sql` and
 * `NNN_name.plain.sql` (the same tables and names, built with or without TimescaleDB).
 */
export async function listMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return files.map((file) => {
    const m = /^(\d{3})_([a-z0-9_]+?)(?:\.(timescale|plain))?\.sql$/.exec(file);
    if (!m) throw new Error(`migration file name not understood: ${file}`);
    return { version: Number(m[1]), name: m[2]!, variant: m[3] as Variant | undefined, file };
  });
}

export interface MigrationResult {
  variant: Variant;
  applied: number[];
}

/**
 * Applies pending migrations, each in its own transaction, under an advisory lock so that two
 * processes starting together apply each migration exactly once.
 */
export async function migrate(db: Database, log: Logger, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const client = await db.pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(`create table if not exists schema_migrations (
        version int primary key,
        name text not null,
        variant text,
        checksum text not null,
        applied_at timestamptz not null default now())`);
      const variant = await chooseVariant(client, db, log);
      const done = new Map(
        (
          await client.query<{ version: number; checksum: string }>('select version, checksum from schema_migrations')
        ).rows.map((r) => [r.version, r.checksum]),
      );
      const applied: number[] = [];
      for (const m of await listMigrations(dir)) {
        if (m.variant !== undefined && m.variant !== variant) continue;
        const sql = await fs.readFile(path.join(dir, m.file), 'utf8');
        const checksum = createHash('sha256').update(sql).digest('hex');
        const previous = done.get(m.version);
        if (previous !== undefined) {
          if (previous !== checksum)
            throw new Error(`migration ${m.file} was changed after it was applied; add a new migration instead`);
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(sql);
          await client.query(
            'insert into schema_migrations (version, name, variant, checksum) values ($1, $2, $3, $4)',
            [m.version, m.name, m.variant ?? null, checksum],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${m.file} failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(m.version);
        log.info({ migration: m.file }, 'migration applied');
      }
      db.timescale = variant === 'timescale';
      return { variant, applied };
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

const PRELOAD_ADVICE =
  "add timescaledb to the server's shared_preload_libraries and restart PostgreSQL (docs/deployment.md)";

/**
 * TimescaleDB when the extension can be used, plain PostgreSQL otherwise. Once a database has
 * been migrated one way it stays that way: switching would need a data migration, not a guess.
 */
async function chooseVariant(client: PoolClient, db: Database, log: Logger): Promise<Variant> {
  const recorded = await client.query<{ variant: Variant }>(
    'select variant from schema_migrations where variant is not null order by version limit 1',
  );
  if (recorded.rows[0]) {
    if (recorded.rows[0].variant === 'timescale') {
      const failure = await createTimescaleExtension(db.url);
      if (failure !== undefined)
        throw new Error(
          `this database was set up with TimescaleDB, but TimescaleDB cannot be loaded (${failure}): ${PRELOAD_ADVICE}`,
        );
    }
    return recorded.rows[0].variant;
  }
  const available = await client.query(`select 1 from pg_available_extensions where name = 'timescaledb'`);
  if (available.rowCount === 0) return 'plain';
  const failure = await createTimescaleExtension(db.url);
  if (failure === undefined) return 'timescale';
  // Installed but not loadable: not in shared_preload_libraries, or no privilege to create it.
  log.warn(
    { reason: failure },
    `TimescaleDB is installed but cannot be used, so this database gets plain PostgreSQL tables (it keeps them); to use TimescaleDB, ${PRELOAD_ADVICE} before the first start on a new database`,
  );
  return 'plain';
}

/**
 * CREATE EXTENSION on a connection of its own; answers the failure's message, or undefined.
 * A server with TimescaleDB installed but not preloaded answers it with FATAL and closes the
 * connection, which therefore must not be the migrating one (nor go unwatched: an 'error' on a
 * client without a listener ends the process).
 */
async function createTimescaleExtension(url: string): Promise<string | undefined> {
  const probe = new pg.Client({
    connectionString: url,
    application_name: 'glucoboard-migrate',
    connectionTimeoutMillis: 10_000,
  });
  probe.on('error', () => undefined); // the closed connection; the query's rejection says why
  try {
    await probe.connect();
    await probe.query('create extension if not exists timescaledb');
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await probe.end().catch(() => undefined);
  }
}
