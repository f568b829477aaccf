-- The systematic log review (HSLF-FS 2016:40 4:9): who reviewed which period of a team's audit
-- trail, when, what it showed and what they concluded. A record of a review is evidence like the
-- trail itself: append-only too (a later review of the same period is a new row).
create table audit_reviews (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references teams (id),
  period_from timestamptz not null,
  period_to timestamptz not null,
  reviewed_by uuid not null references users (id),
  reviewed_at timestamptz not null default now(),
  conclusion text check (char_length(conclusion) <= 2000),
  -- What the review showed when recorded: events of the period and findings flagged.
  events int not null check (events >= 0),
  findings int not null check (findings >= 0),
  -- The flagging rules in force (working day, volume minimum and factor), so a later change of
  -- the rules does not change what an old review meant.
  rules jsonb not null default '{}',
  check (period_from < period_to)
);
create index audit_reviews_team on audit_reviews (team_id, period_to desc);

create function audit_reviews_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_reviews is append-only' using errcode = 'insufficient_privilege';
end $$;
create trigger audit_reviews_append_only before update or delete on audit_reviews
  for each row execute function audit_reviews_append_only();
