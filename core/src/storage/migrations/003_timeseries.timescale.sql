-- TimescaleDB: the readings hypertable, compression, and per-patient rollups as continuous
-- aggregates. The plain variant builds the same names as tables kept by the maintenance job.
-- Range bounds are the International Consensus on Time in Range (2019), as in
-- core/src/domain/ranges.ts; a test checks that both agree.

select create_hypertable('readings', by_range('measured_at', interval '7 days'));

alter table readings set (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'patient_id',
  timescaledb.compress_orderby = 'measured_at desc'
);

create materialized view reading_hourly with (timescaledb.continuous, timescaledb.materialized_only = false) as
select
  patient_id,
  time_bucket(interval '1 hour', measured_at) as bucket,
  count(*) as n,
  count(mmol) as n_valued,
  sum(mmol) as sum_mmol,
  sum(mmol * mmol) as sum_sq_mmol,
  min(mmol) as min_mmol,
  max(mmol) as max_mmol,
  count(*) filter (where mmol < 3.0 or (mmol is null and flag = 'LO')) as n_very_low,
  count(*) filter (where mmol >= 3.0 and mmol < 3.9) as n_low,
  count(*) filter (where mmol >= 3.9 and mmol <= 10.0) as n_in_range,
  count(*) filter (where mmol > 10.0 and mmol <= 13.9) as n_high,
  count(*) filter (where mmol > 13.9 or (mmol is null and flag = 'HI')) as n_very_high
from readings
where kind <> 'control'
group by patient_id, bucket
with no data;

create materialized view reading_daily with (timescaledb.continuous, timescaledb.materialized_only = false) as
select
  patient_id,
  time_bucket(interval '1 day', bucket) as bucket,
  sum(n)::bigint as n,
  sum(n_valued)::bigint as n_valued,
  sum(sum_mmol) as sum_mmol,
  sum(sum_sq_mmol) as sum_sq_mmol,
  min(min_mmol) as min_mmol,
  max(max_mmol) as max_mmol,
  sum(n_very_low)::bigint as n_very_low,
  sum(n_low)::bigint as n_low,
  sum(n_in_range)::bigint as n_in_range,
  sum(n_high)::bigint as n_high,
  sum(n_very_high)::bigint as n_very_high
from reading_hourly
group by patient_id, time_bucket(interval '1 day', bucket)
with no data;
