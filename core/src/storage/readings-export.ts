import type pg from 'pg';

/** One reading as the readings export (CSV) writes it: everything stored about the measurement, no notes. */
export interface ExportedReading {
  measuredAt: Date;
  receivedAt: Date;
  mmol: number | null;
  flag: 'LO' | 'HI' | null;
  kind: 'bgm' | 'cgm' | 'control';
  meal: 'before' | 'after' | null;
  source: 'device' | 'manual' | 'import';
  /** Null for a value typed in by hand. */
  deviceSerial: string | null;
  seq: number | null;
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * A patient's readings in [from, to), oldest first, a window of `pageMs` at a time: 90 days of a
 * CGM reading every minute is 130,000 rows, which the export writes page by page instead of
 * holding. Windows are half-open and disjoint, so no row is read twice or skipped, whatever ties
 * there are in measured_at; each page is one short query (the embedded database has one
 * connection, and a slow download must not hold it).
 */
export async function* readingPagesOfPatient(
  db: pg.Pool,
  patientId: string,
  from: Date,
  to: Date,
  pageMs = DAY_MS,
): AsyncGenerator<ExportedReading[]> {
  for (let start = from.getTime(); start < to.getTime(); start += pageMs) {
    const end = Math.min(start + pageMs, to.getTime());
    const page = await db.query<ExportedReading>(
      `select measured_at as "measuredAt", received_at as "receivedAt", mmol, flag, kind, meal, source,
              device_serial as "deviceSerial", seq
       from readings where patient_id = $1 and measured_at >= $2 and measured_at < $3
       order by measured_at, received_at, device_serial, seq`,
      [patientId, new Date(start), new Date(end)],
    );
    if (page.rows.length > 0) yield page.rows;
  }
}

/** How many readings a patient has in [from, to): the export's audit event records it before any is sent. */
export async function countReadingsOfPatient(db: pg.Pool, patientId: string, from: Date, to: Date): Promise<number> {
  const result = await db.query<{ count: number }>(
    `select count(*)::int as count from readings where patient_id = $1 and measured_at >= $2 and measured_at < $3`,
    [patientId, from, to],
  );
  return result.rows[0]!.count;
}
