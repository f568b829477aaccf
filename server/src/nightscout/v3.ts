import { Router, type Request, type Response } from 'express';
import type pg from 'pg';
import {
  deleteNightscoutDocument,
  nightscoutDocument,
  nightscoutHistory,
  nightscoutLastModified,
  patchNightscoutDocument,
  recordUploaderStatus,
  searchNightscoutDocuments,
  storeNightscoutDocuments,
  NIGHTSCOUT_FIELD,
  type NightscoutCollection,
  type NightscoutDevice,
  type NightscoutFilter,
  type StoredNightscoutDocument,
} from '@glucoboard/core/storage';
import {
  isPlainObject,
  objectIdFor,
  parseDateString,
  prepareV3Document,
  uploaderBattery,
  v3CommonError,
  V3_MAX_LIMIT,
  V3_MESSAGES,
} from '@glucoboard/core/wire';
import { throttled, type NightscoutAuthenticator } from './auth.ts';
import { acceptEntries, type Ingest } from './entries.ts';
import { DEVICE_PERMISSIONS, FOLLOWER_PERMISSIONS, NIGHTSCOUT_VERSION } from './v1.ts';

const API3_VERSION = '3.0.5';
const COLLECTIONS: readonly NightscoutCollection[] = [
  'entries',
  'treatments',
  'devicestatus',
  'profile',
  'food',
  'settings',
];

/**
 * Nightscout's dedupFallbackFields (lib/api3/index.js) as a key: besides the identifier, a document
 * equal in these is the same document. Settings have none. Entries are keyed by normalizeEntry.
 */
function fallbackKey(collection: NightscoutCollection, doc: Record<string, unknown>, identifier: string): string {
  const date = String(doc['date']);
  switch (collection) {
    case 'treatments':
      return `${String(doc['eventType'] ?? '<none>')}|${date}`;
    case 'devicestatus':
      return `${String(doc['device'])}|${date}`;
    case 'profile':
    case 'food':
      return `created_at|${date}`;
    default:
      return `identifier|${identifier}`;
  }
}

export interface V3Dependencies {
  db: pg.Pool;
  auth: NightscoutAuthenticator;
  ingest: Ingest;
}

/** Nightscout v3's error body: { status, message }, the message byte for byte (clients branch on it). */
function status(res: Response, code: number, message?: string): void {
  res.status(code).json(message === undefined ? { status: code } : { status: code, message });
}

/** Who calls: the patient reached, with the device when it is an uploader (a follower only reads). */
interface Caller {
  patientId: string;
  device?: NightscoutDevice;
  permissions: readonly string[];
}

/** Shiro-style check of the caller's permissions: `api:*:read` and `*:*:read` grant `api:entries:read`. */
function permitted(caller: Caller, permission: string): boolean {
  const wanted = permission.split(':');
  return caller.permissions.some((granted) =>
    granted.split(':').every((part, i) => part === '*' || part === wanted[i]),
  );
}

/** The uploading device of a caller with the permission, or the answered 403 Nightscout gives. */
function uploaderOf(res: Response, caller: Caller, permission: string): NightscoutDevice | undefined {
  if (caller.device && permitted(caller, permission)) return caller.device;
  status(res, 403, V3_MESSAGES.missingPermission.replace('{0}', permission));
  return undefined;
}

const v3Document = (stored: StoredNightscoutDocument): Record<string, unknown> => {
  const doc: Record<string, unknown> = { ...stored.doc };
  delete doc['_id'];
  return { ...doc, identifier: stored.identifier, srvModified: stored.srvModified, srvCreated: stored.srvCreated };
};

/**
 * API v3 (AndroidAPS NSClientV3), as cgm-remote-monitor's lib/api3: entries, treatments and
 * devicestatus with create, search, read and history. Bearer JWT only (from
 * /api/v2/authorization/request/<token>).
 */
