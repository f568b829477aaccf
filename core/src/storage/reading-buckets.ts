import type pg from 'pg';
import { CGM_EXPECTED_INTERVAL_MINUTES } from '../domain/statistics.ts';
import { BAND_COUNT, BAND_EDGES, type BandCounts } from '../domain/targets.ts';
import type { ReadingSource } from '../domain/reading.ts';

/**
 * Counts of each patient's readings over periods, added up from per-hour and per-day buckets
 * (migration 018) where a period covers whole clock hours and UTC days, and counted from the
 * readings at its ragged edges: a 1,000-patient team's 28 days are some 120,000 bucket rows
 * instead of 8 million readings. A missing or outdated bucket is counted in the same statement
 * and stored for the next period that needs it, so the answer is always what counting every
 * reading of the period would give, in one snapshot (property test:
 * core/test/storage/reading-buckets.test.ts).
 *
 * Readings are counted per glucose band exactly as `bandOf` sorts them (BAND_EDGES, passed as a
 * parameter): a meter flag decides whatever number came with it, LO lowest, HI highest. CGM slots
 * are the clock's 5-minute slots (`cgmSlotOf`), which tile hours and days. Control-solution
 * readings are left out everywhere, as in the statistics.
 */

type Queryable = pg.Pool | pg.PoolClient;

const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

/** A span of a period: raw readings (`hours` 0) or one bucket of 1 or 24 hours. */
export interface CountPiece {
  from: number;
  to: number;
  hours: 0 | 1 | 24;
}

const floorTo = (ms: number, unit: number) => Math.floor(ms / unit) * unit;
const ceilTo = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;

function spans(from: number, to: number, unit: number, hours: 1 | 24): CountPiece[] {
  const pieces: CountPiece[] = [];
  for (let at = from; at < to; at += unit) pieces.push({ from: at, to: at + unit, hours });
  return pieces;
}

/**
 * [from, to) cut into pieces: the raw part before the first whole hour and after the last, whole
 * hours up to the first UTC midnight and from the last, and whole days between (UTC, so that a
 * day is always 24 hours). Pure; the pieces tile the period exactly.
 */
export function countPieces(from: number, to: number): CountPiece[] {
  if (!(from < to)) return [];
  const h0 = ceilTo(from, HOUR_MS);
  const h1 = floorTo(to, HOUR_MS);
  if (h0 >= h1) return [{ from, to, hours: 0 }];
  const head: CountPiece[] = from < h0 ? [{ from, to: h0, hours: 0 }] : [];
  const tail: CountPiece[] = h1 < to ? [{ from: h1, to, hours: 0 }] : [];
  const d0 = ceilTo(h0, DAY_MS);
  const d1 = floorTo(h1, DAY_MS);
  const whole =
    d0 >= d1
      ? spans(h0, h1, HOUR_MS, 1)
      : [...spans(h0, d0, HOUR_MS, 1), ...spans(d0, d1, DAY_MS, 24), ...spans(d1, h1, HOUR_MS, 1)];
  return [...head, ...whole, ...tail];
}

/** What a patient's readings of one period add up to. */
export interface PeriodCounts {
  /** Readings per glucose band (targets.ts). */
  bands: BandCounts;
  bySource: Record<ReadingSource, number>;
  cgmReadings: number;
  /** Distinct clock 5-minute slots holding a CGM reading. */
  cgmSlots: number;
  lastReadingAt: Date | null;
}

const bandColumns = Array.from({ length: BAND_COUNT }, (_, i) => `b${i}`);
const COUNT_COLUMNS = [...bandColumns, 'device', 'manual', 'import', 'cgm_readings', 'cgm_slots'];

/** The band of a reading as an index, as `bandOf` sorts it; $6 holds the edges' values. */
const BAND_INDEX = `case when r.flag = 'LO' then 0 when r.flag = 'HI' then ${BAND_COUNT - 1}
  ${BAND_EDGES.map((edge, i) => `when r.mmol ${edge.below ? '<' : '<='} ($6::float8[])[${i + 1}] then ${i}`).join(' ')}
  else ${BAND_COUNT - 1} end`;

/**
 * $1 patients, $2/$3/$4 the pieces' starts, ends and hours (0: raw), $5 each piece's period,
 * $6 the band edges. One row per patient and period.
 */
