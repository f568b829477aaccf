import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLUCOSE_RANGES, glucoseRange, type GlucoseRange } from '../../src/domain/ranges.ts';
import type { MeterFlag } from '../../src/domain/reading.ts';
import {
  applyRetention,
  compressOldReadings,
  refreshRollups,
  storeDeviceReadings,
  storeNightscoutDocuments,
  vacuumEmbedded,
  type Database,
  type DeviceReadingToStore,
} from '../../src/storage/index.ts';
import { BACKENDS, openTestDatabase, patientWithDevice } from '../support/databases.ts';

const DAY = 86_400_000;

function reading(
  serial: string,
  patientId: string,
  seq: number,
  measuredAt: Date,
  mmol: number | null,
  flag: MeterFlag | null = null,
  kind: DeviceReadingToStore['kind'] = 'cgm',
): DeviceReadingToStore {
  return { deviceSerial: serial, patientId, seq, measuredAt, mmol, flag, kind, meal: null };
}

describe.each(BACKENDS)('maintenance on the %s backend', (backend) => {
  let db: Database & { dispose(): Promise<void> };
  beforeAll(async () => {
    db = await openTestDatabase(backend);
  });
  afterAll(() => db?.dispose());

  it('vacuums and analyzes the embedded database, which has no autovacuum, and leaves a server to its own', async () => {
    await db.pool.query('create table vacuum_probe (n int)');
    await db.pool.query('insert into vacuum_probe select generate_series(1, 500)');
    const tuples = async () =>
      (await db.pool.query<{ n: number }>(`select reltuples::int as n from pg_class where relname = 'vacuum_probe'`))
        .rows[0]!.n;
    const before = await tuples();
    expect(before).not.toBe(500);
    const ran = await vacuumEmbedded(db);
    expect(ran).toBe(backend === 'embedded');
    if (ran) expect(await tuples()).toBe(500);
  });

  it('retention removes readings older than the retention period and keeps the rest', async () => {
    const { patientId } = await patientWithDevice(db, 'RETAIN-1');
    const now = new Date();
    // Retention of 30 days here; 60-day-old readings lie in chunks wholly past it.
    const old = [0, 1, 2].map((i) =>
      reading('RETAIN-1', patientId, i, new Date(now.getTime() - 60 * DAY + i * 60_000), 6),
    );
    const recent = [3, 4].map((i) => reading('RETAIN-1', patientId, i, new Date(now.getTime() - DAY + i * 60_000), 6));
    await storeDeviceReadings(db.pool, [...old, ...recent]);
    const result = await applyRetention(db, { readingRetentionDays: 30, auditRetentionDays: 3650 }, now);
    const left = await db.pool.query<{ seq: number }>(
      'select seq from readings where device_serial = $1 order by seq',
      ['RETAIN-1'],
    );
    expect(left.rows.map((r) => r.seq)).toEqual([3, 4]);
    // TimescaleDB (always in the embedded backend, on a server when installed) drops whole chunks.
    if (db.timescale) expect(result.droppedChunks).toBeGreaterThan(0);
    else expect(result.deletedReadings).toBe(3);
  });

  it("removes Nightscout documents past the readings' retention, by the time they tell of", async () => {
    const { patientId } = await patientWithDevice(db, 'NS-RETAIN-1');
    const now = new Date();
    const doc = (collection: 'entries' | 'treatments' | 'devicestatus', key: string, ageDays: number) => ({
      collection,
      patientId,
      deviceSerial: 'NS-RETAIN-1',
      scope: collection === 'entries' ? 'NS-RETAIN-1' : patientId,
      dedupeKey: key,
      identifier: `id-${key}`,
      objectId: key.padStart(24, '0'),
      dateMs: now.getTime() - ageDays * DAY,
      doc: { date: now.getTime() - ageDays * DAY },
    });
    await storeNightscoutDocuments(db.pool, [
      doc('entries', 'e-old', 31),
      doc('treatments', 't-old', 45),
      doc('devicestatus', 'd-old', 60),
      doc('entries', 'e-new', 29),
      doc('treatments', 't-new', 1),
    ]);
    const result = await applyRetention(db, { readingRetentionDays: 30, auditRetentionDays: 3650 }, now);
    expect(result.deletedNightscoutDocuments).toBe(3);
    const left = await db.pool.query<{ dedupe_key: string }>(
      'select dedupe_key from nightscout_documents where patient_id = $1 order by dedupe_key',
      [patientId],
    );
    expect(left.rows.map((r) => r.dedupe_key)).toEqual(['e-new', 't-new']);
  });

  it('forgets idempotency keys only once readings that old are refused anyway', async () => {
    const { patientId } = await patientWithDevice(db, 'KEYS-1');
    const now = new Date();
    await storeDeviceReadings(db.pool, [
      reading('KEYS-1', patientId, 1, new Date(now.getTime() - 95 * DAY), 6),
      reading('KEYS-1', patientId, 2, new Date(now.getTime() - 80 * DAY), 6),
    ]);
    await applyRetention(db, { readingRetentionDays: 3650, auditRetentionDays: 3650 }, now);
    const keys = await db.pool.query<{ seq: number }>('select seq from reading_keys where device_serial = $1', [
      'KEYS-1',
    ]);
    expect(keys.rows.map((r) => r.seq)).toEqual([2]);
  });

  it('forgets evaluated batches only after any retry of their job is long over', async () => {
    const { patientId } = await patientWithDevice(db, 'MARKS-1');
    await db.pool.query(
      `insert into alert_evaluations (batch_key, patient_id, evaluated_at)
       values ('old', $1, now() - interval '15 days'), ('recent', $1, now() - interval '13 days')`,
      [patientId],
    );
    const result = await applyRetention(db, { readingRetentionDays: 3650, auditRetentionDays: 3650 });
    expect(result.deletedEvaluationMarks).toBe(1);
    const left = await db.pool.query('select batch_key from alert_evaluations where patient_id = $1', [patientId]);
    expect(left.rows).toEqual([{ batch_key: 'recent' }]);
  });

  it('keeps the audit trail append-only, except for the retention job', async () => {
    await db.pool.query(
      `insert into audit_events (actor_kind, action, at) values ('system', 'test.old', now() - interval '4000 days'), ('system', 'test.new', now())`,
    );
    await expect(db.pool.query(`update audit_events set action = 'rewritten'`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`delete from audit_events`)).rejects.toThrow(/append-only/);
    const result = await applyRetention(db, { readingRetentionDays: 3650, auditRetentionDays: 3650 });
    expect(result.deletedAuditEvents).toBe(1);
    const left = await db.pool.query(`select action from audit_events where action like 'test.%'`);
    expect(left.rows).toEqual([{ action: 'test.new' }]);
  });

  it('rolls readings up per hour and day with the consensus ranges of the domain code', async () => {
    const { patientId } = await patientWithDevice(db, 'ROLLUP-1');
    const valueArb = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.integer({ min: 6, max: 333 }).map((t) => ({ mmol: t / 10, flag: null as MeterFlag | null })),
      },
      // CGM values between the one-decimal steps, and exactly on each bound
      {
        weight: 3,
        arbitrary: fc
          .double({ min: 0.6, max: 33.3, noNaN: true })
          .map((mmol) => ({ mmol, flag: null as MeterFlag | null })),
      },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom(2.9, 3.0, 3.8, 3.85, 3.9, 10.0, 10.05, 10.1, 13.9, 13.95, 14.0)
          .map((mmol) => ({ mmol, flag: null as MeterFlag | null })),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom<MeterFlag>('LO', 'HI').map((flag) => ({ mmol: null as number | null, flag })),
      },
    );
    const values = fc.sample(fc.array(valueArb, { minLength: 300, maxLength: 300 }), {
      numRuns: 1,
      seed: 20261124,
    })[0]!;
    const start = Date.now() - 3 * DAY;
    const readings = values.map((v, i) =>
      reading('ROLLUP-1', patientId, i, new Date(start + i * 5 * 60_000), v.mmol, v.flag),
    );
    readings.push(reading('ROLLUP-1', patientId, 10_000, new Date(start), 1.0, null, 'control'));
    await storeDeviceReadings(db.pool, readings);
    await refreshRollups(db);

    const expected: Record<GlucoseRange, number> = { veryLow: 0, low: 0, inRange: 0, high: 0, veryHigh: 0 };
    for (const v of values) expected[glucoseRange(v.mmol, v.flag)]++;
    for (const rollup of ['reading_hourly', 'reading_daily']) {
      const totals = await db.pool.query(
        `select sum(n)::int as n, sum(n_valued)::int as n_valued, sum(n_very_low)::int as "veryLow", sum(n_low)::int as low,
                sum(n_in_range)::int as "inRange", sum(n_high)::int as high, sum(n_very_high)::int as "veryHigh",
                sum(sum_mmol) as sum
         from ${rollup} where patient_id = $1`,
        [patientId],
      );
      const row = totals.rows[0];
      expect(row.n, rollup).toBe(300); // the control-solution reading is left out
      expect(row.n_valued).toBe(values.filter((v) => v.mmol !== null).length);
      for (const range of GLUCOSE_RANGES) expect(row[range], `${rollup} ${range}`).toBe(expected[range]);
      const sum = values.reduce((s, v) => s + (v.mmol ?? 0), 0);
      expect(row.sum).toBeCloseTo(sum, 6);
    }
  });

  it('picks up late (backfilled) readings at the next refresh', async () => {
    const { patientId } = await patientWithDevice(db, 'ROLLUP-2');
    const now = Date.now();
    await storeDeviceReadings(db.pool, [reading('ROLLUP-2', patientId, 1, new Date(now - 2 * DAY), 5)]);
    await refreshRollups(db);
    await storeDeviceReadings(db.pool, [reading('ROLLUP-2', patientId, 2, new Date(now - 2 * DAY + 60_000), 2.5)]);
    await refreshRollups(db);
    const row = await db.pool.query(
      'select sum(n)::int as n, sum(n_very_low)::int as very_low from reading_hourly where patient_id = $1',
      [patientId],
    );
    expect(row.rows[0]).toEqual({ n: 2, very_low: 1 });
  });
});

