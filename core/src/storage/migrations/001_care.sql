-- Care teams, people, patients, devices, thresholds, alerts and the audit trail (SPEC section 3).

create table teams (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  -- Where an unacknowledged critical alert goes, and after how long (SPEC: escalation).
  escalation_team_id uuid references teams (id) on delete set null,
  escalate_after_minutes int not null default 15 check (escalate_after_minutes between 1 and 1440),
  created_at timestamptz not null default now()
);
create unique index teams_name_key on teams (lower(name));

create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  name text not null,
  -- argon2id; null for accounts that only sign in through OpenID Connect.
  password_hash text,
  sysadmin boolean not null default false,
  failed_logins int not null default 0,
  locked_until timestamptz,
  disabled_at timestamptz,
  created_at timestamptz not null default now()
);
create unique index users_email_key on users (lower(email));

create table memberships (
  user_id uuid not null references users (id) on delete cascade,
  team_id uuid not null references teams (id) on delete cascade,
  role text not null check (role in ('nurse', 'physician', 'admin')),
  created_at timestamptz not null default now(),
  primary key (team_id, user_id)
);
create index memberships_user on memberships (user_id);

create table patients (
  id uuid primary key default gen_random_uuid(),
  -- The one responsible team; alerts go here.
  team_id uuid not null references teams (id),
  display_name text not null,
  -- Swedish personnummer or samordningsnummer, validated by the application.
  identity_number text,
  labels text[] not null default '{}',
  responsible_physician_id uuid references users (id) on delete set null,
  -- Consensus targets differ for older or high-risk patients (TIR > 50 % instead of > 70 %).
  target_profile text not null default 'standard' check (target_profile in ('standard', 'older_high_risk')),
  last_reviewed_at timestamptz,
  last_reviewed_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now()
);
create index patients_team on patients (team_id);
create index patients_labels on patients using gin (labels);

-- Read access for teams other than the responsible one, granted per patient.
create table patient_access_grants (
  patient_id uuid not null references patients (id) on delete cascade,
  team_id uuid not null references teams (id) on delete cascade,
  granted_by uuid references users (id) on delete set null,
  granted_at timestamptz not null default now(),
  primary key (patient_id, team_id)
);
create index patient_access_grants_team on patient_access_grants (team_id);

create table devices (
  -- The meter's serial number is its deviceId on the wire.
  serial text primary key check (length(serial) between 1 and 64),
  kind text not null check (kind in ('bgm', 'cgm')),
  patient_id uuid not null references patients (id),
  -- argon2id of the device token; the token itself is shown once and never stored.
  token_hash text not null,
  token_issued_at timestamptz not null default now(),
  revoked_at timestamptz,
  last_seen_at timestamptz,
  battery_percent smallint check (battery_percent between 0 and 100),
  firmware text,
  created_at timestamptz not null default now()
);
create index devices_patient on devices (patient_id);

-- Team defaults (mmol/L). Every team has a row; the defaults are SPEC's.
create table team_thresholds (
  team_id uuid primary key references teams (id) on delete cascade,
  urgent_low double precision not null default 3.0,
  low double precision not null default 4.0,
  high double precision not null default 13.9,
  urgent_high double precision not null default 20.0,
  no_data_minutes_bgm int not null default 2880,
  no_data_minutes_cgm int not null default 30,
  rapid_change_mmol_per_min double precision not null default 0.17,
  check (urgent_low < low and low < high and high < urgent_high)
);

-- Per-patient overrides; null means "the team's default".
create table patient_thresholds (
  patient_id uuid primary key references patients (id) on delete cascade,
  urgent_low double precision,
  low double precision,
  high double precision,
  urgent_high double precision,
  no_data_minutes int check (no_data_minutes > 0),
  updated_by uuid references users (id) on delete set null,
  updated_at timestamptz not null default now()
);

create table alerts (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references patients (id),
  team_id uuid not null references teams (id),
  rule text not null check (rule in ('urgent_low', 'low', 'high', 'urgent_high', 'no_data', 'rapid_change')),
  severity text not null check (severity in ('critical', 'warning', 'info')),
  state text not null check (state in ('open', 'acknowledged', 'resolved')),
  escalated boolean not null default false,
  escalated_at timestamptz,
  -- An episode that lies wholly in the past when it arrives (backfill) is recorded, not sounded.
  retrospective boolean not null default false,
  opened_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  first_reading_at timestamptz,
  first_mmol double precision,
  last_reading_at timestamptz,
  last_mmol double precision,
  worst_reading_at timestamptz,
  worst_mmol double precision,
  reading_count int not null default 0,
  acknowledged_at timestamptz,
  acknowledged_by uuid references users (id),
  resolved_at timestamptz,
  resolved_by uuid references users (id),
  resolve_note text
);
-- One live episode per (patient, rule): retries and parallel workers cannot open a second.
create unique index alerts_one_live_episode on alerts (patient_id, rule) where state <> 'resolved';
create index alerts_team_state on alerts (team_id, state, opened_at);
create index alerts_patient on alerts (patient_id, opened_at desc);

create table alert_acknowledgements (
  id uuid primary key default gen_random_uuid(),
  alert_id uuid not null references alerts (id) on delete cascade,
  user_id uuid not null references users (id),
  action text not null check (action in ('phone', 'video', 'visit', 'none')),
  note text,
  at timestamptz not null default now()
);
create index alert_acknowledgements_alert on alert_acknowledgements (alert_id);

create table snoozes (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references patients (id) on delete cascade,
  rule text not null,
  until timestamptz not null,
  note text,
  created_by uuid not null references users (id),
  created_at timestamptz not null default now(),
  cancelled_at timestamptz,
  cancelled_by uuid references users (id)
);
create index snoozes_patient_rule on snoozes (patient_id, rule, until);

-- Patientdatalagen 4:3 / HSLF-FS 2016:40: every access with action, care unit, time, user and
-- patient. Append-only: see the trigger below.
create table audit_events (
  id bigserial primary key,
  at timestamptz not null default now(),
  actor_kind text not null check (actor_kind in ('user', 'device', 'system')),
  actor_user_id uuid,
  actor_device text,
  action text not null,
  outcome text not null default 'success' check (outcome in ('success', 'failure', 'denied')),
  patient_id uuid,
  team_id uuid,
  origin text,
  detail jsonb not null default '{}'
);
create index audit_events_patient on audit_events (patient_id, at) where patient_id is not null;
create index audit_events_user on audit_events (actor_user_id, at) where actor_user_id is not null;
create index audit_events_at on audit_events (at);

create function audit_events_append_only() returns trigger language plpgsql as $$
begin
  -- Only the retention job, which sets this for its own transaction, may delete (logs are kept
  -- at least five years); nothing may rewrite history.
  if tg_op = 'DELETE' and current_setting('glucoboard.audit_retention', true) = 'on' then
    return old;
  end if;
  raise exception 'audit_events is append-only' using errcode = 'insufficient_privilege';
end $$;
create trigger audit_events_append_only before update or delete on audit_events
  for each row execute function audit_events_append_only();

-- Small facts about this installation (demo seeded, rollup watermark, ...).
create table storage_state (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);
