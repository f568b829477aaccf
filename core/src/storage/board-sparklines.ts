import type pg from 'pg';
import type { MeterFlag } from '../domain/reading.ts';

/**
 * The board's 24-hour sparklines, kept per team between requests. Binning a 1,000-patient team's
 * last 24 hours (280,000 readings into 96,000 bins) took 250-350 ms of PostgreSQL's time on every
 * board request (docs/benchmarks.md), although only the newest bins change from one request to
 * the next. Bins lie on the clock's grid (a bin of 15 minutes starts at :00, :15, :30 or :45), so
 * a bin counted once stays the same bin; the memo keeps a patient's bins that ended 15 minutes
 * ago or more and asks the database only for the bins after them.
 *
 * A kept bin is valid while the patient-days it lies in keep the version they had when it was
 * counted: a reading stored more than 10 minutes after it was measured (a meter's backlog, a
 * manual entry, an import) moves its day's version on (migration 018, the same rule as the count
 * buckets of reading-buckets.ts, which explains the 10 and 15 minutes). A patient whose days moved
 * on gets all 24 hours counted again. Readings are never updated; the retention job deletes only
 * readings far older than a day. The versions are read before the bins, so a reading that lands
 * between the two reads is at worst counted again on the next request, never missed.
 *
 * One memo per server process; a team not asked for within `idleMs` is forgotten.
 */

type Queryable = pg.Pool | pg.PoolClient;

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Bins ending this long before the request are kept (see above). */
const SETTLED_MS = 15 * MINUTE_MS;

/**
 * One bin of a sparkline, as the board's answer carries it (core/src/wire/board.ts): a tuple, since
 * a 1,000-patient board holds some 96,000 of them (objects with ISO times made it 9.8 MB).
 */
export type SparkBin = [
  /** Start of the bin, ms since the epoch, on the clock's grid of the bin width. */
  at: number,
  /** Mean of the numeric readings in the bin, to 0.01 mmol/L (`sparkMean`); null if it had only LO/HI. */
  mmol: number | null,
  min: number | null,
  max: number | null,
  /** Numeric readings in the bin (a live reading updates the mean with it). */
  count: number,
  /** A reading in the bin showed LO (or else HI). */
  flag: MeterFlag | null,
];

/** A bin's mean as the board shows it: to 0.01 mmol/L, which is finer than any meter reads. */
export const sparkMean = (sum: number, count: number): number | null =>
  count > 0 ? Math.round((sum / count) * 100) / 100 : null;

export interface SparklineWindow {
  /** End of the window, exclusive: the time of the request. */
  now: Date;
  hours: number;
  binMinutes: number;
}

interface PatientBins {
  /** Bins before this instant are kept in `bins`; the ones from it on are asked for each time. */
  keptTo: number;
  binMs: number;
  /** reading_day_changes versions (day start in ms -> version) when the bins were counted. */
  versions: Map<number, string>;
  /** Whole bins, oldest first; shared with the answers made of them, so never changed. */
  bins: SparkBin[];
}

/** $1 patients, $2 from when each patient's readings are binned, $3 the end, $4 the bin width in seconds. */
const BIN_SUMS = `
select p.id as "patientId", floor(date_part('epoch', r.measured_at) / $4::float8) as bin,
       coalesce(sum(r.mmol) filter (where r.flag is null), 0)::float8 as sum,
       (count(r.mmol) filter (where r.flag is null))::int as count,
       min(r.mmol) filter (where r.flag is null) as min,
       max(r.mmol) filter (where r.flag is null) as max,
       coalesce(bool_or(r.flag = 'LO'), false) as lo,
       coalesce(bool_or(r.flag = 'HI'), false) as hi
from unnest($1::uuid[], $2::timestamptz[]) as p(id, from_at)
join readings r on r.patient_id = p.id and r.measured_at >= p.from_at and r.measured_at < $3 and r.kind <> 'control'
group by 1, 2`;

const DAY_VERSIONS = `
select patient_id as "patientId", floor(date_part('epoch', day) * 1000)::float8 as "dayMs", version::text
from reading_day_changes
where patient_id = any($1::uuid[]) and day >= $2`;

