import { createHash } from 'node:crypto';
import { mgdlToMmol } from '../domain/ranges.ts';
import type { ReadingKind } from '../domain/reading.ts';

/**
 * The Nightscout REST API as CGM uploaders speak it (xDrip+, Juggluco, AndroidAPS, Loop/Trio,
 * nightscout-librelink-up ...), mapped to Glucoboard's readings. Nightscout's own behaviour
 * (cgm-remote-monitor 15: lib/server/entries.js, lib/api3/shared/operationTools.js) is the contract;
 * see docs/nightscout.md for what differs.
 */

/** Below this many mg/dL an `sgv` is a sensor error code (Dexcom's 1-12 and the like), not glucose. */
export const SENSOR_ERROR_BELOW_MGDL = 39;

/** Trend names Nightscout knows, plus Loop's spellings of the last two. */
export const NIGHTSCOUT_DIRECTIONS = [
  'NONE',
  'TripleUp',
  'DoubleUp',
  'SingleUp',
  'FortyFiveUp',
  'Flat',
  'FortyFiveDown',
  'SingleDown',
  'DoubleDown',
  'TripleDown',
  'NOT COMPUTABLE',
  'RATE OUT OF RANGE',
  'NotComputable',
  'RateOutOfRange',
] as const;

/** Entry types that are glucose: `sgv` from a sensor, `mbg` a fingerstick. */
const GLUCOSE_TYPES: Readonly<Record<string, { kind: ReadingKind; field: 'sgv' | 'mbg'; code: number }>> = {
  sgv: { kind: 'cgm', field: 'sgv', code: 1 },
  mbg: { kind: 'bgm', field: 'mbg', code: 2 },
};

/**
 * The (deviceId, seq) idempotency key of a Nightscout entry's reading. Nightscout keeps one entry
 * per (time, type) and an uploader resends freely, so the seq is made from exactly those two:
 * ms since the epoch times 4 plus the type's code. Two entries of one device get the same seq if
 * and only if they have the same instant and type, so storage's (deviceId, seq) key deduplicates
 * as Nightscout does. It stays below 2^53 until the year 73,000; a meter's own seqs (counting up
 * from 0) never reach 4 x 10^12.
 */
export function nightscoutSeq(type: 'sgv' | 'mbg', instantMs: number): number {
  return instantMs * 4 + GLUCOSE_TYPES[type]!.code;
}

/** A refusal of a whole request, with Nightscout's status and a message (never the value sent). */
export interface NightscoutRefusal {
  ok: false;
  status: number;
  message: string;
  /** Position of the document at fault in the request, when it was an array. */
  index?: number;
}

export interface NormalizedEntry {
  type: string;
  /** The instant Nightscout deduplicates on (its `sysTime`), in ms. */
  instantMs: number;
  /** `type|instant`: the deduplication key within the device. */
  dedupeKey: string;
  /** API v3 identifier (UUIDv5 of device and date, as Nightscout computes it) unless the client sent one. */
  identifier: string;
  /** The document as Nightscout stores it: secret removed, sysTime/utcOffset/dateString normalized. */
  doc: Record<string, unknown>;
  /** The glucose reading it is, or null (sensor error codes, calibrations, other types). */
  reading: { seq: number; measuredAt: Date; mmol: number; kind: ReadingKind } | null;
}

const MESSAGES = {
  notObject: 'each entry must be a JSON object',
  type: "type must be a string such as 'sgv', 'mbg' or 'cal'",
  time: 'an entry needs its time: date (ms since 1970) or dateString (ISO 8601)',
  value: 'sgv and mbg must be numbers (mg/dL)',
  direction: `direction must be one of ${NIGHTSCOUT_DIRECTIONS.join(', ')}`,
};

