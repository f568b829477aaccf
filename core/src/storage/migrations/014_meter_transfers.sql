-- Meter reads from the /meter page (docs/meters.md): who read which Bluetooth meter for which
-- patient, when, and what came of it. The readings themselves are stored by the device ingest
-- path like any meter's; this is the record of the read, one row per batch a nurse sent. Only
-- ids, seq numbers and counts: no values.
create table meter_transfers (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  device_serial text not null,
  patient_id uuid not null references patients (id) on delete cascade,
  team_id uuid not null,
  read_by uuid references users (id) on delete set null,
  -- The meter's own sequence numbers the batch held (null for an empty batch).
  seq_from bigint,
  seq_to bigint,
  readings integer not null check (readings >= 0),
  accepted integer not null check (accepted >= 0),
  duplicates integer not null check (duplicates >= 0),
  rejected integer not null check (rejected >= 0)
);
create index meter_transfers_patient on meter_transfers (patient_id, at desc);
