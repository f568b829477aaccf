import type pg from 'pg';
import { readingFingerprint, type DeviceReading } from '../domain/reading.ts';
import { numberArrayLiteral, textArrayLiteral, timestampArrayLiteral } from './array-literals.ts';

/** A validated device reading on its way to storage, with whom it belongs to. */
export interface DeviceReadingToStore extends DeviceReading {
  deviceSerial: string;
  patientId: string;
}

/** What storage did with each reading of a write, in input order. */
export type StoreOutcome = 'stored' | 'duplicate' | 'seq_conflict';

/** The batch as rows, and the keys it newly claims: shared by both device writes below. */
const DEVICE_INPUT_AND_KEYS = `
with input as (
  select *
  from unnest($1::text[], $2::bigint[], $3::uuid[], $4::timestamptz[], $5::float8[], $6::text[], $7::text[], $8::text[], $9::text[])
    with ordinality as t(device_serial, seq, patient_id, measured_at, mmol, flag, kind, meal, fingerprint, ord)
),
new_keys as (
  insert into reading_keys (device_serial, seq, measured_at, fingerprint)
  select device_serial, seq, measured_at, fingerprint from input
  on conflict (device_serial, seq) do nothing
  returning device_serial, seq
),
-- A late reading outdates the count buckets of its day (migration 018): here once per
-- patient-day of the flush, where the trigger, which leaves device readings to this, would run
-- once per reading (a storm's backlog is all late readings). In one order, so concurrent
-- flushes never deadlock on it.
moved as (
  insert into reading_day_changes (patient_id, day, version, moved_by)
  select distinct i.patient_id, date_bin('1 day', i.measured_at, timestamptz '1970-01-01 00:00:00+00'), 1::bigint,
         pg_current_xact_id()
  from input i join new_keys k on k.device_serial = i.device_serial and k.seq = i.seq
  where i.measured_at < now() - interval '10 minutes' and i.kind <> 'control'
  order by 1, 2
  on conflict (patient_id, day) do update set version = reading_day_changes.version + 1, moved_by = excluded.moved_by
  where reading_day_changes.moved_by <> excluded.moved_by
  returning 1
)`;

const INSERT_NEW_READINGS = `
insert into readings (measured_at, patient_id, device_serial, seq, mmol, flag, kind, meal, source)
select i.measured_at, i.patient_id, i.device_serial, i.seq, i.mmol, i.flag, i.kind, i.meal, 'device'
from input i join new_keys k on k.device_serial = i.device_serial and k.seq = i.seq`;

/** Which of the input's rows (1-based) were newly stored: their keys are new. */
const STORED_ORDINALS = `
select i.ord::int as ord from input i join new_keys k on k.device_serial = i.device_serial and k.seq = i.seq`;

const INSERT_DEVICE_READINGS = `${DEVICE_INPUT_AND_KEYS},
stored as (${INSERT_NEW_READINGS})
${STORED_ORDINALS}`;

/**
 * The group-commit write as one statement, so one round trip and its own transaction: the keys,
 * the readings, the devices' last-seen time ($10, kept to the minute) and the evaluation outbox row with the newly
 * stored readings, one array per field as `appendEvaluation` writes them (outbox.ts), or no row if nothing was new.
 * Data-modifying CTEs always run to completion, read or not.
 */
const INSERT_DEVICE_READINGS_WITH_OUTBOX = `${DEVICE_INPUT_AND_KEYS},
stored as (
  ${INSERT_NEW_READINGS}
  returning device_serial, seq, patient_id, measured_at, mmol, flag, kind, meal
),
seen as (
  -- To the minute: a device sending every few seconds is not rewritten every flush.
  update devices set last_seen_at = now()
  where serial = any($10::text[]) and (last_seen_at is null or last_seen_at < now() - interval '1 minute')
  returning 1
),
outbox as (
  -- One array per field, element i the same reading (migration 019): aggregates of one query
  -- see its rows in one order.
  insert into evaluation_outbox (received_at, patient_ids, device_ids, seqs, sources, measured_at, mmol, flags, kinds, meals)
  select now(), array_agg(patient_id), array_agg(device_serial), array_agg(seq), array_agg('device'::text),
         array_agg(measured_at), array_agg(mmol), array_agg(flag), array_agg(kind), array_agg(meal)
  from stored
  having count(*) > 0
  returning id
)
${STORED_ORDINALS}`;

const EXISTING_KEYS = `
select device_serial, seq, fingerprint
from reading_keys k
join unnest($1::text[], $2::bigint[]) as t(device_serial, seq) using (device_serial, seq)`;

const keyOf = (serial: string, seq: number) => `${serial}\u0000${seq}`;

/**
 * Stores device readings exactly once per (deviceSerial, seq), in one statement: the key and the
 * reading are written together or not at all. A key already present is a duplicate when its
 * content fingerprint matches, a SEQ_CONFLICT when it does not. Works on both backends.
 */
export function storeDeviceReadings(
  db: pg.Pool | pg.PoolClient,
  readings: readonly DeviceReadingToStore[],
): Promise<StoreOutcome[]> {
  return writeDeviceReadings(db, readings, { text: INSERT_DEVICE_READINGS }, []);
}

/**
 * The group-commit writer's write: `storeDeviceReadings`, plus the devices seen and the evaluation
 * outbox row of the stored readings, in one statement and so one transaction. Pass a pool, not a
 * client in a transaction of its own making: the statement is its own transaction. `prepared`
 * names it (PostgreSQL server only, see `Statement`).
 */
