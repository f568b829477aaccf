-- FHIR R4 (docs/fhir.md): systems of a care team (a region's records system, a data warehouse, a
-- CGM app) read and submit through API clients that a team admin makes.

create table api_clients (
  -- The OAuth 2 client_id.
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references teams (id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  -- argon2id of the client secret; the secret itself is shown once and never stored.
  secret_hash text not null,
  -- 'read': Patient and Observation reads; 'read-write': also $submit-cgm-bundle.
  access text not null check (access in ('read', 'read-write')),
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  revoked_by uuid references users (id) on delete set null,
  last_used_at timestamptz
);
create index api_clients_team on api_clients (team_id);

-- Bearer tokens from the client credentials grant: sha256 of the token, like sessions, short-lived.
create table api_client_tokens (
  id text primary key,
  client_id uuid not null references api_clients (id) on delete cascade,
  scope text not null,
  issued_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index api_client_tokens_client on api_client_tokens (client_id);
create index api_client_tokens_expires on api_client_tokens (expires_at);

-- Exactly once for $submit-cgm-bundle: a submitted reading's identifier (system, value) names it
-- for its patient; the same identifier again is a duplicate (same content) or a conflict. The key
-- also remembers which stored reading it made (measured_at, received_at), so the reading is
-- exported with the client's identifier and a resend answers with its location.
create table fhir_import_keys (
  patient_id uuid not null references patients (id) on delete cascade,
  identifier_system text not null,
  identifier_value text not null,
  measured_at timestamptz not null,
  received_at timestamptz not null,
  fingerprint text not null,
  primary key (patient_id, identifier_system, identifier_value)
);
create index fhir_import_keys_reading on fhir_import_keys (patient_id, measured_at);

-- The audit trail names an API client as the actor of its accesses.
alter table audit_events drop constraint audit_events_actor_kind_check;
alter table audit_events add constraint audit_events_actor_kind_check
  check (actor_kind in ('user', 'device', 'system', 'api_client'));
alter table audit_events add column actor_api_client uuid;
