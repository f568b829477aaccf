import type pg from 'pg';
import type { MeterFlag, ReadingKind, ReadingSource } from '../domain/reading.ts';

type Queryable = pg.Pool | pg.PoolClient;

/**
 * Readings for FHIR (docs/fhir.md): newest first, paged by keyset on (measured_at, reading key).
 *
 * The readings table has no id column (it is a hypertable; a unique id would have to hold its
 * time column anyway), so a reading's key is made of what is unique about it already: a device
 * reading's (device serial, seq), and for a manual entry or an import its received_at (to the
 * microsecond; imports spread theirs by a microsecond per reading, see storeImportedReadings).
 * The key only orders readings of the same instant; the FHIR id is derived from it.
 */
/** The key of a reading without a device (see READING_KEY), from its received_at. */
const receivedKey = (column: string) =>
  `'r' || lpad(((extract(epoch from ${column}) * 1000000)::bigint)::text, 20, '0')`;

const READING_KEY = `case when r.device_serial is null
  then ${receivedKey('r.received_at')}
  else 'd' || lpad(r.seq::text, 20, '0') || '/' || r.device_serial end collate "C"`;

/** One stored reading as FHIR shows it. */
export interface FhirReadingRow {
  key: string;
  measuredAt: Date;
  receivedAt: Date;
  mmol: number | null;
  flag: MeterFlag | null;
  kind: Exclude<ReadingKind, 'control'>;
  source: ReadingSource;
  deviceSerial: string | null;
  seq: number | null;
  /** Manual entry: who typed it in. */
  enteredBy: { id: string; name: string } | null;
  /** An imported reading's identifier as its submitter sent it. */
  importIdentifier: { system: string; value: string } | null;
}

export interface FhirReadingsQuery {
  patientId: string;
  kinds: ReadonlyArray<'bgm' | 'cgm'>;
  /** measured_at >= from (inclusive). */
  from?: Date;
  /** measured_at < to (exclusive). */
  to?: Date;
  /** The last reading of the previous page. */
  after?: { measuredAt: Date; key: string };
  limit: number;
}

/**
 * One page of a patient's readings, newest first; control-solution readings are never shown (they
 * test the meter, not the patient). The index on (patient_id, measured_at desc) serves it.
 */
export async function fhirReadingsPage(db: Queryable, query: FhirReadingsQuery): Promise<FhirReadingRow[]> {
  const rows = await db.query<
    Omit<FhirReadingRow, 'enteredBy' | 'importIdentifier'> & {
      enteredById: string | null;
      enteredByName: string | null;
      importSystem: string | null;
      importValue: string | null;
    }
  >(
    `select * from (
       select ${READING_KEY} as key, r.measured_at as "measuredAt", r.received_at as "receivedAt", r.mmol, r.flag,
              r.kind, r.source, r.device_serial as "deviceSerial", r.seq::float8 as seq,
              r.entered_by as "enteredById", u.name as "enteredByName",
              k.identifier_system as "importSystem", k.identifier_value as "importValue"
       from readings r
       left join users u on u.id = r.entered_by
       left join fhir_import_keys k
         on r.source = 'import' and k.patient_id = r.patient_id and k.measured_at = r.measured_at and k.received_at = r.received_at
       where r.patient_id = $1 and r.kind = any($2::text[])
         and ($3::timestamptz is null or r.measured_at >= $3) and ($4::timestamptz is null or r.measured_at < $4)
         and ($5::timestamptz is null or r.measured_at <= $5)
     ) page
     where $5::timestamptz is null or page."measuredAt" < $5 or page.key < $6::text collate "C"
     order by page."measuredAt" desc, page.key desc
     limit $7`,
    [
      query.patientId,
      query.kinds,
      query.from ?? null,
      query.to ?? null,
      query.after?.measuredAt ?? null,
      query.after?.key ?? null,
      query.limit,
    ],
  );
  return rows.rows.map(({ enteredById, enteredByName, importSystem, importValue, ...row }) => ({
    ...row,
    enteredBy: enteredById ? { id: enteredById, name: enteredByName ?? '' } : null,
    importIdentifier:
      importSystem !== null && importValue !== null ? { system: importSystem, value: importValue } : null,
  }));
}

/** A submitted reading to store once under its identifier. */
export interface ImportedReading {
  identifierSystem: string;
  identifierValue: string;
  measuredAt: Date;
  mmol: number | null;
  flag: MeterFlag | null;
  /** readingFingerprint of the content: a resend must match it to be a duplicate. */
  fingerprint: string;
}