const PERIOD_COUNTS = `
with piece as (
  select * from unnest($2::timestamptz[], $3::timestamptz[], $4::int[], $5::int[]) as x(start_at, end_at, hours, period)
),
wanted as (
  select p.id as patient_id, x.start_at, x.end_at, x.hours, x.period,
         date_bin('1 day', x.start_at, timestamptz '1970-01-01 00:00:00+00') as day
  from unnest($1::uuid[]) as p(id) cross join piece x
),
known as (
  select w.patient_id, w.start_at, w.end_at, w.hours, w.period, coalesce(c.version, 0) as version,
         coalesce(k.counted_version = coalesce(c.version, 0) and k.edges = $6::float8[], false) as valid,
         ${COUNT_COLUMNS.map((c) => `k.${c}`).join(', ')}, k.last_at
  from wanted w
  left join reading_day_changes c on w.hours > 0 and c.patient_id = w.patient_id and c.day = w.day
  left join reading_buckets k on w.hours > 0 and k.patient_id = w.patient_id and k.start_at = w.start_at and k.hours = w.hours
),
counted as (
  select k.patient_id, k.start_at, k.hours, k.period, k.version,
         ${bandColumns.map((c, i) => `(count(*) filter (where r.band = ${i}))::int as ${c}`).join(', ')},
         (count(*) filter (where r.source = 'device'))::int as device,
         (count(*) filter (where r.source = 'manual'))::int as manual,
         (count(*) filter (where r.source = 'import'))::int as import,
         (count(*) filter (where r.kind = 'cgm'))::int as cgm_readings,
         (count(distinct date_bin('${CGM_EXPECTED_INTERVAL_MINUTES} minutes', r.measured_at, timestamptz '1970-01-01 00:00:00+00'))
            filter (where r.kind = 'cgm'))::int as cgm_slots,
         max(r.measured_at) as last_at
  from known k
  left join lateral (
    select r.measured_at, r.kind, r.source, ${BAND_INDEX} as band
    from readings r
    where r.patient_id = k.patient_id and r.measured_at >= k.start_at and r.measured_at < k.end_at and r.kind <> 'control'
    -- A fence: one index range scan per piece. Flattened into a join, the embedded database's
    -- planner sorted all readings for a merge join instead (63 s for 1,000 patients, not 0.3).
    offset 0
  ) r on true
  where not k.valid
  group by k.patient_id, k.start_at, k.hours, k.period, k.version
),
stored as (
  insert into reading_buckets (patient_id, start_at, hours, edges, ${COUNT_COLUMNS.join(', ')}, last_at, counted_version)
  select distinct on (patient_id, start_at, hours)
         patient_id, start_at, hours, $6::float8[], ${COUNT_COLUMNS.join(', ')}, last_at, version
  from counted
  where hours > 0 and start_at + make_interval(hours => hours) <= now() - interval '15 minutes'
  -- Once each (two periods may share a bucket), in one order for every writer, so two boards
  -- storing the same buckets never deadlock.
  order by patient_id, start_at, hours
  on conflict (patient_id, start_at, hours) do update set
    edges = excluded.edges, ${COUNT_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')},
    last_at = excluded.last_at, counted_version = excluded.counted_version, counted_at = now()
  returning 1
)
select t.patient_id as "patientId", t.period, (select count(*) from stored)::int as stored,
       ${COUNT_COLUMNS.map((c) => `sum(t.${c})::int as ${c}`).join(', ')}, max(t.last_at) as "lastReadingAt"
from (
  select patient_id, period, ${COUNT_COLUMNS.join(', ')}, last_at from known where valid
  union all
  select patient_id, period, ${COUNT_COLUMNS.join(', ')}, last_at from counted
) t
group by t.patient_id, t.period`;

type CountRow = { patientId: string; period: number; stored: number; lastReadingAt: Date | null } & Record<
  string,
  number
>;

/**
 * After storing this many buckets at once (a team's first count), the table's statistics are
 * brought up to date at once: the plan of the next count depends on them, and the embedded
 * database has no autovacuum to do it (2.2 s instead of 0.6 s for 1,000 patients without).
 */
const ANALYZE_AFTER_STORED = 5_000;

const emptyCounts = (): PeriodCounts => ({
  bands: new Array<number>(BAND_COUNT).fill(0),
  bySource: { device: 0, manual: 0, import: 0 },
  cgmReadings: 0,
  cgmSlots: 0,
  lastReadingAt: null,
});

