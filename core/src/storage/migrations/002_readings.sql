-- Readings (SPEC section 3). On TimescaleDB this table becomes a hypertable in migration 003.

create table readings (
  measured_at timestamptz not null,       -- the device's clock
  received_at timestamptz not null default now(),
  patient_id uuid not null,
  device_serial text,                      -- null for manual entries
  seq bigint,                              -- the device's sequence number
  -- double precision, like a JS number: a threshold compares the same here and in the rules.
  mmol double precision check (mmol is null or mmol between 0 and 50),
  flag text check (flag in ('LO', 'HI')),
  kind text not null check (kind in ('bgm', 'cgm', 'control')),
  meal text check (meal in ('before', 'after')),
  source text not null check (source in ('device', 'manual', 'import')),
  entered_by uuid,                         -- the user who typed a manual entry
  note text,
  check (mmol is not null or flag is not null),
  check ((device_serial is null) = (seq is null))
);
create index readings_patient_time on readings (patient_id, measured_at desc);

-- Idempotency key (deviceId, seq). A unique index on a hypertable must contain its time column,
-- which would let "same seq, other time" through; this narrow table holds the key alone, plus a
-- fingerprint of the content so that a resend (duplicate) and a different reading under the same
-- seq (SEQ_CONFLICT) are told apart by one index probe.
create table reading_keys (
  device_serial text not null,
  seq bigint not null,
  measured_at timestamptz not null,
  fingerprint text not null,
  primary key (device_serial, seq)
);
create index reading_keys_measured_at on reading_keys (measured_at);