describe('compression (TimescaleDB, embedded backend)', () => {
  it('compresses old chunks, and a resend into a compressed chunk is still a duplicate', async () => {
    const db = await openTestDatabase('embedded');
    try {
      const { patientId } = await patientWithDevice(db, 'COMPRESS-1');
      const old = Array.from({ length: 100 }, (_, i) =>
        reading('COMPRESS-1', patientId, i, new Date(Date.now() - 40 * DAY + i * 300_000), 5 + (i % 10) / 10),
      );
      await storeDeviceReadings(db.pool, old);
      const compressedChunks = async () =>
        (
          await db.pool.query<{ n: number }>(
            `select count(*)::int as n from timescaledb_information.chunks where hypertable_name = 'readings' and is_compressed`,
          )
        ).rows[0]!.n;
      expect(await compressedChunks()).toBe(0);
      const first = await compressOldReadings(db, 30);
      expect(first).toBeGreaterThan(0);
      expect(await compressedChunks()).toBe(first);
      // The next run finds nothing new to compress, and says so.
      expect(await compressOldReadings(db, 30)).toBe(0);
      expect(await compressedChunks()).toBe(first);
      expect(await storeDeviceReadings(db.pool, old.slice(0, 10))).toEqual(Array(10).fill('duplicate'));
      const backfill = reading('COMPRESS-1', patientId, 500, new Date(Date.now() - 40 * DAY + 1234), 7);
      expect(await storeDeviceReadings(db.pool, [backfill])).toEqual(['stored']);
      const count = await db.pool.query(`select count(*)::int as n from readings where device_serial = 'COMPRESS-1'`);
      expect(count.rows[0].n).toBe(101);
    } finally {
      await db.dispose();
    }
  });
});