/** PostgreSQL's deadlock code: two writers of the same buckets in another order (a retention run). */
const DEADLOCK = '40P01';

/**
 * Each patient's counts over each of `periods` ([from, to), in that order): one statement for
 * every patient and period. A patient without readings gets zero counts.
 */
export async function periodCountsOf(
  db: Queryable,
  patientIds: readonly string[],
  periods: ReadonlyArray<{ from: Date; to: Date }>,
): Promise<Map<string, PeriodCounts[]>> {
  const result = new Map<string, PeriodCounts[]>();
  if (patientIds.length === 0) return result;
  for (const id of patientIds) result.set(id, periods.map(emptyCounts));
  const pieces = periods.flatMap((period, index) =>
    countPieces(period.from.getTime(), period.to.getTime()).map((piece) => ({ ...piece, period: index })),
  );
  if (pieces.length === 0) return result;
  const params = [
    patientIds,
    pieces.map((p) => new Date(p.from)),
    pieces.map((p) => new Date(p.to)),
    pieces.map((p) => p.hours),
    pieces.map((p) => p.period),
    BAND_EDGES.map((edge) => edge.value),
  ];
  let rows: CountRow[];
  try {
    rows = (await db.query<CountRow>(PERIOD_COUNTS, params)).rows;
  } catch (err) {
    if ((err as { code?: string }).code !== DEADLOCK) throw err;
    rows = (await db.query<CountRow>(PERIOD_COUNTS, params)).rows;
  }
  if ((rows[0]?.stored ?? 0) >= ANALYZE_AFTER_STORED) await db.query('analyze reading_buckets');
  for (const row of rows) {
    const counts = result.get(row.patientId);
    if (!counts) continue;
    counts[row.period] = {
      bands: bandColumns.map((c) => row[c]!),
      bySource: { device: row.device!, manual: row.manual!, import: row.import! },
      cgmReadings: row.cgm_readings!,
      cgmSlots: row.cgm_slots!,
      lastReadingAt: row.lastReadingAt,
    };
  }
  return result;
}

/**
 * Counts (and so stores) every patient's buckets of the last `days` days, ahead of the boards and
 * reports that add them up: without it the first board of a team after a quiet night, or ever,
 * counts them while a nurse waits (the first of a 1,000-patient team: 10-12 s of SQL on
 * PostgreSQL, docs/benchmarks.md). `batch` patients per statement, so that on the embedded
 * database's one connection other work gets its turn between them. Returns the patients counted.
 */
export async function fillReadingBuckets(
  db: pg.Pool,
  options: { now: Date; days: number; batch?: number },
): Promise<number> {
  const batch = options.batch ?? 100;
  const period = { from: new Date(options.now.getTime() - options.days * DAY_MS), to: options.now };
  let after = '00000000-0000-0000-0000-000000000000';
  let counted = 0;
  for (;;) {
    const page = await db.query<{ id: string }>('select id from patients where id > $1 order by id limit $2', [
      after,
      batch,
    ]);
    if (page.rows.length === 0) return counted;
    const ids = page.rows.map((r) => r.id);
    await periodCountsOf(db, ids, [period]);
    counted += ids.length;
    after = ids.at(-1)!;
  }
}

/**
 * The retention job's part: buckets of days whose readings it deletes (`before`, and the day it
 * falls in), and hour buckets counted more than `hourBucketDays` ago (they serve the edges of
 * periods that move with the clock, and are counted again if a report needs them).
 */
export async function dropReadingBuckets(
  db: Queryable,
  readingsBefore: Date,
  now: Date,
  hourBucketDays = 3,
): Promise<number> {
  const dayAfter = new Date(floorTo(readingsBefore.getTime(), DAY_MS) + DAY_MS);
  const old = await db.query('delete from reading_buckets where start_at < $1', [dayAfter]);
  // A version row may go only with its day's buckets: a bucket of version 0 must not become
  // valid again because the row that moved its day on was deleted.
  await db.query('delete from reading_day_changes where day < $1', [new Date(dayAfter.getTime() - 2 * DAY_MS)]);
  const hours = await db.query('delete from reading_buckets where hours = 1 and counted_at < $1', [
    new Date(now.getTime() - hourBucketDays * DAY_MS),
  ]);
  return (old.rowCount ?? 0) + (hours.rowCount ?? 0);
}
