-- Nightscout followers (docs/nightscout.md): a read-only credential for one patient, for the
-- follower apps of a parent or the patient (Nightscout's 'readable' role, `*:*:read`). A team
-- admin makes it; the token is shown once. Like a device's Nightscout secret it is kept only as
-- keyed lookup digests (HMAC-SHA256 under the installation's nightscout_key of its SHA-1 and
-- SHA-512 hex): followers send `?token=`, the `api-secret` header or a JWT made from the token,
-- and nothing else ever checks it, so no slow hash is kept beside them.
create table nightscout_followers (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references patients (id) on delete cascade,
  -- Who follows, as the admin names it ("Parent's phone"); what the JWT's `sub` says.
  name text not null check (length(name) between 1 and 100),
  sha1_digest text not null unique,
  sha512_digest text not null unique,
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  revoked_by uuid references users (id) on delete set null,
  last_used_at timestamptz
);
create index nightscout_followers_patient on nightscout_followers (patient_id);
