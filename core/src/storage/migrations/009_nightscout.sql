-- Nightscout uploaders (docs/nightscout.md). A device's token is also its Nightscout API secret;
-- uploaders send its SHA-1 (or SHA-512) hex, which cannot be checked against the argon2 token
-- hash, so the device row also keeps keyed lookup digests of those values (set at pairing and
-- rotation; devices paired before this migration have none until their token is rotated).
alter table devices add column nightscout_sha1_digest text, add column nightscout_sha512_digest text;
create unique index devices_nightscout_sha1 on devices (nightscout_sha1_digest) where nightscout_sha1_digest is not null;
create unique index devices_nightscout_sha512 on devices (nightscout_sha512_digest) where nightscout_sha512_digest is not null;

-- The key of those digests and of Nightscout JWTs: made once per installation, shared by every
-- server on this database, kept across restarts. Four random UUIDs (4 x 122 bits) through SHA-256.
insert into storage_state (key, value)
values ('nightscout_key', to_jsonb(encode(sha256(convert_to(
  gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex')));

-- Nightscout documents as the uploader sent them (normalized as Nightscout does): entries
-- (sgv and mbg also become readings through ingest), treatments, device status, and the profile,
-- food and settings documents that AndroidAPS and Loop keep there.
-- `scope` is what Nightscout deduplicates within: the device for entries (one per time and type),
-- the patient for treatments and device status (a Nightscout server is one patient).
create table nightscout_documents (
  collection text not null check (collection in ('entries', 'treatments', 'devicestatus', 'profile', 'food', 'settings')),
  patient_id uuid not null references patients (id) on delete cascade,
  device_serial text not null references devices (serial) on delete cascade,
  scope text not null,
  -- Nightscout's fallback deduplication fields: type|date, eventType|created_at, device|created_at.
  dedupe_key text not null,
  -- API v3 identifier (UUIDv5 as Nightscout computes it, or the client's own).
  identifier text not null,
  -- API v1 `_id`: 24 hex characters like a MongoDB ObjectId.
  object_id text not null,
  date_ms bigint not null,
  -- ms since 1970 of the server's clock at the first and the latest write (API v3 history).
  srv_created bigint not null,
  srv_modified bigint not null,
  doc jsonb not null,
  primary key (collection, scope, dedupe_key)
);
-- An entry is one per (type, time) of its device, as in Nightscout v1: its v3 identifier (device
-- name and date) may repeat across types (an mbg and a calibration of one moment).
create unique index nightscout_documents_identifier on nightscout_documents (collection, scope, identifier)
  where collection <> 'entries';
create index nightscout_documents_object_id on nightscout_documents (patient_id, object_id);
create index nightscout_documents_date on nightscout_documents (patient_id, collection, date_ms desc);
create index nightscout_documents_modified on nightscout_documents (patient_id, collection, srv_modified);
