import { Router, type Request, type Response } from 'express';
import type pg from 'pg';
import {
  nightscoutDocument,
  nightscoutThresholds,
  recordUploaderStatus,
  replaceNightscoutDocument,
  searchNightscoutDocuments,
  storeNightscoutDocuments,
  NIGHTSCOUT_FIELD,
  type NightscoutCollection,
  type NightscoutDevice,
  type NightscoutDocumentToStore,
  type NightscoutFilter,
} from '@glucoboard/core/storage';
import { MGDL_PER_MMOL } from '@glucoboard/core/domain';
import {
  entriesOf,
  normalizeDeviceStatus,
  normalizeProfile,
  normalizeTreatment,
  objectIdFor,
  parseDateString,
  uploaderBattery,
  type NormalizedDocument,
} from '@glucoboard/core/wire';
import { throttled, unauthorized, type NightscoutAuth, type NightscoutAuthenticator } from './auth.ts';
import { issueJwt } from './credential.ts';
import { acceptEntries, v1Document, type Ingest } from './entries.ts';

/** What status.json says this server is: a Nightscout 15 (clients treat 0.x versions as old). */
export const NIGHTSCOUT_VERSION = '15.0.3';

/** What one v1 GET answers at most (`count` beyond this is cut). */
const MAX_COUNT = 50_000;

/**
 * A device credential may read, create, update and delete (v3's soft delete) its own patient's
 * Nightscout documents, nothing else: no admin, no other patient. Readings are never deleted.
 */
export const DEVICE_PERMISSIONS = ['api:*:read', 'api:*:create', 'api:*:update', 'api:*:delete'];

/** A follower's credential reads its patient's documents, as Nightscout's 'readable' role: nothing else. */
export const FOLLOWER_PERMISSIONS = ['*:*:read'];

/** The patient whose data an admitted credential reaches (a device's or a follower's). */
export function patientOf(verdict: NightscoutAuth): string | undefined {
  if (verdict.state === 'device') return verdict.device.patientId;
  if (verdict.state === 'follower') return verdict.follower.patientId;
  return undefined;
}

export interface V1Dependencies {
  db: pg.Pool;
  auth: NightscoutAuthenticator;
  ingest: Ingest;
}

/** `/entries.json` is `/entries`: the `.json` suffix of Nightscout's paths is optional. */
const paths = (...base: string[]) => base.flatMap((p) => [p, `${p}.json`]);

