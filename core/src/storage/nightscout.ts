import type pg from 'pg';
import type { DeviceKind } from '../domain/reading.ts';
import { readState } from './care.ts';

/**
 * Storage of the Nightscout API (migration 009, docs/nightscout.md): devices found by the lookup
 * digest of their API secret, and the Nightscout documents (entries, treatments, device status)
 * of each patient. Glucose readings themselves are stored by the ingest pipeline, not here.
 */

type Db = pg.Pool | pg.PoolClient;

export type NightscoutCollection = 'entries' | 'treatments' | 'devicestatus' | 'profile' | 'food' | 'settings';

/** The installation's key for Nightscout lookup digests and JWTs (hex), made by migration 009. */
export async function nightscoutKey(db: Db): Promise<string> {
  const key = await readState<string>(db, 'nightscout_key');
  if (!key) throw new Error('storage_state has no nightscout_key: is the database migrated?');
  return key;
}

export interface NightscoutDigests {
  sha1: string;
  sha512: string;
}

/** Replaces the device's lookup digests: its old API secret stops working at once. */
export async function setNightscoutDigests(db: Db, serial: string, digests: NightscoutDigests): Promise<void> {
  await db.query('update devices set nightscout_sha1_digest = $2, nightscout_sha512_digest = $3 where serial = $1', [
    serial,
    digests.sha1,
    digests.sha512,
  ]);
}

/** A device that a Nightscout credential names: whom its data belongs to. */
export interface NightscoutDevice {
  deviceId: string;
  kind: DeviceKind;
  patientId: string;
  teamId: string;
  /** When its token was issued, in ms: a JWT names this, so a rotation ends the JWT too. */
  tokenIssuedMs: number;
}

const DEVICE_COLUMNS = `d.serial as "deviceId", d.kind, d.patient_id as "patientId", p.team_id as "teamId",
  floor(extract(epoch from d.token_issued_at) * 1000)::float8 as "tokenIssuedMs"`;

/** The unrevoked device whose SHA-1 or SHA-512 lookup digest this is. */
export async function deviceByNightscoutDigest(
  db: Db,
  hash: 'sha1' | 'sha512',
  digest: string,
): Promise<NightscoutDevice | undefined> {
  const column = hash === 'sha1' ? 'nightscout_sha1_digest' : 'nightscout_sha512_digest';
  const found = await db.query<NightscoutDevice>(
    `select ${DEVICE_COLUMNS} from devices d join patients p on p.id = d.patient_id
     where d.${column} = $1 and d.revoked_at is null`,
    [digest],
  );
  return found.rows[0];
}

/** The unrevoked device of a JWT, if its token is still the one the JWT was issued for. */
export async function deviceByTokenIssue(
  db: Db,
  serial: string,
  tokenIssuedMs: number,
): Promise<NightscoutDevice | undefined> {
  const found = await db.query<NightscoutDevice>(
    `select ${DEVICE_COLUMNS} from devices d join patients p on p.id = d.patient_id
     where d.serial = $1 and d.revoked_at is null
       and floor(extract(epoch from d.token_issued_at) * 1000) = $2`,
    [serial, tokenIssuedMs],
  );
  return found.rows[0];
}

/** The team's alert thresholds (mmol/L), for Nightscout's status.json. */
export async function nightscoutThresholds(
  db: Db,
  patientId: string,
): Promise<{ urgentLow: number; low: number; high: number; urgentHigh: number } | undefined> {
  const found = await db.query(
    `select coalesce(pt.urgent_low, t.urgent_low) as "urgentLow", coalesce(pt.low, t.low) as low,
            coalesce(pt.high, t.high) as high, coalesce(pt.urgent_high, t.urgent_high) as "urgentHigh"
     from patients p join team_thresholds t on t.team_id = p.team_id
     left join patient_thresholds pt on pt.patient_id = p.id
     where p.id = $1`,
    [patientId],
  );
  return found.rows[0];
}

/** An uploader's device status: its battery (when it said), and that it was seen now. */
export async function recordUploaderStatus(db: Db, serial: string, batteryPercent: number | null): Promise<void> {
  await db.query(
    'update devices set battery_percent = coalesce($2, battery_percent), last_seen_at = now() where serial = $1',
    [serial, batteryPercent],
  );
}

export interface NightscoutDocumentToStore {
  collection: NightscoutCollection;
  patientId: string;
  deviceSerial: string;
  /** What deduplication is within: the device serial (entries) or the patient id (the others). */
  scope: string;
  dedupeKey: string;
  identifier: string;
  objectId: string;
  dateMs: number;
  doc: Record<string, unknown>;
}

