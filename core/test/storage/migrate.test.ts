import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listMigrations, migrate, openDatabase, type Database } from '../../src/storage/index.ts';
import {
  BACKENDS,
  createTestDatabase,
  openTestDatabase,
  silentLog,
  type TestBackend,
  type TestDatabase,
} from '../support/databases.ts';

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
    expect(db.timescale).toBe(backend === 'embedded');
    const again = await migrate(db, silentLog);
    expect(again.applied).toEqual([]);
    expect(again.variant).toBe(backend === 'embedded' ? 'timescale' : 'plain');
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
    const applied = results.flatMap((r) => r.applied).sort((a, b) => a - b);
    const expected = [
      ...new Set((await listMigrations()).filter((m) => m.variant !== 'timescale').map((m) => m.version)),
    ];
    expect(applied).toEqual(expected);
  });
});