export function nightscoutV3(deps: V3Dependencies): Router {
  const { db } = deps;
  const router = Router();

  /** The request's caller with the permission, or an answered 401/403/429. */
  async function callerOf(req: Request, res: Response, permission?: string): Promise<Caller | undefined> {
    const verdict = await deps.auth.authenticate(req, { jwtOnly: true });
    if (verdict.state === 'throttled') return void throttled(res, verdict.retryAfterMs);
    if (verdict.state === 'anonymous') return void status(res, 401, V3_MESSAGES.missingToken);
    if (verdict.state === 'refused') return void status(res, 401, V3_MESSAGES.badToken);
    const caller: Caller =
      verdict.state === 'device'
        ? { patientId: verdict.device.patientId, device: verdict.device, permissions: DEVICE_PERMISSIONS }
        : { patientId: verdict.follower.patientId, permissions: FOLLOWER_PERMISSIONS };
    if (permission && !permitted(caller, permission)) {
      return void status(res, 403, V3_MESSAGES.missingPermission.replace('{0}', permission));
    }
    return caller;
  }

  const about = () => ({
    version: NIGHTSCOUT_VERSION,
    apiVersion: API3_VERSION,
    srvDate: Date.now(),
    storage: { storage: 'postgresql', version: '15' },
  });

  router.get('/api/v3/version', (_req, res) => {
    res.json({ status: 200, result: about() });
  });

  router.get('/api/v3/status', async (req, res) => {
    const caller = await callerOf(req, res);
    if (!caller) return;
    // As lib/api3/specific/status: the letters of what the caller may do with each collection.
    const letters = (c: NightscoutCollection) =>
      (['create', 'read', 'update', 'delete'] as const)
        .filter((op) => permitted(caller, `api:${c}:${op}`))
        .map((op) => op[0])
        .join('');
    const apiPermissions = Object.fromEntries(COLLECTIONS.map((c) => [c, letters(c)]));
    res.json({ status: 200, result: { ...about(), apiPermissions } });
  });

  router.get('/api/v3/lastModified', async (req, res) => {
    const caller = await callerOf(req, res);
    if (!caller) return;
    const collections = await nightscoutLastModified(db, caller.patientId);
    res.json({ status: 200, result: { srvDate: Date.now(), collections } });
  });

  for (const collection of COLLECTIONS) {
    const base = `/api/v3/${collection}`;

    router.post(base, async (req, res) => {
      const caller = await callerOf(req, res);
      if (!caller) return;
      const prepared = prepareV3Document(req.body, collection);
      if (!prepared.ok) return status(res, 400, prepared.message);
      const device = uploaderOf(res, caller, `api:${collection}:create`);
      if (!device) return;
      const stored = await create(device, collection, prepared.doc, prepared.identifier);
      if (!stored) return status(res, 500, V3_MESSAGES.storageError);
      if ('refused' in stored) return status(res, 400, stored.refused);
      res.set('last-modified', new Date(stored.srvModified).toUTCString());
      res.set('location', `${base}/${prepared.identifier}`);
      if (stored.created) {
        return void res
          .status(201)
          .json({ status: 201, identifier: stored.identifier, lastModified: stored.srvModified });
      }
      res.status(200).json({
        status: 200,
        identifier: prepared.identifier,
        isDeduplication: true,
        ...(stored.identifier !== prepared.identifier ? { deduplicatedIdentifier: stored.identifier } : {}),
        lastModified: stored.srvModified,
      });
    });

    router.get(base, async (req, res) => {
      const caller = await callerOf(req, res, `api:${collection}:read`);
      if (!caller) return;
      const query = v3Query(req, collection);
      if (typeof query === 'string') return status(res, 400, query);
      const found = await searchNightscoutDocuments(db, caller.patientId, query);
      res.json({ status: 200, result: found.map(v3Document) });
    });

    router.get([`${base}/history`, `${base}/history/:lastModified`], async (req, res) => {
      const caller = await callerOf(req, res, `api:${collection}:read`);
      if (!caller) return;
      const limit = limitOf(req);
      if (limit === null) return status(res, 400, V3_MESSAGES.badLimit);
      let since: number;
      const param = (req.params as Record<string, string | undefined>)['lastModified'];
      if (param !== undefined) {
        const ms = /^\d+$/.test(param) ? Number(param) : parseDateString(param)?.ms;
        if (ms === undefined) return status(res, 400, V3_MESSAGES.badLastModified);
        since = ms; // strictly newer
      } else {
        const header = Date.parse(req.get('last-modified') ?? '');
        if (Number.isNaN(header)) return status(res, 400, V3_MESSAGES.badLastModified);
        since = Math.floor(header / 1000) * 1000 - 1; // this second or newer
      }
      const found = await nightscoutHistory(db, caller.patientId, collection, since, limit);
      if (found.length > 0) {
        const newest = Math.max(...found.map((d) => d.srvModified));
        res.set('last-modified', new Date(newest).toUTCString());
        res.set('etag', `W/"${newest}"`);
      }
      res.json({ status: 200, result: found.map(v3Document) });
    });

    router.get(`${base}/:identifier`, async (req, res) => {
      const caller = await callerOf(req, res, `api:${collection}:read`);
      if (!caller) return;
      const found = await nightscoutDocument(db, caller.patientId, collection, req.params['identifier']!);
      if (!found) return status(res, 404);
      res.set('last-modified', new Date(found.srvModified).toUTCString());
      res.json({ status: 200, result: v3Document(found) });
    });
  }

  for (const collection of COLLECTIONS) {
    const item = `/api/v3/${collection}/:identifier`;

    // PATCH (lib/api3/generic/patch): the fields merged in; identifier and server dates are the server's.
    router.patch(item, async (req, res) => {
      const caller = await callerOf(req, res);
      if (!caller) return;
      const fields: unknown = req.body;
      if (!isPlainObject(fields) || Object.keys(fields).length === 0) {
        return status(res, 400, V3_MESSAGES.badRequestBody);
      }
      const device = uploaderOf(res, caller, `api:${collection}:update`);
      if (!device) return;
      const identifier = String(req.params['identifier']);
      const stored = await nightscoutDocument(db, device.patientId, collection, identifier);
      if (!stored || stored.identifier !== identifier) return status(res, 404);
      if (stored.doc['isValid'] === false) return status(res, 410);
      const since = Date.parse(req.get('if-unmodified-since') ?? '');
      if (!Number.isNaN(since) && Math.floor(stored.srvModified / 1000) * 1000 > Math.floor(since / 1000) * 1000) {
        return status(res, 412);
      }
      const patch: Record<string, unknown> = { ...fields };
      for (const field of ['identifier', 'srvModified', 'srvCreated', 'secret', '_id']) delete patch[field];
      const message = v3CommonError({ ...stored.doc, ...patch });
      if (message) return status(res, 400, message);
      const patched = await patchNightscoutDocument(db, device.patientId, collection, identifier, patch);
      if (!patched) return status(res, 404);
      res.set('last-modified', new Date(patched.srvModified).toUTCString());
      status(res, 200);
    });

    // DELETE (lib/api3/generic/delete): marked isValid false, or removed with ?permanent=true.
    router.delete(item, async (req, res) => {
      const caller = await callerOf(req, res);
      if (!caller) return;
      const device = uploaderOf(res, caller, `api:${collection}:delete`);
      if (!device) return;
      const identifier = String(req.params['identifier']);
      const stored = await nightscoutDocument(db, device.patientId, collection, identifier);
      if (!stored || stored.identifier !== identifier) return void res.status(404).end();
      if (stored.doc['isReadOnly'] === true) return status(res, 422, V3_MESSAGES.readOnly);
      const permanent = req.query['permanent'] === 'true';
      if (!(await deleteNightscoutDocument(db, device.patientId, collection, identifier, permanent))) {
        return void res.status(404).end();
      }
      res.status(204).end();
    });
  }

  router.use('/api/v3', (_req, res) => status(res, 404, V3_MESSAGES.badOperation));

  /** Stores a prepared document: entries through ingest (so they are readings), the rest as documents. */
  async function create(
    device: NightscoutDevice,
    collection: NightscoutCollection,
    doc: Record<string, unknown>,
    identifier: string,
  ): Promise<StoredNightscoutDocument | { refused: string } | undefined> {
    if (collection === 'entries') {
      const outcome = await acceptEntries(db, deps.ingest, device, [doc], { v3: true });
      if (!outcome.ok && outcome.status === 400) return { refused: outcome.message };
      if (!outcome.ok) throw new Error(outcome.message);
      return outcome.stored[0];
    }
    const dedupeKey = fallbackKey(collection, doc, identifier);
    if (collection === 'devicestatus') await recordUploaderStatus(db, device.deviceId, uploaderBattery(doc));
    const [stored] = await storeNightscoutDocuments(db, [
      {
        collection,
        patientId: device.patientId,
        deviceSerial: device.deviceId,
        scope: device.patientId,
        dedupeKey,
        identifier,
        objectId: objectIdFor(device.patientId, collection, dedupeKey),
        dateMs: doc['date'] as number,
        doc,
      },
    ]);
    return stored;
  }

  return router;
}

