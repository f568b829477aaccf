import type { Database } from '../../src/storage/index.ts';

/** A reading as the storage tests make them: a time in ms since the epoch and what a meter showed. */
export interface TestReading {
  at: number;
  mmol: number | null;
  flag: 'LO' | 'HI' | null;
  kind: 'cgm' | 'bgm' | 'control';
  source: 'device' | 'manual' | 'import';
}

/**
 * Readings of one patient in one insert, straight into the table (a `device` source here goes
 * past the device write, so it moves no patient-day's version; the other sources do, by trigger).
 */
export async function insertReadings(db: Database, patientId: string, readings: readonly TestReading[]): Promise<void> {
  if (readings.length === 0) return;
  await db.pool.query(
    `insert into readings (measured_at, patient_id, mmol, flag, kind, source)
     select to_timestamp(t / 1000.0), $1, m, f, k, s
     from unnest($2::float8[], $3::float8[], $4::text[], $5::text[], $6::text[]) as x(t, m, f, k, s)`,
    [
      patientId,
      readings.map((r) => r.at),
      readings.map((r) => r.mmol),
      readings.map((r) => r.flag),
      readings.map((r) => r.kind),
      readings.map((r) => r.source),
    ],
  );
}
