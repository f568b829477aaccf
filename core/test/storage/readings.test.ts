import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceReading } from '../../src/domain/reading.ts';
import {
  openDatabase,
  readingsOfPatient,
  storeDeviceReadings,
  type Database,
  type DeviceReadingToStore,
} from '../../src/storage/index.ts';
import { BACKENDS, createTestDatabase, openTestDatabase, patientWithDevice, silentLog } from '../support/databases.ts';

const MINUTE = 60_000;

function series(
  serial: string,
  patientId: string,
  count: number,
  start = Date.now() - count * 5 * MINUTE,
  firstSeq = 0,
) {
  return Array.from(
    { length: count },
    (_, i): DeviceReadingToStore => ({
      deviceSerial: serial,
      patientId,
      seq: firstSeq + i,
      measuredAt: new Date(start + i * 5 * MINUTE),
      mmol: Math.round((4 + (i % 80) / 10) * 10) / 10,
      flag: null,
      kind: 'cgm',
      meal: null,
    }),
  );
}

const countRows = async (db: Database, serial: string) =>
  (await db.pool.query<{ n: number }>('select count(*)::int as n from readings where device_serial = $1', [serial]))
    .rows[0]!.n;

describe.each(BACKENDS)('storing device readings on the %s backend', (backend) => {
  let db: Database & { dispose(): Promise<void> };
  beforeAll(async () => {
    db = await openTestDatabase(backend);
  });
  afterAll(() => db?.dispose());

  it('stores a batch once; a full resend is all duplicates and adds no row', async () => {
    const { patientId } = await patientWithDevice(db, 'RESEND-1');
    const batch = series('RESEND-1', patientId, 500);
    expect(await storeDeviceReadings(db.pool, batch)).toEqual(batch.map(() => 'stored'));
    expect(await storeDeviceReadings(db.pool, batch)).toEqual(batch.map(() => 'duplicate'));
    expect(await countRows(db, 'RESEND-1')).toBe(500);
    const stored = await readingsOfPatient(db.pool, patientId, new Date(0), new Date(Date.now() + MINUTE));
    expect(stored).toHaveLength(500);
    expect(stored[0]).toEqual({
      measuredAt: batch[0]!.measuredAt,
      mmol: batch[0]!.mmol,
      flag: null,
      kind: 'cgm',
      source: 'device',
      seq: 0,
    });
  });

  it('tells a resend with another UTC offset (same instant) from a changed reading under the same seq', async () => {
    const { patientId } = await patientWithDevice(db, 'CONFLICT-1');
    const [original] = series('CONFLICT-1', patientId, 1);
    await storeDeviceReadings(db.pool, [original!]);
    const sameInstant = { ...original!, measuredAt: new Date(original!.measuredAt.getTime()) };
    const otherValue = { ...original!, mmol: original!.mmol! + 0.1 };
    const otherTime = { ...original!, measuredAt: new Date(original!.measuredAt.getTime() + MINUTE) };
    const otherMeal: DeviceReadingToStore = { ...original!, meal: 'after' };
    expect(await storeDeviceReadings(db.pool, [sameInstant, otherValue, otherTime, otherMeal])).toEqual([
      'duplicate',
      'seq_conflict',
      'seq_conflict',
      'seq_conflict',
    ]);
    expect(await countRows(db, 'CONFLICT-1')).toBe(1);
  });

  it('judges a key repeated inside one write against its first occurrence', async () => {
    const { patientId } = await patientWithDevice(db, 'INBATCH-1');
    const [a, b] = series('INBATCH-1', patientId, 2);
    const changed = { ...a!, mmol: 2.2 };
    expect(await storeDeviceReadings(db.pool, [a!, b!, a!, changed])).toEqual([
      'stored',
      'stored',
      'duplicate',
      'seq_conflict',
    ]);
    expect(await countRows(db, 'INBATCH-1')).toBe(2);
  });

  it('keeps LO and HI readings without a value, and control solution', async () => {
    const { patientId } = await patientWithDevice(db, 'FLAGS-1');
    const now = Date.now();
    const readings: DeviceReading[] = [
      { seq: 1, measuredAt: new Date(now - 3 * MINUTE), mmol: null, flag: 'LO', kind: 'bgm', meal: null },
      { seq: 2, measuredAt: new Date(now - 2 * MINUTE), mmol: null, flag: 'HI', kind: 'bgm', meal: 'after' },
      { seq: 3, measuredAt: new Date(now - 1 * MINUTE), mmol: 6.1, flag: null, kind: 'control', meal: null },
    ];
    const outcome = await storeDeviceReadings(
      db.pool,
      readings.map((r) => ({ ...r, deviceSerial: 'FLAGS-1', patientId })),
    );
    expect(outcome).toEqual(['stored', 'stored', 'stored']);
    const stored = await readingsOfPatient(db.pool, patientId, new Date(now - 10 * MINUTE), new Date(now));
    expect(stored.map((r) => [r.mmol, r.flag, r.kind])).toEqual([
      [null, 'LO', 'bgm'],
      [null, 'HI', 'bgm'],
      [6.1, null, 'control'],
    ]);
  });

  it('writes nothing of a batch that fails (one statement, all or nothing)', async () => {
    const { patientId } = await patientWithDevice(db, 'ATOMIC-1');
    const batch = series('ATOMIC-1', patientId, 10);
    // A value the table's check refuses makes the whole statement fail.
    batch[7] = { ...batch[7]!, mmol: 99 };
    await expect(storeDeviceReadings(db.pool, batch)).rejects.toThrow();
    expect(await countRows(db, 'ATOMIC-1')).toBe(0);
    const keys = await db.pool.query('select count(*)::int as n from reading_keys where device_serial = $1', [
      'ATOMIC-1',
    ]);
    expect(keys.rows[0].n).toBe(0);
  });
});

