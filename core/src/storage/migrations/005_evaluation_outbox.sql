-- The transactional outbox of rule evaluations. A row is written in the same transaction as the
-- readings it describes, so readings committed while Redis is down are still evaluated later: a
-- relay publishes the rows as jobs and deletes them. The payload holds only newly stored readings.

create table evaluation_outbox (
  id bigserial primary key,
  created_at timestamptz not null default now(),
  payload jsonb not null
);
