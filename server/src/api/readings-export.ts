import { once } from 'node:events';
import type { Request, Response } from 'express';
import type pg from 'pg';
import { countReadingsOfPatient, readingPagesOfPatient } from '@glucoboard/core/storage';
import {
  csvCell,
  READINGS_CSV_COLUMNS,
  readingCsvCells,
  swedishIsoString,
  type ReadingsQuery,
} from '@glucoboard/core/wire';
import type { PatientAccess } from '../access/policy.ts';
import { recordPatientEvent } from '../audit/trail.ts';
import type { Reply } from '../http/routes.ts';

/**
 * The readings of a patient as a CSV file (docs/follow-up.md, "Exports"): asked for with
 * `format=csv`, or by `Accept: text/csv` when no format is named. A browser's own Accept (any type)
 * and every client of the JSON contract keep getting JSON.
 */
export function wantsCsv(req: Request, query: Pick<ReadingsQuery, 'format'>): boolean {
  if (query.format) return query.format === 'csv';
  return req.accepts(['application/json', 'text/csv']) === 'text/csv';
}

const line = (cells: readonly unknown[]) => cells.map(csvCell).join(',') + '\n';

/** Waits when the client reads slower than the database gives, so a long export is never held whole. */
async function send(out: Response, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/**
 * Audited as an export (action `readings.export`, told apart from a view, `readings.read`), with
 * the period and the number of readings, before the first byte leaves: the trail must hold every
 * access even if the download is then cut.
 *
 * No BOM: every cell is ASCII (ISO times, numbers, codes, serials), so a BOM would change nothing
 * for Excel and only break programs that read the first column's name (R, pandas, csv modules).
 * The file name carries the patient's id, never the name or identity number, which would end up
 * in download folders, browser histories and proxy logs.
 */
export async function readingsCsvReply(
  db: pg.Pool,
  user: { userId: string },
  access: PatientAccess,
  period: { from: Date; to: Date },
  origin: string,
): Promise<Reply> {
  const count = await countReadingsOfPatient(db, access.patientId, period.from, period.to);
  await recordPatientEvent(db, 'readings.export', user.userId, access, origin, {
    format: 'csv',
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    count,
  });
  const day = (at: Date) => swedishIsoString(at).slice(0, 10);
  return {
    status: 200,
    stream: {
      contentType: 'text/csv; charset=utf-8',
      filename: `readings-${access.patientId}-${day(period.from)}-${day(period.to)}.csv`,
      async write(out) {
        await send(out, line(READINGS_CSV_COLUMNS));
        for await (const page of readingPagesOfPatient(db, access.patientId, period.from, period.to)) {
          await send(out, page.map((r) => line(readingCsvCells(r))).join(''));
        }
      },
    },
  };
}