export function nightscoutV1(deps: V1Dependencies): Router {
  const { db, auth } = deps;
  const router = Router();

  /**
   * The request's device, or an answered 401/429. A follower's credential writing is answered as
   * Nightscout answers a read-only token: the same 401 as a wrong secret.
   */
  async function deviceOf(req: Request, res: Response): Promise<NightscoutDevice | undefined> {
    const verdict = await deps.auth.authenticate(req);
    if (verdict.state === 'device') return verdict.device;
    if (verdict.state === 'throttled') throttled(res, verdict.retryAfterMs);
    else unauthorized(res);
    return undefined;
  }

  /** The patient a reader (device or follower) may read, or an answered 401/429. */
  async function readerOf(req: Request, res: Response): Promise<string | undefined> {
    const verdict = await deps.auth.authenticate(req);
    const patientId = patientOf(verdict);
    if (patientId) return patientId;
    if (verdict.state === 'throttled') throttled(res, verdict.retryAfterMs);
    else unauthorized(res);
    return undefined;
  }

  router.get(paths('/api/v1/status'), async (req, res) => {
    const verdict = await auth.authenticate(req);
    if (verdict.state === 'throttled') return throttled(res, verdict.retryAfterMs);
    const patientId = patientOf(verdict);
    const thresholds = patientId ? await nightscoutThresholds(db, patientId) : undefined;
    // Without a credential: SPEC's default thresholds, nothing of any patient.
    const t = thresholds ?? { urgentLow: 3.0, low: 4.0, high: 13.9, urgentHigh: 20.0 };
    const mgdl = (mmol: number) => Math.round(mmol * MGDL_PER_MMOL);
    const now = new Date();
    res.json({
      status: 'ok',
      name: 'Glucoboard',
      version: NIGHTSCOUT_VERSION,
      serverTime: now.toISOString(),
      serverTimeEpoch: now.getTime(),
      apiEnabled: true,
      careportalEnabled: true,
      boluscalcEnabled: false,
      settings: {
        units: 'mmol',
        enable: ['careportal', 'devicestatus'],
        authDefaultRoles: 'denied',
        thresholds: {
          bgHigh: mgdl(t.urgentHigh),
          bgTargetTop: mgdl(t.high),
          bgTargetBottom: mgdl(t.low),
          bgLow: mgdl(t.urgentLow),
        },
      },
      extendedSettings: {},
      authorized: null,
    });
  });

  router.get('/api/v1/verifyauth', async (req, res) => {
    const verdict = await auth.authenticate(req);
    if (verdict.state === 'throttled') return throttled(res, verdict.retryAfterMs);
    // As Nightscout: a read-only token is 'OK' (found, by role) but may not write.
    const ok = patientOf(verdict) !== undefined;
    res.json({
      status: 200,
      message: {
        canRead: ok,
        canWrite: verdict.state === 'device',
        isAdmin: false,
        message: ok ? 'OK' : 'UNAUTHORIZED',
        rolefound: ok ? 'FOUND' : 'NOTFOUND',
        permissions: ok ? 'ROLE' : 'DEFAULT',
      },
    });
  });

  // Loop's check of its credentials (a follower has not Nightscout's authorization:debug:test: 401).
  router.get('/api/v1/experiments/test', async (req, res) => {
    if (await deviceOf(req, res)) res.json({ status: 'ok' });
  });

  router.get('/api/v2/authorization/request/:token', async (req, res) => {
    const verdict = await auth.byToken(req, req.params.token);
    if (verdict.state === 'throttled') return throttled(res, verdict.retryAfterMs);
    if (verdict.state !== 'device' && verdict.state !== 'follower') return unauthorized(res);
    const credential =
      verdict.state === 'device'
        ? ({ kind: 'device', device: verdict.device } as const)
        : ({ kind: 'follower', follower: verdict.follower } as const);
    const jwt = await issueJwt(db, credential);
    res.json({
      token: jwt.token,
      sub: verdict.state === 'device' ? verdict.device.deviceId : verdict.follower.name,
      permissionGroups: [verdict.state === 'device' ? DEVICE_PERMISSIONS : FOLLOWER_PERMISSIONS],
      iat: jwt.iat,
      exp: jwt.exp,
    });
  });

  // --- Entries ----------------------------------------------------------------------------------

  router.post(paths('/api/v1/entries'), async (req, res) => {
    const device = await deviceOf(req, res);
    if (!device) return;
    const outcome = await acceptEntries(db, deps.ingest, device, entriesOf(req.body));
    if (!outcome.ok) return refuse(res, outcome.status, outcome.message, outcome.retryAfterMs);
    res.json(outcome.stored.map(v1Document));
  });

  const listEntries = async (req: Request, res: Response, type: string | undefined, count?: number) => {
    const patientId = await readerOf(req, res);
    if (!patientId) return;
    const query = v1Query(req, 'entries', count);
    if (typeof query === 'string') return refuse(res, 400, query);
    if (type) query.filters.push({ field: 'type', op: 'eq', value: type });
    const found = await searchNightscoutDocuments(db, patientId, query);
    const newest = found[0] ? Number(found[0].doc['date']) : undefined;
    if (newest !== undefined && Number.isFinite(newest)) {
      res.set('last-modified', new Date(newest).toUTCString());
      const since = Date.parse(req.get('if-modified-since') ?? '');
      // HTTP dates have whole seconds: the Last-Modified sent back means "nothing newer".
      if (Math.floor(newest / 1000) * 1000 <= since) {
        return void res.status(304).end();
      }
    }
    res.json(found.map(v1Document));
  };

  router.get(paths('/api/v1/entries'), (req, res) => listEntries(req, res, undefined));
  router.get('/api/v1/entries/:spec', async (req, res) => {
    const spec = req.params.spec.replace(/\.json$/, '');
    if (spec === 'current') return listEntries(req, res, undefined, 1);
    if (/^[0-9a-f]{24}$/.test(spec)) {
      const patientId = await readerOf(req, res);
      if (!patientId) return;
      const found = await nightscoutDocument(db, patientId, 'entries', spec);
      return found ? res.json([v1Document(found)]) : refuse(res, 404, `No such id: '${spec}'`);
    }
    return listEntries(req, res, spec);
  });

  // --- Treatments and device status -------------------------------------------------------------

  const documentsOf = (
    device: NightscoutDevice,
    collection: NightscoutCollection,
    docs: NormalizedDocument[],
  ): NightscoutDocumentToStore[] =>
    docs.map((d) => ({
      collection,
      patientId: device.patientId,
      deviceSerial: device.deviceId,
      // A Nightscout server is one patient: its treatments are deduplicated across its uploaders.
      scope: device.patientId,
      dedupeKey: d.dedupeKey,
      identifier: d.identifier,
      objectId: objectIdFor(device.patientId, collection, d.dedupeKey),
      dateMs: d.instantMs,
      doc: d.doc,
    }));

  const normalizeAll = (
    body: unknown,
    normalize: typeof normalizeTreatment,
  ): NormalizedDocument[] | { message: string } => {
    const now = Date.now();
    const docs: NormalizedDocument[] = [];
    for (const [index, raw] of entriesOf(body).entries()) {
      const doc = normalize(raw, now);
      if ('ok' in doc) return { message: `document ${index}: ${doc.message}` };
      docs.push(doc);
    }
    return docs;
  };

  // Treatments and profiles: POST stores (deduplicated), PUT upserts as Nightscout's does (an
  // edited treatment replaces the one with its _id, or its time and type).
  const documentRoutes = [
    ['treatments', normalizeTreatment],
    ['profile', normalizeProfile],
  ] as const;
  for (const [collection, normalize] of documentRoutes) {
    router.post(paths(`/api/v1/${collection}`), async (req, res) => {
      const device = await deviceOf(req, res);
      if (!device) return;
      const docs = normalizeAll(req.body, normalize);
      if ('message' in docs) return refuse(res, 400, docs.message);
      const stored = await storeNightscoutDocuments(db, documentsOf(device, collection, docs));
      res.json(stored.map(v1Document));
    });
    router.put(paths(`/api/v1/${collection}`), async (req, res) => {
      const device = await deviceOf(req, res);
      if (!device) return;
      const docs = normalizeAll(req.body, normalize);
      if ('message' in docs) return refuse(res, 400, docs.message);
      const stored = [];
      for (const doc of documentsOf(device, collection, docs)) stored.push(await replaceNightscoutDocument(db, doc));
      res.json(Array.isArray(req.body) ? stored.map(v1Document) : v1Document(stored[0]!));
    });
  }

  router.post(paths('/api/v1/devicestatus'), async (req, res) => {
    const device = await deviceOf(req, res);
    if (!device) return;
    const docs = normalizeAll(req.body, normalizeDeviceStatus);
    if ('message' in docs) return refuse(res, 400, docs.message);
    const stored = await storeNightscoutDocuments(db, documentsOf(device, 'devicestatus', docs));
    const latest = docs.reduce<NormalizedDocument | undefined>(
      (a, b) => (!a || b.instantMs >= a.instantMs ? b : a),
      undefined,
    );
    await recordUploaderStatus(db, device.deviceId, latest ? uploaderBattery(latest.doc) : null);
    res.json(stored.map(v1Document));
  });

  for (const collection of ['treatments', 'devicestatus', 'profile'] as const) {
    router.get(paths(`/api/v1/${collection}`), async (req, res) => {
      const patientId = await readerOf(req, res);
      if (!patientId) return;
      const query = v1Query(req, collection);
      if (typeof query === 'string') return refuse(res, 400, query);
      res.json((await searchNightscoutDocuments(db, patientId, query)).map(v1Document));
    });
  }

  return router;
}

