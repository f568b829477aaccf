import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { FailureCounter } from '../realtime/auth-throttle.ts';
import { recordAudit } from '../audit/trail.ts';
import { createNightscoutAuthenticator, type NightscoutAuth, type NightscoutAuthenticator } from './auth.ts';
import type { Ingest } from './entries.ts';
import { nightscoutV1, refuse } from './v1.ts';
import { nightscoutV3 } from './v3.ts';

/** Nightscout's API paths: everything under them is answered here, never by the People API. */
export const NIGHTSCOUT_PATHS = ['/api/v1', '/api/v2', '/api/v3'];

/**
 * The largest body, once inflated (gzip or not): a 30-day back-fill of 1-minute entries (43,200 of
 * about 210 bytes as Juggluco writes them, 9 MB) fits; beyond it the answer is 413, not a crash.
 */
export const NIGHTSCOUT_BODY_LIMIT = '16mb';

export interface NightscoutDependencies {
  db: pg.Pool;
  log: Logger;
  /** Failed credentials, per credential presented and per address (shared by the servers). */
  throttle: FailureCounter;
  ingest: Ingest;
}

/**
 * The Nightscout REST API at the host root (docs/nightscout.md), so every uploader app's own
 * `/api/v1/...` paths reach it. Bodies may be gzipped (xDrip+) and JSON of any declared text type;
 * errors have Nightscout's shapes.
 */
export function nightscoutRouter(deps: NightscoutDependencies): Router {
  const auth = auditedReads(createNightscoutAuthenticator(deps.db, deps.throttle), deps);
  const router = Router();
  router.use(
    NIGHTSCOUT_PATHS,
    express.json({ limit: NIGHTSCOUT_BODY_LIMIT, type: ['application/json', 'application/*+json', 'text/plain'] }),
  );
  router.use(nightscoutV1({ db: deps.db, auth, ingest: deps.ingest }));
  router.use(nightscoutV3({ db: deps.db, auth, ingest: deps.ingest }));
  router.use(NIGHTSCOUT_PATHS, (_req, res) => refuse(res, 404, 'Not Found'));
  router.use(NIGHTSCOUT_PATHS, nightscoutErrors(deps.log));
  return router;
}

/** Reads that carry no patient data: the server's own status and the credential check. */
const NOT_PATIENT_DATA = /^\/api\/v[13]\/(status(\.json)?|verifyauth|experiments\/test|version)\/?$/;

/**
 * Every read of patient data through the Nightscout API is an access to be logged (Patientdatalagen
 * 4:3): once the answer is sent (200 or 304), one `nightscout.read` event names the device or the
 * follower, the patient, the collection and the address. Writes are logged as readings are: by the
 * data they store.
 */
function auditedReads(auth: NightscoutAuthenticator, deps: NightscoutDependencies): NightscoutAuthenticator {
  const note = (req: Request, res: Response, verdict: NightscoutAuth) => {
    if (req.method !== 'GET' || NOT_PATIENT_DATA.test(req.path)) return;
    const reader =
      verdict.state === 'device'
        ? { actor: { kind: 'device' as const, deviceId: verdict.device.deviceId }, of: verdict.device }
        : verdict.state === 'follower'
          ? { actor: { kind: 'follower' as const, followerId: verdict.follower.followerId }, of: verdict.follower }
          : undefined;
    if (!reader) return;
    res.once('finish', () => {
      if (res.statusCode >= 400) return;
      recordAudit(deps.db, {
        action: 'nightscout.read',
        actor: reader.actor,
        patientId: reader.of.patientId,
        teamId: reader.of.teamId,
        origin: req.ip ?? null,
        detail: { path: req.path.split('/').slice(0, 5).join('/'), status: res.statusCode },
      }).catch((err: Error) => deps.log.error({ err: err.message }, 'nightscout read not audited'));
    });
  };
  return {
    async authenticate(req, options) {
      const verdict = await auth.authenticate(req, options);
      if (req.res) note(req, req.res, verdict);
      return verdict;
    },
    byToken: (req, token) => auth.byToken(req, token),
  };
}

function nightscoutErrors(log: Logger): ErrorRequestHandler {
  return (err: { status?: number; type?: string; message?: string }, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (err.type === 'entity.too.large') {
      return refuse(res, 413, `the body is larger than ${NIGHTSCOUT_BODY_LIMIT}; send the entries in smaller requests`);
    }
    if (err.type === 'entity.parse.failed') return refuse(res, 400, 'the body is not valid JSON');
    if (err.type === 'encoding.unsupported')
      return refuse(res, 415, 'Content-Encoding must be gzip, deflate or identity');
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      return refuse(res, err.status, 'the request body could not be read');
    }
    log.error({ err: err.message }, 'nightscout request failed');
    res.set('retry-after', '1');
    refuse(res, 503, 'the data could not be stored now; send it again later');
  };
}
