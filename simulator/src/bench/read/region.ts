import type pg from 'pg';

/**
 * A region's CGM history, made in SQL (generate_series), not through the API: the read benchmark
 * needs tens of millions of readings in minutes. The shape per patient is what a CGM gives: one
 * reading every 5 minutes, a daily swing and a faster wobble around a mean of the patient's own,
 * about 1 % of slots missing (sensor gaps), LO when the value would fall below 2.2 mmol/L. Rows are
 * inserted a day of the whole region at a time, oldest first, in time order across patients, as
 * they arrive from meters: the table's physical layout is that of a live system, not one patient
 * after another (which would flatter every per-patient read).
 *
 * Patient n (1-based) of a seed has the id md5(seed || n) and the serial `REGION-<seed>-<n>`, so
 * a reading row needs no join to find its patient. Every 20th patient stopped sending two hours
 * ago (the no-data scan finds them). The first `historyPatients` of the first team have
 * `historyDays` of history, for the 90-day summary and AGP.
 */

export interface RegionPlan {
  /** Patients seeded (patients x fraction, at least one team's worth when there are that many). */
  patients: number;
  teamSize: number;
  teams: number;
  days: number;
  historyDays: number;
  historyPatients: number;
  /** Readings the seed inserts, slots less the sensor gaps and the stale patients' last 2 h. */
  readingsApprox: number;
}

export const SLOTS_PER_DAY = 288;
/** Slots of a stale patient's last two hours left empty. */
export const STALE_SLOTS = 24;
const GAP_EVERY = 97;

export function planRegion(options: {
  patients: number;
  fraction: number;
  teamSize: number;
  days: number;
  historyDays: number;
  historyPatients: number;
}): RegionPlan {
  const patients = Math.max(1, Math.round(options.patients * options.fraction));
  const teamSize = Math.min(options.teamSize, patients);
  const teams = Math.ceil(patients / teamSize);
  const historyDays = Math.max(options.days, options.historyDays);
  const historyPatients = Math.min(options.historyPatients, teamSize);
  const slots =
    patients * options.days * SLOTS_PER_DAY + historyPatients * (historyDays - options.days) * SLOTS_PER_DAY;
  const stale = Math.floor(patients / 20) * STALE_SLOTS;
  return {
    patients,
    teamSize,
    teams,
    days: options.days,
    historyDays,
    historyPatients,
    readingsApprox: Math.round((slots - stale) * (1 - 1 / GAP_EVERY)),
  };
}

/** The patient id of patient n of a seed, as the SQL computes it. */
export const patientIdSql = (seed: string, n: string) => `md5('${seed}-' || ${n})::uuid`;

/**
 * One reading slot's value in SQL: slot s steps back from the anchor in 5-minute steps. A mean
 * between 6 and 12 mmol/L and a daily swing of 1.5-4 mmol/L of the patient's own, a 2-hour wobble.
 */
const VALUE = `(6 + 6 * ((n * 0.6180339887) - floor(n * 0.6180339887))
  + (1.5 + 2.5 * ((n * 0.3772) - floor(n * 0.3772))) * sin(2 * pi() * s / ${SLOTS_PER_DAY} + n)
  + 0.9 * sin(2 * pi() * s / 24 + n * 1.3))`;

export function seedSql(seed: string) {
  const id = patientIdSql(seed, 'n');
  return {
    patients: `insert into patients (id, team_id, display_name, labels, created_at)
      select ${id}, ($2::uuid[])[(n - 1) / $3 + 1], 'Regionpatient ' || lpad(n::text, 5, '0'),
             case when n % 7 = 0 then array['säbo'] when n % 11 = 0 then array['hemsjukvård'] else '{}'::text[] end,
             $4::timestamptz
      from generate_series(1, $1::int) n`,
    devices: `insert into devices (serial, kind, patient_id, token_hash, token_issued_at, created_at, last_seen_at)
      select 'REGION-${seed}-' || n, 'cgm', ${id}, 'seeded by the read benchmark: cannot connect', $2, $2, $3
      from generate_series(1, $1::int) n`,
    /**
     * Slots [$2, $3) back from the anchor $4 for patients 1..$1: one day of the region. Ordered by
     * time, then patient, as meters deliver them.
     */
    readings: `insert into readings (measured_at, received_at, patient_id, device_serial, seq, mmol, flag, kind, source)
      select $4::timestamptz - s * interval '5 minutes', $4::timestamptz - s * interval '5 minutes' + interval '4 seconds',
             ${id}, 'REGION-${seed}-' || n, $5::int - s,
             case when v < 2.2 then null else round(least(v, 22.0)::numeric, 1)::float8 end,
             case when v < 2.2 then 'LO' end, 'cgm', 'device'
      from generate_series($3::int - 1, $2::int, -1) s
      cross join generate_series(1, $1::int) n
      cross join lateral (select ${VALUE} as v) value
      where (s + n * 13) % ${GAP_EVERY} <> 0 and not (n % 20 = 0 and s < ${STALE_SLOTS})
      order by s desc, n`,
    readingState: `insert into patient_reading_state (patient_id, last_reading_at)
      select patient_id, max(measured_at) from readings
      where patient_id = any($1::uuid[]) and measured_at > $2::timestamptz - interval '1 day' group by patient_id
      on conflict (patient_id) do update set last_reading_at = excluded.last_reading_at`,
  };
}

