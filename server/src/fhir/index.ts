import express, { Router, type Request } from 'express';
import { FHIR_JSON } from '@glucoboard/core/fhir';
import type { ApiDependencies } from '../api/context.ts';
import { authenticateFhir, type FhirCaller } from './callers.ts';
import { FhirError, fhirErrors, sendFhir } from './errors.ts';
import { metadata, readPatient, searchObservations } from './read.ts';
import { submitCgmBundle } from './submit.ts';
import { tokenEndpoint } from './token.ts';

/** A back-fill of 90 days of 5-minute CGM readings as a Bundle is about 14 MB. */
const FHIR_BODY_LIMIT = '16mb';

const callerOf = (res: { locals: Record<string, unknown> }) => res.locals['fhirCaller'] as FhirCaller;
const originOf = (req: Request) => req.ip ?? 'unknown';

/**
 * FHIR R4 at /fhir/r4 (docs/fhir.md), conformant to the HL7 CGM IG 1.0.0: the CapabilityStatement,
 * Patient read, Observation search (readings and the CGM summary), $submit-cgm-bundle, and the
 * OAuth 2 token endpoint for API clients. Every answer is application/fhir+json; every refusal an
 * OperationOutcome.
 */
export function fhirRouter(deps: ApiDependencies): Router {
  const db = deps.db.pool;
  const router = Router();
  router.use(tokenEndpoint(db));
  router.get('/fhir/r4/metadata', (req, res) => sendFhir(res, 200, metadata(req)));
  router.use(
    '/fhir/r4',
    express.json({ limit: FHIR_BODY_LIMIT, type: [FHIR_JSON, 'application/json'] }),
    authenticateFhir(db, deps.sessionPolicy),
  );
  router.get('/fhir/r4/Patient/:id', async (req, res) => {
    sendFhir(res, 200, await readPatient(db, callerOf(res), req.params.id, originOf(req)));
  });
  router.get('/fhir/r4/Observation', async (req, res) => {
    sendFhir(res, 200, await searchObservations(db, callerOf(res), req, originOf(req)));
  });
  router.post(['/fhir/r4/$submit-cgm-bundle', '/fhir/r4/Bundle/$submit-cgm-bundle'], async (req, res) => {
    if (!req.is([FHIR_JSON, 'application/json']))
      throw new FhirError(415, {
        type: 'not-supported',
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: `send the Bundle as ${FHIR_JSON}`,
      });
    sendFhir(res, 200, await submitCgmBundle(deps, callerOf(res), req, originOf(req)));
  });
  router.use('/fhir/r4', () => {
    throw new FhirError(404, {
      type: 'not-supported',
      code: 'NOT_FOUND',
      message: 'no such FHIR interaction here: GET /fhir/r4/metadata says what is supported',
    });
  });
  router.use('/fhir/r4', fhirErrors(deps.log));
  return router;
}
