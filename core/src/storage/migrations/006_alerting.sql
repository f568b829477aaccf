-- Alert evaluation bookkeeping (issue: alerting).

-- Which batch of readings the rules have evaluated for which patient. Written in the transaction
-- that applies the batch's alert transitions, so a retried job (a worker killed after its commit,
-- or a job published twice) finds its row and counts nothing twice. `changes` lists the alerts the
-- evaluation opened or changed, so a retry can still publish them to the boards.
create table alert_evaluations (
  batch_key text not null,
  patient_id uuid not null references patients (id) on delete cascade,
  evaluated_at timestamptz not null default now(),
  changes jsonb not null default '[]',
  primary key (batch_key, patient_id)
);
create index alert_evaluations_at on alert_evaluations (evaluated_at);

-- The newest glucose reading per patient (clinical time), kept by the evaluation worker, so the
-- no-data scan reads one small row per patient instead of the readings hypertable.
create table patient_reading_state (
  patient_id uuid primary key references patients (id) on delete cascade,
  last_reading_at timestamptz not null
);
insert into patient_reading_state (patient_id, last_reading_at)
select r.patient_id, max(r.measured_at)
from readings r join patients p on p.id = r.patient_id
where r.kind <> 'control'
group by r.patient_id;

-- When the alert last sounded (paged the team): null for an episode only recorded (backfill, snooze).
alter table alerts add column notified_at timestamptz;

create index snoozes_live on snoozes (patient_id, rule) where cancelled_at is null;

-- An outbox row now lives until its job is done: the relay marks it published, the alert worker
-- deletes it when the evaluation is committed. A row published long ago and still here lost its
-- job (Redis restarted without persistence, or flushed): the relay publishes it again.
alter table evaluation_outbox add column published_at timestamptz;

-- Manual entries sent with an Idempotency-Key (a form sent twice stores one reading): the request
-- and the first answer, replayed to a resend. Kept a week by the retention job.
create table manual_entry_keys (
  user_id uuid not null references users (id) on delete cascade,
  idempotency_key text not null,
  request text not null,
  answer jsonb,
  created_at timestamptz not null default now(),
  primary key (user_id, idempotency_key)
);
create index manual_entry_keys_created on manual_entry_keys (created_at);

-- This database's identity. Outbox ids restart at 1 in a new database, and evaluation jobs are
-- named after them: a Redis (and key prefix) shared with an earlier database would take a new
-- batch for one it has already finished. Job ids carry this id too.
insert into storage_state (key, value) values ('installation_id', to_jsonb(gen_random_uuid()::text));