export interface StoredNightscoutDocument {
  identifier: string;
  objectId: string;
  srvCreated: number;
  srvModified: number;
  doc: Record<string, unknown>;
  /** False: an equal document (same identifier, or same deduplication fields) was there already. */
  created: boolean;
}

const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

const INSERT_DOCUMENTS = `
insert into nightscout_documents
  (collection, patient_id, device_serial, scope, dedupe_key, identifier, object_id, date_ms, srv_created, srv_modified, doc)
select collection, patient_id, device_serial, scope, dedupe_key, identifier, object_id, date_ms, ${NOW_MS}, ${NOW_MS}, doc
from unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::jsonb[])
  as t(collection, patient_id, device_serial, scope, dedupe_key, identifier, object_id, date_ms, doc)
on conflict do nothing
returning collection, scope, dedupe_key, identifier, object_id as "objectId",
  srv_created::float8 as "srvCreated", srv_modified::float8 as "srvModified", doc`;

const DOCUMENT_COLUMNS = `d.collection, d.scope, d.dedupe_key, d.identifier, d.object_id as "objectId",
  d.srv_created::float8 as "srvCreated", d.srv_modified::float8 as "srvModified", d.doc`;

/** By key, then (not for entries) by identifier: two index probes, where one OR would scan. */
const EXISTING_DOCUMENTS = `
with t as (select * from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as t(collection, scope, dedupe_key, identifier))
select ${DOCUMENT_COLUMNS} from nightscout_documents d
join t on (d.collection, d.scope, d.dedupe_key) = (t.collection, t.scope, t.dedupe_key)
union
select ${DOCUMENT_COLUMNS} from nightscout_documents d
join t on (d.collection, d.scope, d.identifier) = (t.collection, t.scope, t.identifier)
where d.collection <> 'entries'`;

interface DocumentRow {
  collection: string;
  scope: string;
  dedupe_key: string;
  identifier: string;
  objectId: string;
  srvCreated: number;
  srvModified: number;
  doc: Record<string, unknown>;
}

/**
 * Stores each document unless an equal one is there (same deduplication key, or for treatments
 * and device status the same identifier, within its scope); answers, in input order, the stored document of each: the new one, or the one kept.
 * Documents repeated within one call are stored once.
 */
export async function storeNightscoutDocuments(
  db: Db,
  docs: readonly NightscoutDocumentToStore[],
): Promise<StoredNightscoutDocument[]> {
  if (docs.length === 0) return [];
  const column = <T>(pick: (d: NightscoutDocumentToStore) => T) => docs.map(pick);
  const inserted = await db.query<DocumentRow>(INSERT_DOCUMENTS, [
    column((d) => d.collection),
    column((d) => d.patientId),
    column((d) => d.deviceSerial),
    column((d) => d.scope),
    column((d) => d.dedupeKey),
    column((d) => d.identifier),
    column((d) => d.objectId),
    column((d) => d.dateMs),
    column((d) => JSON.stringify(d.doc)),
  ]);
  const byKey = new Map<string, DocumentRow>();
  const byIdentifier = new Map<string, DocumentRow>();
  const remember = (row: DocumentRow) => {
    byKey.set(`${row.collection}\0${row.scope}\0${row.dedupe_key}`, row);
    byIdentifier.set(`${row.collection}\0${row.scope}\0${row.identifier}`, row);
  };
  inserted.rows.forEach(remember);
  const created = new Set(inserted.rows);
  // Entries are one per deduplication key (type and time); the others are found by identifier too.
  const find = (d: NightscoutDocumentToStore) =>
    byKey.get(`${d.collection}\0${d.scope}\0${d.dedupeKey}`) ??
    (d.collection === 'entries' ? undefined : byIdentifier.get(`${d.collection}\0${d.scope}\0${d.identifier}`));
  const missing = docs.filter((d) => !find(d));
  if (missing.length > 0) {
    // Read after the write, so a document committed by a concurrent request is seen too.
    const existing = await db.query<DocumentRow>(EXISTING_DOCUMENTS, [
      missing.map((d) => d.collection),
      missing.map((d) => d.scope),
      missing.map((d) => d.dedupeKey),
      missing.map((d) => d.identifier),
    ]);
    existing.rows.forEach(remember);
  }
  const claimed = new Set<DocumentRow>();
  return docs.map((d) => {
    const row = find(d);
    if (!row) throw new Error('nightscout document neither stored nor present; refusing to guess');
    // Only the first input that a new row came from was created by this call.
    const first = created.has(row) && !claimed.has(row);
    claimed.add(row);
    return {
      identifier: row.identifier,
      objectId: row.objectId,
      srvCreated: row.srvCreated,
      srvModified: row.srvModified,
      doc: row.doc,
      created: first,
    };
  });
}