function limitOf(req: Request): number | null {
  const given = req.query['limit'];
  if (given === undefined) return V3_MAX_LIMIT;
  const n = Number(given);
  return typeof given === 'string' && Number.isFinite(n) && n > 0 && n <= V3_MAX_LIMIT ? Math.trunc(n) : null;
}

const RESERVED = new Set(['token', 'sort', 'sort$desc', 'limit', 'skip', 'fields', 'now']);
const OPERATORS = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte']);
const NS_OPERATORS = new Set([...OPERATORS, 'in', 'nin', 're']);

/** v3 search's query string (lib/api3/generic/search/input.js): filters `field$op=value`, sort, limit, skip. */
function v3Query(req: Request, collection: NightscoutCollection) {
  const limit = limitOf(req);
  if (limit === null) return V3_MESSAGES.badLimit;
  const { sort, sort$desc: sortDesc, skip: skipGiven } = req.query as Record<string, string | undefined>;
  if (sort && sortDesc) return V3_MESSAGES.sortAndSortDesc;
  let skip = 0;
  if (skipGiven !== undefined) {
    const n = Number(skipGiven);
    if (!Number.isFinite(n) || n < 0) return V3_MESSAGES.badSkip;
    skip = Math.trunc(n);
  }
  const filters: NightscoutFilter[] = [];
  for (const [param, raw] of Object.entries(req.query)) {
    if (RESERVED.has(param) || typeof raw !== 'string') continue;
    const m = /(.*)\$([a-zA-Z]+)/.exec(param);
    const field = m ? m[1]! : param;
    const op = m ? m[2]! : 'eq';
    if (!NS_OPERATORS.has(op) || !OPERATORS.has(op)) return V3_MESSAGES.unsupportedOperator.replace('{0}', op);
    if (!NIGHTSCOUT_FIELD.test(field)) return `Unsupported filter field ${field}`;
    const value = valueOf(field, raw);
    const time = field === 'date' || field === 'created_at';
    if (time && typeof value !== 'number') return V3_MESSAGES.badDate;
    filters.push({ field: time ? 'date' : field, op: op as NightscoutFilter['op'], value });
  }
  const sortField = sortDesc ?? sort;
  if (sortField !== undefined && !NIGHTSCOUT_FIELD.test(sortField)) return `Unsupported sort field ${sortField}`;
  return {
    collection,
    filters,
    limit,
    skip,
    sort: { field: sortField ?? 'identifier', descending: sortDesc !== undefined },
  };
}

/** parseValue: numbers, booleans, 'quoted' strings; times of date, srvModified, srvCreated, created_at as ms. */
function valueOf(field: string, raw: string): string | number | boolean {
  let value: string | number | boolean = raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (value === 'true') value = true;
  if (value === 'false') value = false;
  if (typeof value === 'string' && value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
    value = value.slice(1, -1);
  }
  if (['date', 'srvModified', 'srvCreated', 'created_at'].includes(field) && typeof value === 'string') {
    value = parseDateString(value)?.ms ?? value;
  }
  return value;
}
