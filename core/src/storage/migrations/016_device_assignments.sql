-- Traceability of lent meters (docs/follow-up.md, "Meters"): which serial was with which patient
-- from when to when and who did it, and every replacement with its reason, for the aids centre's
-- and the supplier's follow-up (seed 001). Both tables only grow: an assignment is closed, never
-- removed.

create table device_assignments (
  id bigint generated always as identity primary key,
  serial text not null references devices (serial),
  patient_id uuid not null references patients (id),
  -- The patient's responsible team when the meter was handed over.
  team_id uuid not null references teams (id),
  started_at timestamptz not null default now(),
  started_by uuid references users (id) on delete set null,
  -- paired: a first pairing; loan: lent on from another patient; replacement: took over from a
  -- replaced meter; existing: a pairing made before this history was kept (backfill below).
  start_reason text not null check (start_reason in ('paired', 'loan', 'replacement', 'existing')),
  ended_at timestamptz,
  ended_by uuid references users (id) on delete set null,
  -- loan: lent on to another patient; retired: replaced (see device_replacements).
  end_reason text check (end_reason in ('loan', 'retired')),
  check ((ended_at is null) = (end_reason is null)),
  check (ended_at is null or ended_at >= started_at)
);
-- A meter is with one patient at a time.
create unique index device_assignments_open on device_assignments (serial) where ended_at is null;
create index device_assignments_serial on device_assignments (serial, started_at);
create index device_assignments_patient on device_assignments (patient_id, started_at);
create index device_assignments_team on device_assignments (team_id, started_at);

-- Current pairings become open assignments from their pairing time; who paired them is not known.
insert into device_assignments (serial, patient_id, team_id, started_at, start_reason)
select d.serial, d.patient_id, p.team_id, d.created_at, 'existing'
from devices d join patients p on p.id = d.patient_id;

-- A retired meter (replaced) never sends again: no rotation, loan or pairing brings it back.
alter table devices add column retired_at timestamptz;

create table device_replacements (
  id bigint generated always as identity primary key,
  old_serial text not null unique references devices (serial),
  new_serial text not null unique references devices (serial),
  -- The replaced meter's kind (bgm or cgm); the new one is of the same kind.
  kind text not null check (kind in ('bgm', 'cgm')),
  reason text not null check (reason in ('defect', 'lost', 'complaint', 'battery', 'other')),
  -- In words; required for a complaint (reklamation), which goes to the supplier.
  cause text check (cause is null or length(cause) between 1 and 1000),
  check (reason <> 'complaint' or cause is not null),
  patient_id uuid not null references patients (id),
  team_id uuid not null references teams (id),
  replaced_by uuid references users (id) on delete set null,
  replaced_at timestamptz not null default now()
);
create index device_replacements_team on device_replacements (team_id, replaced_at);
