-- Counts of a patient's readings per clock hour and per UTC day (core/src/storage/reading-buckets.ts),
-- so that the board's 14 + 14 days and the team report add up a few dozen rows per patient instead
-- of scanning every reading (8 million for a 1,000-patient team's 28 days; docs/benchmarks.md).
-- They are a cache made on read: a bucket is counted from the readings the first time a period
-- needs it and stored once it lies 15 minutes in the past; the continuous aggregates of 003
-- cannot serve (they count the consensus ranges, not the board's bands, sources or CGM slots).
--
-- A bucket holds what `bandOf` and the statistics need: readings per band (b0..b6, BAND_EDGES,
-- whose values are stored with the counts, so that counts made with other edges are never reused),
-- per source, the CGM readings and the clock's 5-minute slots holding one, and the last time.
-- Control-solution readings are left out, as everywhere in the statistics.
create table reading_buckets (
  patient_id uuid not null,
  start_at timestamptz not null,
  hours smallint not null check (hours in (1, 24)),
  edges double precision[] not null,
  b0 integer not null,
  b1 integer not null,
  b2 integer not null,
  b3 integer not null,
  b4 integer not null,
  b5 integer not null,
  b6 integer not null,
  device integer not null,
  manual integer not null,
  import integer not null,
  cgm_readings integer not null,
  cgm_slots integer not null,
  last_at timestamptz,
  -- reading_day_changes.version of the bucket's day when it was counted.
  counted_version bigint not null,
  counted_at timestamptz not null default now(),
  primary key (patient_id, start_at, hours)
);
-- Hour buckets serve the edges of periods that move with the clock; the retention job drops
-- them a few days after they were counted.
create index reading_buckets_hours_counted on reading_buckets (counted_at) where hours = 1;

-- A bucket is valid while its day's version is the one it was counted at. A reading stored more
-- than 10 minutes after it was measured (a meter's backlog, a manual entry, an import) moves its
-- day's version on, so every bucket of that day is counted again when next needed. Readings
-- stored sooner need not: a bucket is only stored 15 minutes after it ended, by then every
-- transaction that inserted a reading of its time without moving the version on (one that began
-- less than 10 minutes after the reading was measured) has long ended (ingest transactions last
-- milliseconds). Readings are never updated, and deleted only by the retention job, which drops
-- the buckets of the days it deletes.
create table reading_day_changes (
  patient_id uuid not null,
  day timestamptz not null,
  version bigint not null,
  -- The transaction that last moved the version on: once per transaction is enough (a reader's
  -- snapshot sees all of it or none), and skipping the rest of its rows keeps a meter's backlog
  -- from writing a row version per reading. Measured on PostgreSQL 15, 72,000 readings of 12 h
  -- ago in one insert: 0.36 s without the trigger, 0.9 s with it, 3.7 s without this guard.
  moved_by xid8 not null,
  primary key (patient_id, day)
);

create function reading_day_changed() returns trigger language plpgsql as $$
begin
  insert into reading_day_changes (patient_id, day, version, moved_by)
  values (new.patient_id, date_bin('1 day', new.measured_at, timestamptz '1970-01-01 00:00:00+00'), 1, pg_current_xact_id())
  on conflict (patient_id, day) do update set version = reading_day_changes.version + 1, moved_by = excluded.moved_by
  where reading_day_changes.moved_by <> excluded.moved_by;
  return new;
end $$;

-- BEFORE, not AFTER: TimescaleDB runs BEFORE ROW triggers for inserts into compressed chunks too
-- (a late reading of an older week), where an AFTER ROW INSERT trigger is refused. Device
-- readings are left to the device write itself (core/src/storage/readings.ts), which moves each
-- patient-day on once per flush rather than once per reading (a storm is all backlog).
create trigger readings_late_reading before insert on readings
  for each row when (new.measured_at < now() - interval '10 minutes' and new.kind <> 'control'
                     and new.source <> 'device')
  execute function reading_day_changed();
