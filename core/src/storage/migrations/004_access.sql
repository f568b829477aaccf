-- Sessions of signed-in people, and what pluggable sign-in (OpenID Connect) needs.

create table sessions (
  -- sha256 of the cookie's token: a stolen database dump holds no usable session.
  id text primary key,
  user_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  -- Absolute expiry; idle expiry is last_seen_at + the configured idle time.
  expires_at timestamptz not null,
  origin text,
  user_agent text
);
create index sessions_user on sessions (user_id);
create index sessions_expires on sessions (expires_at);

-- Where an account signs in: 'local' (password) or an OpenID Connect issuer (e.g. a region's
-- SITHS eID provider), with the subject it knows the person by.
alter table users add column auth_provider text not null default 'local';
alter table users add column external_subject text;
create unique index users_external_identity on users (auth_provider, external_subject) where external_subject is not null;