export interface SeedProgress {
  (line: string): void;
}

/**
 * Seeds the region into a migrated database whose teams exist (teamIds, in order). The anchor
 * (the newest slot) is the 5-minute boundary at or before `now`.
 */
export async function seedRegion(
  db: pg.Pool,
  plan: RegionPlan,
  options: { seed: string; teamIds: readonly string[]; now: Date; log: SeedProgress },
): Promise<{ readings: number; seconds: number; anchor: Date }> {
  const started = performance.now();
  const sql = seedSql(options.seed);
  const anchor = new Date(Math.floor(options.now.getTime() / 300_000) * 300_000);
  const historyStart = new Date(anchor.getTime() - plan.historyDays * 86_400_000);
  await db.query(sql.patients, [plan.patients, options.teamIds, plan.teamSize, historyStart]);
  await db.query(sql.devices, [plan.patients, historyStart, anchor]);
  // The readings' indexes are built once at the end, from their own definitions: maintaining
  // them row by row made seeding several times slower. (A fresh index is more compact than one
  // grown by years of inserts; the read numbers are a little kinder for it.)
  const indexes = await db.query<{ name: string; definition: string }>(
    `select indexname as name, indexdef as definition from pg_indexes
     where schemaname = current_schema() and tablename = 'readings'`,
  );
  for (const index of indexes.rows) await db.query(`drop index ${index.name}`);
  // So is the late-reading trigger (migration 018): every seeded reading is "late", and no count
  // bucket exists yet for it to outdate. Only ours: TimescaleDB keeps triggers of its own there.
  const trigger = await db.query<{ definition: string }>(
    `select pg_get_triggerdef(t.oid) as definition from pg_trigger t
     where t.tgrelid = 'readings'::regclass and t.tgname = 'readings_late_reading'`,
  );
  if (trigger.rows.length > 0) await db.query('drop trigger readings_late_reading on readings');
  const lastSeq = plan.historyDays * SLOTS_PER_DAY;
  let readings = 0;
  // The history patients' older days first (oldest first), then the whole region a day at a time.
  for (let day = plan.historyDays - 1; day >= plan.days; day--) {
    const r = await db.query(sql.readings, [
      plan.historyPatients,
      day * SLOTS_PER_DAY,
      (day + 1) * SLOTS_PER_DAY,
      anchor,
      lastSeq,
    ]);
    readings += r.rowCount ?? 0;
  }
  for (let day = plan.days - 1; day >= 0; day--) {
    const t = performance.now();
    const r = await db.query(sql.readings, [
      plan.patients,
      day * SLOTS_PER_DAY,
      (day + 1) * SLOTS_PER_DAY,
      anchor,
      lastSeq,
    ]);
    readings += r.rowCount ?? 0;
    options.log(
      `  day ${plan.days - day} of ${plan.days}: ${(r.rowCount ?? 0).toLocaleString('en')} readings in ${(
        (performance.now() - t) /
        1000
      ).toFixed(1)} s (${readings.toLocaleString('en')} so far)`,
    );
  }
  const built = performance.now();
  for (const index of indexes.rows) await db.query(index.definition);
  for (const { definition } of trigger.rows) await db.query(definition);
  options.log(
    `  ${indexes.rows.length} indexes of the readings built in ${((performance.now() - built) / 1000).toFixed(1)} s`,
  );
  const ids = await db.query<{ id: string }>(
    `select ${patientIdSql(options.seed, 'n')} as id from generate_series(1, $1::int) n`,
    [plan.patients],
  );
  await db.query(sql.readingState, [ids.rows.map((r) => r.id), anchor]);
  return { readings, seconds: (performance.now() - started) / 1000, anchor };
}
