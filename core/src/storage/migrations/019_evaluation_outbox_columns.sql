-- An outbox row's readings as one typed array per field instead of a JSON document of objects.
-- Built in the group commit's statement, the JSON cost PostgreSQL about 9 µs of CPU per reading
-- (an object per reading, its keys and its timestamps written as text), a third of the whole
-- write; the arrays cost about 1 µs (docs/benchmarks.md, 2026-12-04). Element i of every array is
-- the same reading. The job the relay publishes keeps its JSON shape (core/src/wire/queues.ts).
alter table evaluation_outbox
  add column received_at timestamptz,
  add column patient_ids uuid[],
  add column device_ids text[],
  add column seqs bigint[],
  add column sources text[],
  add column measured_at timestamptz[],
  add column mmol double precision[],
  add column flags text[],
  add column kinds text[],
  add column meals text[];

-- Rows still waiting from before the upgrade keep their readings, in their order.
update evaluation_outbox o
set received_at = (o.payload->>'receivedAt')::timestamptz,
    patient_ids = r.patient_ids,
    device_ids = r.device_ids,
    seqs = r.seqs,
    sources = r.sources,
    measured_at = r.measured_at,
    mmol = r.mmol,
    flags = r.flags,
    kinds = r.kinds,
    meals = r.meals
from (
  select b.id,
         array_agg(x."patientId" order by e.ord) as patient_ids,
         array_agg(x."deviceId" order by e.ord) as device_ids,
         array_agg(x.seq order by e.ord) as seqs,
         array_agg(x.source order by e.ord) as sources,
         array_agg(x."measuredAt" order by e.ord) as measured_at,
         array_agg(x.mmol order by e.ord) as mmol,
         array_agg(x.flag order by e.ord) as flags,
         array_agg(x.kind order by e.ord) as kinds,
         array_agg(x.meal order by e.ord) as meals
  from evaluation_outbox b,
       jsonb_array_elements(b.payload->'readings') with ordinality as e(reading, ord),
       jsonb_to_record(e.reading) as x("patientId" uuid, "deviceId" text, seq bigint, source text,
                                       "measuredAt" timestamptz, mmol double precision, flag text,
                                       kind text, meal text)
  group by b.id
) r
where r.id = o.id;

-- A row whose document held no readings (never written, but not to be lost in the conversion).
update evaluation_outbox
set received_at = coalesce(received_at, (payload->>'receivedAt')::timestamptz, created_at),
    patient_ids = coalesce(patient_ids, '{}'), device_ids = coalesce(device_ids, '{}'),
    seqs = coalesce(seqs, '{}'), sources = coalesce(sources, '{}'),
    measured_at = coalesce(measured_at, '{}'), mmol = coalesce(mmol, '{}'),
    flags = coalesce(flags, '{}'), kinds = coalesce(kinds, '{}'), meals = coalesce(meals, '{}')
where patient_ids is null;

alter table evaluation_outbox
  drop column payload,
  alter column received_at set not null,
  alter column patient_ids set not null,
  alter column device_ids set not null,
  alter column seqs set not null,
  alter column sources set not null,
  alter column measured_at set not null,
  alter column mmol set not null,
  alter column flags set not null,
  alter column kinds set not null,
  alter column meals set not null;
