-- Plain PostgreSQL: the same rollup names as the TimescaleDB variant, as tables that the
-- maintenance job fills with date_bin (see core/src/storage/maintenance.ts).

create table reading_hourly (
  patient_id uuid not null,
  bucket timestamptz not null,
  n bigint not null,
  n_valued bigint not null,
  sum_mmol double precision,
  sum_sq_mmol double precision,
  min_mmol double precision,
  max_mmol double precision,
  n_very_low bigint not null,
  n_low bigint not null,
  n_in_range bigint not null,
  n_high bigint not null,
  n_very_high bigint not null,
  primary key (patient_id, bucket)
);

create table reading_daily (like reading_hourly including all);

create index readings_received_at on readings (received_at);