/**
 * One v1 entry as Nightscout's `entries.create` normalizes it: the time from `dateString` (its
 * own UTC offset, with or without a colon), else `date`, else `sysTime`; `utcOffset` from that
 * time; `dateString` rewritten as `sysTime`. Unlike Nightscout an entry without any time is
 * refused (a reading's time is never "now" by default). A missing `type` is taken from the value
 * field present (`sgv` or `mbg`). With `v3`, the document is one prepareV3Document accepted.
 */
export function normalizeEntry(raw: unknown, options: { v3?: boolean } = {}): NormalizedEntry | NightscoutRefusal {
  if (!isPlainObject(raw)) return refusal(MESSAGES.notObject);
  const doc: Record<string, unknown> = { ...raw };
  delete doc['secret'];
  delete doc['_id'];
  let type = doc['type'];
  if (type === undefined || type === null) {
    type = 'sgv' in doc ? 'sgv' : 'mbg' in doc ? 'mbg' : undefined;
  }
  if (typeof type !== 'string' || type.length === 0 || type.length > 64) return refusal(MESSAGES.type);
  doc['type'] = type;
  // API v3 has prepared date and utcOffset already (prepareV3Document): they are the time.
  const time = options.v3 ? { ms: doc['date'] as number, utcOffset: doc['utcOffset'] as number } : entryTime(doc);
  if (!time) return refusal(MESSAGES.time);
  const direction = doc['direction'];
  if (direction !== undefined && direction !== null && direction !== '' && !isDirection(direction)) {
    return refusal(MESSAGES.direction);
  }
  const sysTime = new Date(time.ms).toISOString();
  doc['utcOffset'] = time.utcOffset;
  doc['sysTime'] = sysTime;
  if (doc['dateString'] !== undefined) doc['dateString'] = sysTime;
  if (doc['date'] === undefined) doc['date'] = time.ms;

  let reading: NormalizedEntry['reading'] = null;
  const glucose = GLUCOSE_TYPES[type];
  if (glucose) {
    const mgdl = numberOf(doc[glucose.field]);
    if (mgdl === null) return refusal(MESSAGES.value);
    doc[glucose.field] = mgdl;
    // Ingest's own validation still decides (range, clock): what it refuses stays a document only.
    if (mgdl >= SENSOR_ERROR_BELOW_MGDL) {
      reading = {
        seq: nightscoutSeq(glucose.field, time.ms),
        measuredAt: new Date(time.ms),
        mmol: mgdlToMmol(mgdl),
        kind: glucose.kind,
      };
    }
  }
  const identifier = typeof raw['identifier'] === 'string' && raw['identifier'] ? raw['identifier'] : undefined;
  return {
    type,
    instantMs: time.ms,
    dedupeKey: `${type}|${time.ms}`,
    identifier: identifier ?? nightscoutIdentifier({ device: doc['device'], date: time.ms }),
    doc,
    reading,
  };
}

/** The v1 request body as a list: one object, or an array of them (`secret` fields removed). */
export function entriesOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (isPlainObject(body) && Object.keys(body).length > 0) return [body];
  return [];
}