/**
 * The kept bins still hold: same width, and no day of the window (from `firstDay`) moved on since
 * they were counted (a day without a row is at version 0).
 */
function stillValid(
  kept: PatientBins | undefined,
  binMs: number,
  firstDay: number,
  versions: Map<number, string> = new Map(),
): kept is PatientBins {
  if (!kept || kept.binMs !== binMs) return false;
  for (const [day, version] of versions) if (kept.versions.get(day) !== version) return false;
  for (const [day, version] of kept.versions) if (day >= firstDay && versions.get(day) !== version) return false;
  return true;
}

export class SparklineMemo {
  readonly #teams = new Map<string, { usedAt: number; patients: Map<string, PatientBins> }>();

  constructor(
    private readonly idleMs = 10 * MINUTE_MS,
    private readonly clock = () => Date.now(),
  ) {}

  /**
   * Each patient's bins of the window, oldest first, empty bins left out: the window's first bin
   * is the one holding `now - hours` (whole, so it may reach a bin's width further back).
   */
  async sparklinesOf(
    db: Queryable,
    teamId: string,
    patientIds: readonly string[],
    window: SparklineWindow,
  ): Promise<Map<string, SparkBin[]>> {
    const usedAt = this.clock();
    for (const [id, team] of this.#teams) if (usedAt - team.usedAt >= this.idleMs) this.#teams.delete(id);
    const result = new Map<string, SparkBin[]>();
    if (patientIds.length === 0) return result;

    const binMs = window.binMinutes * MINUTE_MS;
    const now = window.now.getTime();
    const first = Math.floor((now - window.hours * 60 * MINUTE_MS) / binMs) * binMs;
    const settled = Math.max(first, Math.floor((now - SETTLED_MS) / binMs) * binMs);
    const firstDay = Math.floor(first / DAY_MS) * DAY_MS;

    const versionRows = await db.query<{ patientId: string; dayMs: number; version: string }>(DAY_VERSIONS, [
      patientIds,
      new Date(firstDay),
    ]);
    const versionsOf = new Map<string, Map<number, string>>();
    for (const row of versionRows.rows) {
      const days = versionsOf.get(row.patientId) ?? new Map<number, string>();
      days.set(row.dayMs, row.version);
      versionsOf.set(row.patientId, days);
    }

    const keptOf = this.#teams.get(teamId)?.patients ?? new Map<string, PatientBins>();
    const kept = new Map<string, SparkBin[]>();
    const froms = patientIds.map((id) => {
      const entry = keptOf.get(id);
      if (!stillValid(entry, binMs, firstDay, versionsOf.get(id))) return first;
      const stale = entry.bins.findIndex((bin) => bin[0] >= first);
      kept.set(id, stale < 0 ? [] : entry.bins.slice(stale));
      return Math.max(first, entry.keptTo);
    });

    const fresh = await db.query<{
      patientId: string;
      bin: number;
      sum: number;
      count: number;
      min: number | null;
      max: number | null;
      lo: boolean;
      hi: boolean;
    }>(BIN_SUMS, [patientIds, froms.map((from) => new Date(from)), window.now, binMs / 1000]);
    const freshOf = new Map<string, SparkBin[]>();
    for (const { patientId, bin, sum, count, min, max, lo, hi } of fresh.rows) {
      const bins = freshOf.get(patientId) ?? [];
      bins.push([bin * binMs, sparkMean(sum, count), min, max, count, lo ? 'LO' : hi ? 'HI' : null]);
      freshOf.set(patientId, bins);
    }

    const patients = new Map<string, PatientBins>();
    for (const id of patientIds) {
      const newer = (freshOf.get(id) ?? []).sort((a, b) => a[0] - b[0]);
      const older = kept.get(id) ?? [];
      const bins = older.length === 0 ? newer : newer.length === 0 ? older : older.concat(newer);
      result.set(id, bins);
      const unsettled = bins.findIndex((bin) => bin[0] + binMs > settled);
      patients.set(id, {
        keptTo: settled,
        binMs,
        versions: versionsOf.get(id) ?? new Map(),
        bins: unsettled < 0 ? bins : bins.slice(0, unsettled),
      });
    }
    this.#teams.set(teamId, { usedAt, patients });
    return result;
  }
}
