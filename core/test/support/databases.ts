import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import {
  createPatient,
  createTeam,
  migrate,
  openDatabase,
  pairDevice,
  type Database,
} from '../../src/storage/index.ts';

/**
 * Both storage backends, for tests that must hold on each: the embedded PGlite with TimescaleDB,
 * and the PostgreSQL server (TEST_DATABASE_URL, default the local one, without TimescaleDB).
 * Every test database is new and private to its caller, so runs never collide.
 */
export const BACKENDS = ['embedded', 'postgres'] as const;
export type TestBackend = (typeof BACKENDS)[number];

export const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const silentLog = pino({ level: 'silent' });

export interface TestDatabase {
  /** What to give openDatabase (or the server's DATABASE_URL) to reach this database again. */
  databaseUrl: string | undefined;
  dataDir: string;
  dispose(): Promise<void>;
}

/** A fresh, empty database on the backend (not yet opened or migrated). */
export async function createTestDatabase(backend: TestBackend): Promise<TestDatabase> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'glucoboard-test-'));
  if (backend === 'embedded') {
    return { databaseUrl: undefined, dataDir, dispose: () => fs.rm(dataDir, { recursive: true, force: true }) };
  }
  const name = `glucoboard_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    dataDir,
    async dispose() {
      await adminQuery(`drop database if exists ${name} with (force)`);
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database, opened and migrated; dispose() closes and removes it. */
export async function openTestDatabase(backend: TestBackend): Promise<Database & { dispose(): Promise<void> }> {
  const target = await createTestDatabase(backend);
  const db = await openDatabase({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, log: silentLog });
  await migrate(db, silentLog);
  return Object.assign(db, {
    async dispose() {
      await db.close();
      await target.dispose();
    },
  });
}

/** A team with one patient wearing a CGM with the given serial. */
export async function patientWithDevice(db: Database, serial: string) {
  const team = await createTeam(db.pool, { name: `Team ${serial}` });
  const patient = await createPatient(db.pool, { teamId: team.id, name: 'Test Patient' });
  await pairDevice(db.pool, { serial, kind: 'cgm', patientId: patient.id, tokenHash: 'not-a-real-hash' });
  return { teamId: team.id, patientId: patient.id };
}