/** An entry's instant and UTC offset (minutes), as Nightscout derives them; null without a usable time. */
export function entryTime(doc: Record<string, unknown>): { ms: number; utcOffset: number } | null {
  const dateString = doc['dateString'];
  if (typeof dateString === 'string') {
    const parsed = parseDateString(dateString);
    if (parsed) return parsed;
  }
  const date = numberOf(doc['date']);
  if (date !== null && date > 0) return { ms: Math.trunc(date), utcOffset: 0 };
  const sysTime = doc['sysTime'];
  if (typeof sysTime === 'string') return parseDateString(sysTime);
  return null;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * An ISO 8601 date-time as moment.parseZone reads it: the offset `Z`, `±hh:mm`, `±hhmm` or `±hh`
 * is kept as utcOffset; without one the time is UTC. Other forms (JavaScript's `Date#toString`,
 * which some uploaders send) fall back to Date.parse, with the offset of a `GMT±hhmm` in them.
 */
export function parseDateString(text: string): { ms: number; utcOffset: number } | null {
  const m = ISO.exec(text.trim());
  if (m) {
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    const month = Number(mo);
    const day = Number(d);
    const hour = Number(h);
    const minute = Number(mi);
    const second = Number(s ?? 0);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
    const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
    const local = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms);
    if (new Date(local).getUTCDate() !== day) return null; // 2026-02-30
    const utcOffset = offsetMinutes(zone);
    if (utcOffset === null) return null;
    return { ms: local - utcOffset * 60_000, utcOffset };
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return null;
  const gmt = /GMT([+-]\d{4})/.exec(text);
  return { ms, utcOffset: gmt ? (offsetMinutes(gmt[1]) ?? 0) : 0 };
}

function offsetMinutes(zone: string | undefined): number | null {
  if (!zone || zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}

function isDirection(value: unknown): boolean {
  return typeof value === 'string' && (NIGHTSCOUT_DIRECTIONS as readonly string[]).includes(value);
}

/** A finite number, or a string holding one (some uploaders quote their numbers). */
function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function refusal(message: string): NightscoutRefusal {
  return { ok: false, status: 400, message };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// --- Treatments and device status ------------------------------------------------------------

export interface NormalizedDocument {
  instantMs: number;
  dedupeKey: string;
  identifier: string;
  doc: Record<string, unknown>;
}

/**
 * A v1 treatment as Nightscout's treatments.create prepares it: `created_at` from itself, else
 * `date`/`mills`, else now, rewritten as ISO UTC with its offset in `utcOffset`; `eventType`
 * '<none>' when absent; carbs, insulin and glucose as numbers. Deduplicated on the identifier (the
 * client's `identifier` or `_id`), then on created_at + eventType.
 */
export function normalizeTreatment(raw: unknown, now: number): NormalizedDocument | NightscoutRefusal {
  if (!isPlainObject(raw)) return refusal('each treatment must be a JSON object');
  const doc = withoutSecret(raw);
  const time = timeOf(doc, now);
  if (!time) return refusal('created_at must be an ISO 8601 date-time');
  const eventType = typeof doc['eventType'] === 'string' && doc['eventType'] ? doc['eventType'] : '<none>';
  doc['eventType'] = eventType;
  for (const field of ['carbs', 'insulin', 'glucose', 'duration', 'protein', 'fat']) {
    if (doc[field] === undefined || doc[field] === null || doc[field] === '') continue;
    const n = numberOf(doc[field]);
    if (n === null) return refusal(`${field} must be a number`);
    doc[field] = n;
  }
  const clientId = clientIdentifier(raw);
  return {
    instantMs: time.ms,
    dedupeKey: `${eventType}|${time.ms}`,
    identifier: clientId ?? nightscoutIdentifier({ device: doc['device'], date: time.ms, eventType }),
    doc,
  };
}

/** A v1 device status: `created_at` as for treatments; deduplicated on device + created_at. */
export function normalizeDeviceStatus(raw: unknown, now: number): NormalizedDocument | NightscoutRefusal {
  if (!isPlainObject(raw)) return refusal('each device status must be a JSON object');
  const doc = withoutSecret(raw);
  const time = timeOf(doc, now);
  if (!time) return refusal('created_at must be an ISO 8601 date-time');
  return {
    instantMs: time.ms,
    dedupeKey: `${String(doc['device'])}|${time.ms}`,
    identifier: clientIdentifier(raw) ?? nightscoutIdentifier({ device: doc['device'], date: time.ms }),
    doc,
  };
}

/**
 * A v1 profile (Loop and AndroidAPS upload theirs): its time is `created_at`, else `startDate`,
 * else now; deduplicated on the identifier (`_id`), then on created_at, as API v3 does.
 */
export function normalizeProfile(raw: unknown, now: number): NormalizedDocument | NightscoutRefusal {
  if (!isPlainObject(raw)) return refusal('each profile must be a JSON object');
  const doc = withoutSecret(raw);
  if (doc['created_at'] === undefined && typeof doc['startDate'] === 'string') doc['created_at'] = doc['startDate'];
  const time = timeOf(doc, now);
  if (!time) return refusal('created_at must be an ISO 8601 date-time');
  return {
    instantMs: time.ms,
    dedupeKey: `created_at|${time.ms}`,
    identifier: clientIdentifier(raw) ?? nightscoutIdentifier({ device: doc['device'], date: time.ms }),
    doc,
  };
}

/** The uploader's own battery in a device status (xDrip+, AndroidAPS, Loop), 0-100, or null. */
export function uploaderBattery(doc: Record<string, unknown>): number | null {
  const uploader = doc['uploader'];
  const value = numberOf(isPlainObject(uploader) ? uploader['battery'] : doc['uploaderBattery']);
  return value !== null && value >= 0 && value <= 100 ? Math.round(value) : null;
}

function withoutSecret(raw: Record<string, unknown>): Record<string, unknown> {
  const doc = { ...raw };
  delete doc['secret'];
  delete doc['_id'];
  return doc;
}

function clientIdentifier(raw: Record<string, unknown>): string | undefined {
  for (const field of ['identifier', '_id']) {
    const value = raw[field];
    if (typeof value === 'string' && value.trim() !== '' && value.length <= 128) return value;
  }
  return undefined;
}

/** created_at (or date, mills) of a treatment or device status, rewritten as ISO UTC; now without one. */
function timeOf(doc: Record<string, unknown>, now: number): { ms: number; utcOffset: number } | null {
  const given = doc['created_at'];
  let time: { ms: number; utcOffset: number } | null;
  if (typeof given === 'string' && given !== '') time = parseDateString(given);
  else {
    const ms = numberOf(given) ?? numberOf(doc['date']) ?? numberOf(doc['mills']);
    time = { ms: ms !== null && ms > 0 ? Math.trunc(ms) : now, utcOffset: 0 };
  }
  if (!time) return null;
  doc['created_at'] = new Date(time.ms).toISOString();
  if (doc['utcOffset'] === undefined) doc['utcOffset'] = time.utcOffset;
  return time;
}

// --- Identifiers ----------------------------------------------------------------------------------

/** Nightscout's UUIDv5 namespace: the 16 ASCII bytes of "NightscoutRocks!". */
const NIGHTSCOUT_NAMESPACE = Buffer.from('NightscoutRocks!', 'ascii');

/** RFC 4122 version 5 UUID (SHA-1) of `name` in a 16-byte namespace. */
export function uuidV5(name: string, namespace: Uint8Array = NIGHTSCOUT_NAMESPACE): string {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * API v3's identifier of a document, byte for byte as Nightscout's calculateIdentifier: UUIDv5 of
 * `${device}_${date}` (plus `_${eventType}` for treatments), where a missing device is the text
 * "undefined", as JavaScript writes it.
 */
export function nightscoutIdentifier(doc: { device?: unknown; date: unknown; eventType?: unknown }): string {
  let key = `${String(doc.device)}_${String(doc.date)}`;
  if (doc.eventType) key += `_${String(doc.eventType)}`;
  return uuidV5(key);
}

/** A v1 `_id`: 24 hex characters (the shape of a MongoDB ObjectId) derived from the identifier. */
export function objectIdFor(scope: string, collection: string, dedupeKey: string): string {
  return createHash('sha1').update(`${scope}\0${collection}\0${dedupeKey}`).digest('hex').slice(0, 24);
}

// --- API v3 ---------------------------------------------------------------------------------------

/** Nightscout API v3's messages (lib/api3/const.json), byte for byte: clients branch on them. */
export const V3_MESSAGES = {
  badRequestBody: 'Bad or missing request body',
  badIdentifier: 'Bad or missing identifier field',
  badDate: 'Bad or missing date field',
  badUtcOffset: 'Bad or missing utcOffset field',
  badApp: 'Bad or missing app field',
  badLimit: 'Parameter limit out of tolerance',
  badSkip: 'Parameter skip out of tolerance',
  sortAndSortDesc: 'Parameters sort and sort_desc cannot be combined',
  unsupportedOperator: 'Unsupported filter operator {0}',
  badLastModified: 'Bad or missing Last-Modified header/parameter',
  badToken: 'Bad access token or JWT',
  missingToken: 'Missing or bad access token or JWT',
  missingPermission: 'Missing permission {0}',
  badOperation: 'Bad operation or collection',
  readOnly: 'Trying to modify read-only document',
  storageError: 'Database error',
} as const;

export const V3_MIN_TIMESTAMP = 946_684_800_000;
export const V3_MIN_UTC_OFFSET = -1440;
export const V3_MAX_UTC_OFFSET = 1440;
export const V3_MAX_LIMIT = 1000;

/**
 * A v3 document to create, as Nightscout's create operation prepares and validates it: `date` from
 * `date` or `created_at` (any form moment reads: ms, or an ISO string), `utcOffset` from it when
 * absent, `created_at` rewritten from `date`; then date > 946684800000, utcOffset -1440..1440 and a
 * non-blank `app`. Answers the message of the first rule broken (in Nightscout's order), or the doc.
 */
export function prepareV3Document(
  body: unknown,
  collection: string,
): { ok: true; doc: Record<string, unknown>; identifier: string } | { ok: false; message: string } {
  if (!isPlainObject(body) || Object.keys(body).length === 0) return { ok: false, message: V3_MESSAGES.badRequestBody };
  const doc: Record<string, unknown> = { ...body };
  delete doc['secret'];
  const parsed = v3Moment(doc['date']) ?? v3Moment(doc['created_at']);
  if (parsed) {
    doc['date'] = parsed.ms;
    if (doc['utcOffset'] === undefined) doc['utcOffset'] = parsed.utcOffset;
    doc['created_at'] = new Date(parsed.ms).toISOString();
  }
  const identifier =
    typeof doc['identifier'] === 'string' && doc['identifier'].trim() !== ''
      ? doc['identifier']
      : nightscoutIdentifier({
          device: doc['device'],
          date: doc['date'],
          eventType: collection === 'treatments' ? doc['eventType'] : undefined,
        });
  doc['identifier'] = identifier;
  const message = v3CommonError(doc);
  return message ? { ok: false, message } : { ok: true, doc, identifier };
}

/** Nightscout's validateCommon: the first broken rule's message, or null. */
export function v3CommonError(doc: Record<string, unknown>): string | null {
  const { date, utcOffset, app } = doc;
  if (typeof date !== 'number' || !(date > V3_MIN_TIMESTAMP)) return V3_MESSAGES.badDate;
  if (typeof utcOffset !== 'number' || !(utcOffset >= V3_MIN_UTC_OFFSET && utcOffset <= V3_MAX_UTC_OFFSET)) {
    return V3_MESSAGES.badUtcOffset;
  }
  if (typeof app !== 'string' || app.trim() === '') return V3_MESSAGES.badApp;
  return null;
}

/**
 * dateTools' parse of one value: a number (or numeric string) of ms, or of seconds when it is
 * below 946684800000 as ms; or an ISO string with its offset. Null before 2000-01-01.
 */
function v3Moment(value: unknown): { ms: number; utcOffset: number } | null {
  let parsed: { ms: number; utcOffset: number } | null = null;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) value = Number(value);
  if (typeof value === 'number' && Number.isFinite(value)) {
    const ms = value < V3_MIN_TIMESTAMP ? value * 1000 : value;
    parsed = { ms: Math.trunc(ms), utcOffset: 0 };
  } else if (typeof value === 'string' && value !== '') {
    parsed = parseDateString(value);
  }
  return parsed && parsed.ms >= V3_MIN_TIMESTAMP ? parsed : null;
}

export * from './nightscout-followers.ts';
