import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { listMigrations, migrate, openDatabase, type Database } from '../../src/storage/index.ts';
import {
  BACKENDS,
  createTestDatabase,
  openTestDatabase,
  silentLog,
  type TestBackend,
  type TestDatabase,
} from '../support/databases.ts';
import { unpreloadedTimescale } from '../support/unpreloaded-timescale.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** A fresh, open, unmigrated database and a migrations folder holding the given files. */
async function unmigrated(backend: TestBackend, files: Record<string, string>) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'glucoboard-migrations-'));
  cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
  for (const [name, sql] of Object.entries(files)) await fs.writeFile(path.join(dir, name), sql);
  const target = await createTestDatabase(backend);
  const db = await openDatabase({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, log: silentLog });
  cleanup.push(async () => {
    await db.close();
    await target.dispose();
  });
  return { db, dir };
}

describe.each(BACKENDS)('migrations on the %s backend', (backend) => {
  it('applies every migration once and records the backend variant', async () => {
    const db = await openTestDatabase(backend);
    cleanup.push(db.dispose);
    // The variant follows what the database has: the embedded one always has TimescaleDB, a
    // server (TEST_DATABASE_URL) has it when the extension could be created.
    const extension = await db.pool.query(`select 1 from pg_extension where extname = 'timescaledb'`);
    expect(db.timescale).toBe(extension.rowCount === 1);
    if (backend === 'embedded') expect(db.timescale).toBe(true);
    const again = await migrate(db, silentLog);
    expect(again.applied).toEqual([]);
    expect(again.variant).toBe(db.timescale ? 'timescale' : 'plain');
    const versions = (
      await db.pool.query<{ version: number }>('select version from schema_migrations order by version')
    ).rows;
    const expected = [...new Set((await listMigrations()).map((m) => m.version))];
    expect(versions.map((v) => v.version)).toEqual(expected);
    for (const table of [
      'teams',
      'users',
      'memberships',
      'patients',
      'devices',
      'readings',
      'reading_keys',
      'alerts',
      'alert_acknowledgements',
      'snoozes',
      'audit_events',
      'team_thresholds',
      'patient_thresholds',
      'patient_access_grants',
    ]) {
      const found = await db.pool.query('select to_regclass($1) as t', [table]);
      expect(found.rows[0].t, table).not.toBeNull();
    }
    for (const rollup of ['reading_hourly', 'reading_daily']) {
      await expect(db.pool.query(`select count(*) from ${rollup}`)).resolves.toBeDefined();
    }
  });

  it('refuses to run when an applied migration was edited afterwards', async () => {
    const { db, dir } = await unmigrated(backend, { '001_first.sql': 'create table first_table (id int);' });
    expect((await migrate(db, silentLog, dir)).applied).toEqual([1]);
    await fs.writeFile(path.join(dir, '001_first.sql'), 'create table first_table (id bigint);');
    await expect(migrate(db, silentLog, dir)).rejects.toThrow(/001_first.sql was changed/);
  });

  it('rolls back a failing migration whole and names it', async () => {
    const { db, dir } = await unmigrated(backend, {
      '001_broken.sql': 'create table half_done (id int); select no_such_function();',
    });
    await expect(migrate(db, silentLog, dir)).rejects.toThrow(/001_broken.sql failed/);
    expect((await db.pool.query(`select to_regclass('half_done') as t`)).rows[0].t).toBeNull();
  });
});

describe('TimescaleDB in the embedded backend', () => {
  it('makes readings a hypertable with compression and continuous aggregates', async () => {
    const db = await openTestDatabase('embedded');
    cleanup.push(db.dispose);
    const hypertable = await db.pool.query(
      `select compression_enabled from timescaledb_information.hypertables where hypertable_name = 'readings'`,
    );
    expect(hypertable.rows).toEqual([{ compression_enabled: true }]);
    const caggs = await db.pool.query(
      `select view_name from timescaledb_information.continuous_aggregates order by view_name`,
    );
    expect(caggs.rows.map((r) => r.view_name)).toEqual(['reading_daily', 'reading_hourly']);
  });
});