/**
 * Stores the document, or replaces the one with its identifier (or `_id`), else the one with its
 * deduplication key (v1's PUT /treatments and /profile): the stored version afterwards.
 */
export async function replaceNightscoutDocument(
  db: Db,
  d: NightscoutDocumentToStore,
): Promise<StoredNightscoutDocument> {
  const params = [d.collection, d.scope, d.identifier, d.dedupeKey, d.dateMs, JSON.stringify(d.doc)];
  const replaced = await db.query<DocumentRow>(
    `with target as (
       (select dedupe_key from nightscout_documents
        where collection = $1 and scope = $2 and (identifier = $3 or object_id = $3) limit 1)
       union all
       (select dedupe_key from nightscout_documents where (collection, scope, dedupe_key) = ($1, $2, $4))
       limit 1
     )
     update nightscout_documents d set doc = $6::jsonb, date_ms = $5, srv_modified = ${NOW_MS},
       -- An edited time moves the document's key too, unless another document holds that key.
       dedupe_key = case when exists (select 1 from nightscout_documents o
                                      where (o.collection, o.scope, o.dedupe_key) = ($1, $2, $4)
                                        and o.dedupe_key <> d.dedupe_key)
                         then d.dedupe_key else $4 end
     from target t
     where (d.collection, d.scope, d.dedupe_key) = ($1, $2, t.dedupe_key)
     returning d.collection, d.scope, d.dedupe_key, d.identifier, d.object_id as "objectId",
       d.srv_created::float8 as "srvCreated", d.srv_modified::float8 as "srvModified", d.doc`,
    params,
  );
  const row = replaced.rows[0];
  if (row) return { ...row, created: false };
  return (await storeNightscoutDocuments(db, [d]))[0]!;
}

/** One condition of a search: a document field compared with a value (numbers compare as numbers). */
export interface NightscoutFilter {
  field: string;
  op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte';
  value: string | number | boolean;
}

export interface NightscoutQuery {
  collection: NightscoutCollection;
  filters: readonly NightscoutFilter[];
  /** Then by the document's time, in the same direction. */
  sort: { field: string; descending: boolean };
  limit: number;
  skip?: number;
}

const OPERATORS: Record<NightscoutFilter['op'], string> = {
  eq: '=',
  ne: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
};

/** Field names a search may use: what a JSON document's keys look like, nothing else reaches SQL. */
export const NIGHTSCOUT_FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The patient's documents of one collection matching every filter, in the query's order. */
export async function searchNightscoutDocuments(
  db: Db,
  patientId: string,
  query: NightscoutQuery,
): Promise<StoredNightscoutDocument[]> {
  const params: unknown[] = [patientId, query.collection];
  const where = ['patient_id = $1', 'collection = $2'];
  const columnOf = (field: string): string => {
    if (field === 'date' || field === 'mills') return 'date_ms';
    if (field === 'srvModified') return 'srv_modified';
    if (field === 'srvCreated') return 'srv_created';
    if (field === 'identifier') return 'identifier';
    if (!NIGHTSCOUT_FIELD.test(field)) throw new Error(`not a searchable field: ${field}`);
    params.push(field);
    return `doc -> $${params.length}`;
  };
  for (const filter of query.filters) {
    const column = columnOf(filter.field);
    const native = !column.startsWith('doc');
    params.push(native ? filter.value : JSON.stringify(filter.value));
    where.push(`${column} ${OPERATORS[filter.op]} $${params.length}${native ? '' : '::jsonb'}`);
  }
  const direction = query.sort.descending ? 'desc' : 'asc';
  const order = `${columnOf(query.sort.field)} ${direction}, date_ms ${direction}, srv_modified ${direction}`;
  params.push(query.limit, query.skip ?? 0);
  const found = await db.query<DocumentRow>(
    `select identifier, object_id as "objectId", srv_created::float8 as "srvCreated",
            srv_modified::float8 as "srvModified", doc
     from nightscout_documents where ${where.join(' and ')}
     order by ${order} limit $${params.length - 1} offset $${params.length}`,
    params,
  );
  return found.rows.map((row) => ({ ...row, created: false }));
}

