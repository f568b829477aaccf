-- When an unacknowledged critical alert is due to escalate (issue 18: Redis loss). The delayed
-- BullMQ job stays the fast path, but Redis may restart without its data; the workers' sweep
-- escalates every alert whose due time has passed, so the database is the record.
alter table alerts add column escalation_due_at timestamptz;

-- Kept by the database itself, so every writer (evaluation, acknowledge, resolve, escalation)
-- agrees: set when a critical alert pages while open (notified_at + the team's
-- escalate_after_minutes, fixed then like the delayed job's delay), cleared as soon as the
-- alert is no longer open or is escalated. A reopen that does not page sets no new due time.
create function alerts_escalation_due() returns trigger language plpgsql as $$
begin
  if new.severity <> 'critical' or new.state <> 'open' or new.escalated or new.notified_at is null then
    new.escalation_due_at := null;
  elsif new.escalation_due_at is null
        and (tg_op = 'INSERT' or new.notified_at is distinct from old.notified_at) then
    new.escalation_due_at := new.notified_at
      + make_interval(mins => (select t.escalate_after_minutes from teams t where t.id = new.team_id));
  end if;
  return new;
end $$;
create trigger alerts_escalation_due before insert or update on alerts
  for each row execute function alerts_escalation_due();

-- Alerts that paged before this migration and still wait.
update alerts a set escalation_due_at = a.notified_at + make_interval(mins => t.escalate_after_minutes)
from teams t
where t.id = a.team_id and a.severity = 'critical' and a.state = 'open' and not a.escalated
  and a.notified_at is not null;

create index alerts_escalation_due on alerts (escalation_due_at) where escalation_due_at is not null;