export function storeDeviceReadingsForEvaluation(
  db: pg.Pool | pg.PoolClient,
  readings: readonly DeviceReadingToStore[],
  options: { prepared?: boolean } = {},
): Promise<StoreOutcome[]> {
  const devices = [...new Set(readings.map((r) => r.deviceSerial))];
  return writeDeviceReadings(
    db,
    readings,
    {
      name: options.prepared ? 'store-device-readings-for-evaluation' : undefined,
      text: INSERT_DEVICE_READINGS_WITH_OUTBOX,
    },
    [textArrayLiteral(devices)],
  );
}

/**
 * With a name, each connection parses and plans the statement once, not at every flush (about
 * 1 ms of a 41-row flush's 2.5 ms on PostgreSQL 15). Not on the embedded database: its pg
 * connections share PGlite's one session, where a replaced connection's statements live on.
 */
interface Statement {
  name?: string | undefined;
  text: string;
}

async function writeDeviceReadings(
  db: pg.Pool | pg.PoolClient,
  readings: readonly DeviceReadingToStore[],
  statement: Statement,
  extra: unknown[],
): Promise<StoreOutcome[]> {
  const outcomes: StoreOutcome[] = new Array(readings.length);
  const fingerprints = readings.map(readingFingerprint);
  // The same key twice in one write (a resend coalesced with its original): the first one goes to
  // the database, later ones are judged against it here, since one INSERT cannot see its own rows.
  const firstIndex = new Map<string, number>();
  const toWrite: number[] = [];
  readings.forEach((r, i) => {
    const key = keyOf(r.deviceSerial, r.seq);
    const first = firstIndex.get(key);
    if (first === undefined) {
      firstIndex.set(key, i);
      toWrite.push(i);
    } else {
      outcomes[i] = fingerprints[first] === fingerprints[i] ? 'duplicate' : 'seq_conflict';
    }
  });
  if (toWrite.length === 0) return outcomes;

  const pick = <T>(field: (r: DeviceReadingToStore) => T) => toWrite.map((i) => field(readings[i]!));
  const stored = await db.query<{ ord: number }>({
    ...statement,
    values: [
      textArrayLiteral(pick((r) => r.deviceSerial)),
      numberArrayLiteral(pick((r) => r.seq)),
      textArrayLiteral(pick((r) => r.patientId)),
      timestampArrayLiteral(pick((r) => r.measuredAt)),
      numberArrayLiteral(pick((r) => r.mmol)),
      textArrayLiteral(pick((r) => r.flag)),
      textArrayLiteral(pick((r) => r.kind)),
      textArrayLiteral(pick((r) => r.meal)),
      textArrayLiteral(toWrite.map((i) => fingerprints[i]!)),
      ...extra,
    ],
  });
  for (const { ord } of stored.rows) outcomes[toWrite[ord - 1]!] = 'stored';
  const existing = toWrite.filter((i) => outcomes[i] === undefined);
  if (existing.length > 0) {
    // Read after the write, so a key committed by a concurrent writer is seen too.
    const found = await db.query<{ device_serial: string; seq: number; fingerprint: string }>(EXISTING_KEYS, [
      textArrayLiteral(existing.map((i) => readings[i]!.deviceSerial)),
      numberArrayLiteral(existing.map((i) => readings[i]!.seq)),
    ]);
    const fingerprintOf = new Map(found.rows.map((r) => [keyOf(r.device_serial, r.seq), r.fingerprint]));
    for (const i of existing) {
      const known = fingerprintOf.get(keyOf(readings[i]!.deviceSerial, readings[i]!.seq));
      if (known === undefined) throw new Error('reading key neither stored nor present; refusing to guess');
      outcomes[i] = known === fingerprints[i] ? 'duplicate' : 'seq_conflict';
    }
  }
  return outcomes;
}

export interface StoredReading {
  measuredAt: Date;
  mmol: number | null;
  flag: 'LO' | 'HI' | null;
  kind: 'bgm' | 'cgm' | 'control';
  source: 'device' | 'manual' | 'import';
  seq: number | null;
}

/** A patient's readings in [from, to), oldest first: the shape of the readings API. */
export async function readingsOfPatient(
  db: pg.Pool,
  patientId: string,
  from: Date,
  to: Date,
): Promise<StoredReading[]> {
  const result = await db.query<StoredReading>(
    `select measured_at as "measuredAt", mmol, flag, kind, source, seq
     from readings where patient_id = $1 and measured_at >= $2 and measured_at < $3
     order by measured_at`,
    [patientId, from, to],
  );
  return result.rows;
}

export interface ManualReadingToStore {
  patientId: string;
  measuredAt: Date;
  mmol: number | null;
  flag: 'LO' | 'HI' | null;
  meal: 'before' | 'after' | null;
  note: string | null;
  /** Who typed it in. */
  enteredBy: string;
}

/**
 * A value typed in from a meter's display (municipal home care has no other way to send it):
 * source `manual`, kind `bgm`, with who entered it. Call it in the transaction that also records
 * the reading for evaluation.
 */
export async function storeManualReading(
  client: pg.PoolClient,
  reading: ManualReadingToStore,
): Promise<{ receivedAt: Date }> {
  const stored = await client.query<{ received_at: Date }>(
    `insert into readings (measured_at, patient_id, mmol, flag, kind, meal, source, entered_by, note)
     values ($1, $2, $3, $4, 'bgm', $5, 'manual', $6, $7) returning received_at`,
    [reading.measuredAt, reading.patientId, reading.mmol, reading.flag, reading.meal, reading.enteredBy, reading.note],
  );
  return { receivedAt: stored.rows[0]!.received_at };
}
