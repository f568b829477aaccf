import { LOINC, LOINC_CODES } from './codes.ts';
import type { IssueInput } from './outcome.ts';

/**
 * Observation search (FHIR R4 search.html) as Glucoboard serves it: `patient` (or `subject`),
 * `code` (token, `system|code` or `code`, comma for OR), `date` (repeatable, prefixes eq, ge, gt,
 * le, lt; the precision of the value sets the range it means), `_count` and the server's own
 * `_cursor` for the next page. Dates without a time zone are UTC.
 */

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export type ObservationQuery =
  | {
      mode: 'readings';
      patientId: string;
      kinds: Array<'bgm' | 'cgm'>;
      from?: Date;
      to?: Date;
      count: number;
      cursor?: { measuredAt: Date; key: string };
    }
  | { mode: 'summary'; patientId: string; from?: Date; to?: Date };

type Parsed<T> = { ok: true; value: T } | { ok: false; issue: IssueInput };
const invalid = (message: string, expression: string, code = 'INVALID_SEARCH'): Parsed<never> => ({
  ok: false,
  issue: { type: 'invalid', code, message, expression },
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Glucoboard's ids (patients, API clients) are UUIDs: anything else names nothing here. */
export const isGlucoboardId = (value: string): boolean => UUID.test(value);
const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

/** The instants [start, end) a FHIR date value of its precision means. */
export function dateRange(value: string): { start: Date; end: Date } | undefined {
  const m = DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (h !== undefined) {
    const start = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ?? ''}${zone}`);
    if (Number.isNaN(start.getTime())) return undefined;
    const step = s === undefined ? 60_000 : frac ? 1 : 1000;
    return { start, end: new Date(start.getTime() + step) };
  }
  const year = Number(y);
  const month = mo === undefined ? 0 : Number(mo) - 1;
  const day = d === undefined ? 1 : Number(d);
  const start = new Date(Date.UTC(year, month, day));
  if (start.getUTCMonth() !== month || start.getUTCDate() !== day) return undefined;
  const end =
    d !== undefined
      ? new Date(Date.UTC(year, month, day + 1))
      : mo !== undefined
        ? new Date(Date.UTC(year, month + 1, 1))
        : new Date(Date.UTC(year + 1, 0, 1));
  return { start, end };
}

/** `date` parameters to one [from, to) (the intersection of all of them). */
export function dateBounds(values: readonly string[]): Parsed<{ from?: Date; to?: Date }> {
  let from: Date | undefined;
  let to: Date | undefined;
  const later = (a: Date | undefined, b: Date) => (a && a > b ? a : b);
  const earlier = (a: Date | undefined, b: Date) => (a && a < b ? a : b);
  for (const raw of values) {
    const m = /^(eq|ge|gt|le|lt)?(.*)$/.exec(raw)!;
    const prefix = m[1] ?? 'eq';
    const range = dateRange(m[2]!);
    if (!range)
      return invalid(
        `date '${raw}' is not understood: use a prefix (eq, ge, gt, le, lt) and a FHIR date or dateTime, e.g. ge2025-01-31T00:00:00Z`,
        'date',
      );
    if (prefix === 'eq' || prefix === 'ge') from = later(from, range.start);
    if (prefix === 'gt') from = later(from, range.end);
    if (prefix === 'eq' || prefix === 'le') to = earlier(to, range.end);
    if (prefix === 'lt') to = earlier(to, range.start);
  }
  return { ok: true, value: { from, to } };
}

/** The paging cursor: the last reading of a page, opaque to clients. */
export const encodeCursor = (cursor: { measuredAt: Date; key: string }): string =>
  Buffer.from(JSON.stringify([cursor.measuredAt.toISOString(), cursor.key])).toString('base64url');

export function decodeCursor(value: string): { measuredAt: Date; key: string } | undefined {
  try {
    const [at, key] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown[];
    const measuredAt = new Date(String(at));
    if (typeof at !== 'string' || typeof key !== 'string' || Number.isNaN(measuredAt.getTime())) return undefined;
    return { measuredAt, key };
  } catch {
    return undefined;
  }
}

const READING_CODES: Record<string, 'bgm' | 'cgm'> = {
  [LOINC_CODES.fingerstick]: 'bgm',
  [LOINC_CODES.cgmMolar]: 'cgm',
};
const KNOWN = new Set(['patient', 'subject', 'code', 'date', '_count', '_cursor', '_format']);

/** A query string's values of one parameter, however Express parsed them. */
const all = (value: unknown): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];

/** The patient's id from `patient=<id>`, `patient=Patient/<id>` or `subject=Patient/<id>`. */
function patientOf(query: Record<string, unknown>): Parsed<string> {
  const given = [...all(query['patient']), ...all(query['subject'])];
  if (given.length !== 1)
    return invalid('name exactly one patient: patient=<id> (search across patients is not offered)', 'patient');
  const id = given[0]!.replace(/^Patient\//, '');
  if (!UUID.test(id)) return invalid(`patient '${given[0]}' is not a Glucoboard patient id`, 'patient', 'NOT_FOUND');
  return { ok: true, value: id };
}

/** Reads an Observation search's parameters, or says precisely what is wrong with them. */
export function parseObservationSearch(query: Record<string, unknown>): Parsed<ObservationQuery> {
  for (const name of Object.keys(query)) {
    if (!KNOWN.has(name))
      return {
        ok: false,
        issue: {
          type: 'not-supported',
          code: 'UNSUPPORTED_PARAMETER',
          message: `search parameter '${name}' is not supported here: use patient, code, date, _count`,
          expression: name,
        },
      };
  }
  const patient = patientOf(query);
  if (!patient.ok) return patient;
  const dates = dateBounds(all(query['date']));
  if (!dates.ok) return dates;

  const codes = all(query['code']).flatMap((v) => v.split(','));
  const wanted = new Set<string>();
  for (const token of codes) {
    const [system, code] = token.includes('|') ? token.split('|', 2) : [undefined, token];
    if ((system !== undefined && system !== '' && system !== LOINC) || !code)
      return invalid(`code '${token}' is not one Glucoboard has: codes are LOINC (${LOINC})`, 'code', 'UNKNOWN_CODE');
    wanted.add(code);
  }
  if (wanted.has(LOINC_CODES.summary)) {
    if (wanted.size > 1)
      return invalid(`ask for the CGM summary (${LOINC_CODES.summary}) on its own, not with other codes`, 'code');
    if (query['_cursor'] !== undefined) return invalid('the CGM summary is one page', '_cursor');
    return { ok: true, value: { mode: 'summary', patientId: patient.value, ...dates.value } };
  }
  const kinds = new Set<'bgm' | 'cgm'>();
  for (const code of wanted) {
    const kind = READING_CODES[code];
    if (!kind)
      return invalid(
        `code '${code}' is not one Glucoboard searches: ${LOINC_CODES.fingerstick} (fingerstick), ${LOINC_CODES.cgmMolar} (CGM) or ${LOINC_CODES.summary} (CGM summary)`,
        'code',
        'UNKNOWN_CODE',
      );
    kinds.add(kind);
  }

  const countText = all(query['_count']);
  let count = DEFAULT_PAGE_SIZE;
  if (countText.length > 0) {
    count = Number(countText[0]);
    if (countText.length > 1 || !Number.isInteger(count) || count < 1 || count > MAX_PAGE_SIZE)
      return invalid(`_count must be a whole number from 1 to ${MAX_PAGE_SIZE}`, '_count');
  }
  const cursorText = all(query['_cursor']);
  const cursor = cursorText.length === 1 ? decodeCursor(cursorText[0]!) : undefined;
  if (cursorText.length > 0 && !cursor)
    return invalid('_cursor is not one this server gave; follow the Bundle.link "next" as given', '_cursor');
  return {
    ok: true,
    value: {
      mode: 'readings',
      patientId: patient.value,
      kinds: kinds.size > 0 ? [...kinds] : ['bgm', 'cgm'],
      ...dates.value,
      count,
      ...(cursor ? { cursor } : {}),
    },
  };
}