describe('two servers starting together on one PostgreSQL database', () => {
  it('apply each migration exactly once', async () => {
    const target: TestDatabase = await createTestDatabase('postgres');
    const dbs: Database[] = await Promise.all(
      [1, 2, 3].map(() => openDatabase({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, log: silentLog })),
    );
    cleanup.push(async () => {
      await Promise.all(dbs.map((d) => d.close()));
      await target.dispose();
    });
    const results = await Promise.all(dbs.map((d) => migrate(d, silentLog)));
    const variant = results[0]!.variant; // the server's: with or without TimescaleDB
    expect(results.map((r) => r.variant)).toEqual([variant, variant, variant]);
    const applied = results.flatMap((r) => r.applied).sort((a, b) => a - b);
    const expected = [
      ...new Set(
        (await listMigrations()).filter((m) => m.variant === undefined || m.variant === variant).map((m) => m.version),
      ),
    ];
    expect(applied).toEqual(expected);
  });
});

describe('connections to a PostgreSQL server', () => {
  it('run with JIT compilation off, unless the URL sets server options itself', async () => {
    const target: TestDatabase = await createTestDatabase('postgres');
    const url = new URL(target.databaseUrl!);
    url.searchParams.set('options', '-c jit=on');
    const dbs = await Promise.all(
      [target.databaseUrl!, url.toString()].map((databaseUrl) =>
        openDatabase({ databaseUrl, dataDir: target.dataDir, log: silentLog }),
      ),
    );
    cleanup.push(async () => {
      await Promise.all(dbs.map((d) => d.close()));
      await target.dispose();
    });
    const jit = await Promise.all(dbs.map(async (d) => (await d.pool.query<{ jit: string }>('show jit')).rows[0]!.jit));
    expect(jit).toEqual(['off', 'on']);
  });
});
describe('a PostgreSQL server with TimescaleDB installed but not preloaded', () => {
  /** A fresh database reached through the proxy that plays such a server, and the log lines written. */
  async function behindUnpreloadedTimescale() {
    const proxy = await unpreloadedTimescale();
    const target = await createTestDatabase('postgres');
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const db = await openDatabase({ databaseUrl: proxy.url(target.databaseUrl!), dataDir: target.dataDir, log });
    cleanup.push(async () => {
      await db.close();
      await proxy.close();
      await target.dispose();
    });
    return { db, log, lines, proxy, target };
  }

  it('gets plain tables, with a warning saying how to enable TimescaleDB, and keeps its connection', async () => {
    const { db, log, lines, proxy } = await behindUnpreloadedTimescale();
    const result = await migrate(db, log);
    expect(proxy.refused).toBe(1);
    expect(result.variant).toBe('plain');
    expect(db.timescale).toBe(false);
    const warning = lines.find((l) => l.level === 40 && /TimescaleDB/.test(l.msg));
    expect(warning?.msg).toMatch(/shared_preload_libraries/);
    // The migrating connection survived: the pool still answers, and a restart migrates nothing new.
    expect((await db.pool.query('select count(*)::int as n from readings')).rows).toEqual([{ n: 0 }]);
    expect((await migrate(db, log)).applied).toEqual([]);
  });

  it('refuses to start a database set up with TimescaleDB, saying why, instead of losing its connection', async () => {
    const { db, log, target } = await behindUnpreloadedTimescale();
    // As if migrated with TimescaleDB before the server lost its preload setting.
    const direct = await openDatabase({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, log: silentLog });
    await direct.pool.query(`create table schema_migrations (version int primary key, name text not null,
      variant text, checksum text not null, applied_at timestamptz not null default now())`);
    await direct.pool.query(`insert into schema_migrations values (3, 'timeseries', 'timescale', 'x', now())`);
    await direct.close();
    await expect(migrate(db, log)).rejects.toThrow(/set up with TimescaleDB.*shared_preload_libraries/s);
    expect((await db.pool.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
  });
});
