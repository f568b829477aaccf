-- A patient's readings lie on as many heap pages as there are readings: meters deliver them in
-- time order across all patients, so one patient's 90 days (25,000 CGM rows) touch about 22,000
-- pages. The summary, the AGP, the board's sparkline and last reading read only these columns,
-- so an index that carries them answers from the index alone (an index-only scan of a few
-- hundred pages; docs/benchmarks.md, "The read path"). It replaces the plain patient index: one
-- index to keep up at ingest either way, a few bytes wider.
--
-- On a large database this rebuild takes a while and blocks writes to readings until it ends
-- (about 13 s per 9 million readings on the benchmark machine); plan it for a quiet hour.
create index readings_patient_time_covering on readings (patient_id, measured_at desc)
  include (mmol, flag, kind);
drop index readings_patient_time;