describe('concurrent writers of the same readings (PostgreSQL server, several connections)', () => {
  it('store each reading once and call every other copy a duplicate', async () => {
    const db = await openTestDatabase('postgres');
    try {
      const { patientId } = await patientWithDevice(db, 'RACE-1');
      const batch = series('RACE-1', patientId, 300);
      const results = await Promise.all([1, 2, 3, 4].map(() => storeDeviceReadings(db.pool, batch)));
      for (let i = 0; i < batch.length; i++) {
        const outcomes = results.map((r) => r[i]).sort();
        expect(outcomes).toEqual(['duplicate', 'duplicate', 'duplicate', 'stored']);
      }
      expect(await countRows(db, 'RACE-1')).toBe(300);
    } finally {
      await db.dispose();
    }
  });
});

describe('the embedded database across a restart', () => {
  it('keeps its data and its TimescaleDB features after being closed and opened again', async () => {
    const target = await createTestDatabase('embedded');
    try {
      const first = await openTestDatabaseAt(target);
      const { patientId } = await patientWithDevice(first, 'RESTART-1');
      const start = Date.now() - 6 * 60 * MINUTE;
      await storeDeviceReadings(first.pool, series('RESTART-1', patientId, 50, start));
      await first.close();

      const second = await openTestDatabaseAt(target);
      try {
        expect(await countRows(second, 'RESTART-1')).toBe(50);
        // Inserting into a hypertable with continuous aggregates needs TimescaleDB's TSL module,
        // which a reopened PGlite only has when it is loaded first (see database.ts).
        const more = series('RESTART-1', patientId, 60, start);
        const outcomes = await storeDeviceReadings(second.pool, more);
        expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(50);
        expect(outcomes.filter((o) => o === 'stored')).toHaveLength(10);
        await second.pool.query(`call refresh_continuous_aggregate('reading_hourly', null, null)`);
        const hourly = await second.pool.query<{ n: number }>(
          'select sum(n)::int as n from reading_hourly where patient_id = $1',
          [patientId],
        );
        expect(hourly.rows[0]!.n).toBe(60);
      } finally {
        await second.close();
      }
    } finally {
      await target.dispose();
    }
  });
});

async function openTestDatabaseAt(target: { databaseUrl: string | undefined; dataDir: string }) {
  const { migrate } = await import('../../src/storage/index.ts');
  const db = await openDatabase({ databaseUrl: target.databaseUrl, dataDir: target.dataDir, log: silentLog });
  await migrate(db, silentLog);
  return db;
}