/** A Nightscout error body: { status, message } (and Retry-After when the client should wait). */
export function refuse(res: Response, status: number, message: string, retryAfterMs?: number): void {
  if (retryAfterMs !== undefined) res.set('retry-after', String(Math.ceil(retryAfterMs / 1000)));
  res.status(status).json({ status, message });
}

const FIND = /^find\[([^\]]+)\](?:\[\$([a-z]+)\])?$/;
const OPS: Record<string, NightscoutFilter['op']> = { eq: 'eq', ne: 'ne', gt: 'gt', gte: 'gte', lt: 'lt', lte: 'lte' };
/** Time fields whose filters compare instants, whatever form the value is written in. */
const TIME_FIELDS = new Set(['date', 'dateString', 'sysTime', 'created_at']);

/**
 * v1's query string: `count` (default 10) and `find[field]=v` / `find[field][$op]=v` filters
 * (ops eq, ne, gt, gte, lt, lte), newest first. Express's simple query parser leaves the brackets
 * in the keys, so they are read here. Answers a message for anything it cannot do.
 */
export function v1Query(req: Request, collection: NightscoutCollection, count?: number) {
  const filters: NightscoutFilter[] = [];
  let limit = count ?? 10;
  for (const [key, raw] of Object.entries(req.query)) {
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (typeof value !== 'string') continue;
    if (key === 'count' && count === undefined) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) return 'count must be a whole number';
      limit = Math.min(n, MAX_COUNT);
      continue;
    }
    const m = FIND.exec(key);
    if (!m) continue;
    const [, field, opName = 'eq'] = m;
    const op = OPS[opName];
    if (!op) return `unsupported filter operator $${opName}`;
    if (!NIGHTSCOUT_FIELD.test(field!)) return `unsupported filter field ${field}`;
    if (TIME_FIELDS.has(field!)) {
      const ms = /^\d+(\.\d+)?$/.test(value) ? Math.trunc(Number(value)) : parseDateString(value)?.ms;
      if (ms === undefined) return `find[${field}] must be a time: ms since 1970 or ISO 8601`;
      filters.push({ field: 'date', op, value: ms });
    } else {
      filters.push({
        field: field!,
        op,
        value: value !== '' && Number.isFinite(Number(value)) ? Number(value) : value,
      });
    }
  }
  return { collection, filters, limit, sort: { field: 'date', descending: true } };
}