/** One document by its v1 `_id` or v3 identifier, within the patient. */
export async function nightscoutDocument(
  db: Db,
  patientId: string,
  collection: NightscoutCollection,
  id: string,
): Promise<StoredNightscoutDocument | undefined> {
  const found = await db.query<DocumentRow>(
    `select identifier, object_id as "objectId", srv_created::float8 as "srvCreated",
            srv_modified::float8 as "srvModified", doc
     from nightscout_documents where patient_id = $1 and collection = $2 and (object_id = $3 or identifier = $3)
     limit 1`,
    [patientId, collection, id],
  );
  const row = found.rows[0];
  return row && { ...row, created: false };
}

/** Documents changed after `sinceMs`, oldest change first (API v3 history). */
export async function nightscoutHistory(
  db: Db,
  patientId: string,
  collection: NightscoutCollection,
  sinceMs: number,
  limit: number,
): Promise<StoredNightscoutDocument[]> {
  const found = await db.query<DocumentRow>(
    `select identifier, object_id as "objectId", srv_created::float8 as "srvCreated",
            srv_modified::float8 as "srvModified", doc
     from nightscout_documents where patient_id = $1 and collection = $2 and srv_modified > $3
     order by srv_modified, identifier limit $4`,
    [patientId, collection, sinceMs, limit],
  );
  return found.rows.map((row) => ({ ...row, created: false }));
}

/** The latest change of each collection of the patient, in ms (API v3 lastModified). */
export async function nightscoutLastModified(db: Db, patientId: string): Promise<Record<string, number>> {
  const found = await db.query<{ collection: string; at: number }>(
    `select collection, max(srv_modified)::float8 as at from nightscout_documents
     where patient_id = $1 group by collection`,
    [patientId],
  );
  return Object.fromEntries(found.rows.map((r) => [r.collection, r.at]));
}

/** A treatment as the patient timeline marks it: when, what, and the amounts it carries. */
export interface TreatmentMarker {
  at: Date;
  eventType: string;
  carbs: number | null;
  insulin: number | null;
  notes: string | null;
  deviceId: string;
}

/** The patient's treatments (carbs, insulin, notes) in [from, to), oldest first. */
export async function treatmentsOfPatient(db: Db, patientId: string, from: Date, to: Date): Promise<TreatmentMarker[]> {
  const found = await db.query<TreatmentMarker>(
    `select to_timestamp(date_ms / 1000.0) as at, doc ->> 'eventType' as "eventType",
            case when jsonb_typeof(doc -> 'carbs') = 'number' then (doc ->> 'carbs')::float8 end as carbs,
            case when jsonb_typeof(doc -> 'insulin') = 'number' then (doc ->> 'insulin')::float8 end as insulin,
            left(doc ->> 'notes', 500) as notes, device_serial as "deviceId"
     from nightscout_documents
     where patient_id = $1 and collection = 'treatments' and date_ms >= $2 and date_ms < $3
     order by date_ms`,
    [patientId, from.getTime(), to.getTime()],
  );
  return found.rows;
}

/** Applies a v3 PATCH: the fields merged into the document, a new srvModified; false if not there. */
export async function patchNightscoutDocument(
  db: Db,
  patientId: string,
  collection: NightscoutCollection,
  identifier: string,
  fields: Record<string, unknown>,
): Promise<StoredNightscoutDocument | undefined> {
  const patched = await db.query<DocumentRow>(
    `update nightscout_documents set doc = doc || $4::jsonb, srv_modified = ${NOW_MS},
       date_ms = coalesce(($4::jsonb ->> 'date')::float8::bigint, date_ms)
     where patient_id = $1 and collection = $2 and identifier = $3
     returning identifier, object_id as "objectId", srv_created::float8 as "srvCreated",
       srv_modified::float8 as "srvModified", doc`,
    [patientId, collection, identifier, JSON.stringify(fields)],
  );
  const row = patched.rows[0];
  return row && { ...row, created: false };
}

/** A v3 DELETE: marked `isValid: false` (Nightscout's soft delete), or removed when permanent. */
export async function deleteNightscoutDocument(
  db: Db,
  patientId: string,
  collection: NightscoutCollection,
  identifier: string,
  permanent: boolean,
): Promise<boolean> {
  const deleted = permanent
    ? await db.query('delete from nightscout_documents where patient_id = $1 and collection = $2 and identifier = $3', [
        patientId,
        collection,
        identifier,
      ])
    : await db.query(
        `update nightscout_documents set doc = doc || '{"isValid": false}'::jsonb, srv_modified = ${NOW_MS}
         where patient_id = $1 and collection = $2 and identifier = $3`,
        [patientId, collection, identifier],
      );
  return (deleted.rowCount ?? 0) > 0;
}

export * from './nightscout-followers.ts';
