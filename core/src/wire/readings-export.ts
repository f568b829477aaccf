import { z } from 'zod';
import { MGDL_PER_MMOL } from '../domain/ranges.ts';
import { swedishUtcOffsetMinutes } from '../domain/swedish-time.ts';
import { readingsRangeQueryAt } from './people.ts';

/**
 * The readings export (`GET /api/patients/:id/readings?format=csv`): the query, which adds
 * `format` to the readings range, and the CSV's columns. The JSON answer of the route is SPEC
 * section 4 and does not change; CSV is only given when asked for. docs/follow-up.md lists the
 * columns, and a change here is a change for every spreadsheet built on them.
 */

export const READINGS_FORMATS = ['json', 'csv'] as const;
export type ReadingsFormat = (typeof READINGS_FORMATS)[number];

/** `?from&to` of the readings range (24 h back by default, at most 90 days) and `format`. */
export function readingsQueryAt(now: () => Date) {
  const range = readingsRangeQueryAt(now);
  return range.in
    .extend({
      format: z
        .enum(READINGS_FORMATS)
        .optional()
        .describe('json (the default) or csv, a file to download (Accept: text/csv asks for it too)'),
    })
    .transform((query, ctx) => {
      const { format, ...period } = query;
      // The period's own checks (from before to, at most 90 days), with their messages and field.
      const parsed = range.safeParse(period);
      if (!parsed.success) {
        for (const issue of parsed.error.issues)
          ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, input: query });
        return z.NEVER;
      }
      return { ...parsed.data, format };
    });
}

export const readingsQuery = readingsQueryAt(() => new Date()).meta({
  id: 'ReadingsQuery',
  description: 'Period of readings: [from, to), ISO-8601 date-times with offset, at most 90 days; and the format',
});
export type ReadingsQuery = z.infer<typeof readingsQuery>;

/**
 * An instant as Swedish wall-clock time with its offset, `2026-12-03T10:04:00+01:00`: the time
 * the patient and the clinic saw, still one exact instant for any program that reads the offset.
 */
export function swedishIsoString(at: Date): string {
  const offset = swedishUtcOffsetMinutes(at);
  const local = new Date(at.getTime() + offset * 60_000).toISOString();
  const fraction = at.getUTCMilliseconds() === 0 ? '' : local.slice(19, 23);
  const sign = offset >= 0 ? '+' : '-';
  const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  const mm = String(Math.abs(offset) % 60).padStart(2, '0');
  return `${local.slice(0, 19)}${fraction}${sign}${hh}:${mm}`;
}

/** The export's header: snake_case names that spreadsheets, R and pandas take as they are. */
export const READINGS_CSV_COLUMNS = [
  'measured_at',
  'mmol_l',
  'mg_dl',
  'flag',
  'kind',
  'meal',
  'source',
  'device_serial',
  'seq',
  'received_at',
] as const;

export interface ReadingForCsv {
  measuredAt: Date;
  receivedAt: Date;
  mmol: number | null;
  flag: string | null;
  kind: string;
  meal: string | null;
  source: string;
  deviceSerial: string | null;
  seq: number | null;
}

/** One reading's cells in READINGS_CSV_COLUMNS order; empty where a value is absent (a LO has no number). */
export function readingCsvCells(r: ReadingForCsv): unknown[] {
  return [
    swedishIsoString(r.measuredAt),
    r.mmol,
    r.mmol === null ? null : Math.round(r.mmol * MGDL_PER_MMOL),
    r.flag,
    r.kind,
    r.meal,
    r.source,
    r.deviceSerial,
    r.seq,
    swedishIsoString(r.receivedAt),
  ];
}