export type ImportOutcome =
  /** key: the stored reading's key (see READING_KEY), for its FHIR id. */
  { outcome: 'stored' | 'duplicate'; key: string; measuredAt: Date } | { outcome: 'conflict' };

/**
 * Stores CGM readings submitted for one patient (source `import`, kind `cgm`) exactly once per
 * (patient, identifier system, identifier value): the key row and the reading are written in the
 * caller's transaction. A key already present is a duplicate when its content matches, a conflict
 * when it does not. Results are in input order.
 */
export async function storeImportedReadings(
  client: pg.PoolClient,
  patientId: string,
  readings: readonly ImportedReading[],
): Promise<ImportOutcome[]> {
  const outcomes: ImportOutcome[] = new Array(readings.length);
  const identity = (r: ImportedReading) => `${r.identifierSystem}\u0000${r.identifierValue}`;
  const first = new Map<string, number>();
  const toWrite: number[] = [];
  readings.forEach((r, i) => {
    if (first.has(identity(r))) return;
    first.set(identity(r), i);
    toWrite.push(i);
  });
  const pick = <T>(f: (r: ImportedReading) => T) => toWrite.map((i) => f(readings[i]!));
  // One statement: the keys claimed and their readings together. received_at is now() plus a
  // microsecond per reading, so each imported reading has a key of its own.
  const claimed = await client.query<{ ordinal: string; key: string }>(
    `with input as (
       select * from unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::float8[], $7::text[])
         with ordinality as t(identifier_system, identifier_value, measured_at, fingerprint, mmol, flag, ordinal)
     ),
     claimed as (
       insert into fhir_import_keys (patient_id, identifier_system, identifier_value, measured_at, received_at, fingerprint)
       select $1, identifier_system, identifier_value, measured_at, now() + ordinal * interval '1 microsecond', fingerprint
       from input
       on conflict do nothing
       returning identifier_system, identifier_value, received_at
     ),
     stored as (
       insert into readings (measured_at, received_at, patient_id, mmol, flag, kind, source)
       select i.measured_at, c.received_at, $1, i.mmol, i.flag, 'cgm', 'import'
       from input i join claimed c using (identifier_system, identifier_value)
       returning 1
     )
     select i.ordinal::text as ordinal, ${receivedKey('c.received_at')} as key
     from claimed c join input i using (identifier_system, identifier_value)`,
    [
      patientId,
      pick((r) => r.identifierSystem),
      pick((r) => r.identifierValue),
      pick((r) => r.measuredAt),
      pick((r) => r.fingerprint),
      pick((r) => r.mmol),
      pick((r) => r.flag),
    ],
  );
  for (const row of claimed.rows) {
    const i = toWrite[Number(row.ordinal) - 1]!;
    outcomes[i] = { outcome: 'stored', key: row.key, measuredAt: readings[i]!.measuredAt };
  }
  const existing = toWrite.filter((i) => !outcomes[i]);
  if (existing.length > 0) {
    // Read after the write, so a key committed by a concurrent submission is seen too.
    const found = await client.query<{
      identifierSystem: string;
      identifierValue: string;
      fingerprint: string;
      measuredAt: Date;
      key: string;
    }>(
      `select identifier_system as "identifierSystem", identifier_value as "identifierValue", fingerprint,
              measured_at as "measuredAt", ${receivedKey('k.received_at')} as key
       from fhir_import_keys k
       join unnest($2::text[], $3::text[]) as t(identifier_system, identifier_value) using (identifier_system, identifier_value)
       where k.patient_id = $1`,
      [
        patientId,
        existing.map((i) => readings[i]!.identifierSystem),
        existing.map((i) => readings[i]!.identifierValue),
      ],
    );
    const byIdentity = new Map(found.rows.map((row) => [`${row.identifierSystem}\u0000${row.identifierValue}`, row]));
    for (const i of existing) {
      const known = byIdentity.get(identity(readings[i]!));
      if (!known) throw new Error('import key neither stored nor present; refusing to guess');
      outcomes[i] =
        known.fingerprint === readings[i]!.fingerprint
          ? { outcome: 'duplicate', key: known.key, measuredAt: known.measuredAt }
          : { outcome: 'conflict' };
    }
  }
  // A second entry with the same identifier in one bundle is judged against the first.
  readings.forEach((r, i) => {
    if (outcomes[i]) return;
    const earlier = first.get(identity(r))!;
    const base = outcomes[earlier]!;
    outcomes[i] =
      base.outcome !== 'conflict' && readings[earlier]!.fingerprint === r.fingerprint
        ? { ...base, outcome: 'duplicate' }
        : { outcome: 'conflict' };
  });
  return outcomes;
}
