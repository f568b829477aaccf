import express, { Router } from 'express';
import { authenticate } from '../access/authenticate.ts';
import { jsonWrites, sameOriginWrites } from '../access/csrf.ts';
import { ApiError } from '../http/errors.ts';
import { openApiDocument, routerFor, type RouteSpec } from '../http/routes.ts';
import { alertRoutes } from './alerts.ts';
import { apiClientRoutes } from './api-clients.ts';
import { auditRoutes } from './audit.ts';
import { auditReviewRoutes } from './audit-review.ts';
import { authRoutes } from './auth.ts';
import { boardRoutes } from './board.ts';
import type { ApiDependencies } from './context.ts';
import { deviceRoutes } from './devices.ts';
import { deviceLoanRoutes } from './device-loans.ts';
import { manualEntryRoutes } from './manual-entry.ts';
import { meterRoutes } from './meter.ts';
import { fhirRouter } from '../fhir/index.ts';
import { followerRoutes, nightscoutApi, treatmentRoutes } from '../nightscout/index.ts';
import { DEVICE_FRAME_LIMIT_BYTES } from '../realtime/index.ts';
import { gatewayJsonErrors, gatewayJsonOnly, gatewayRoutes } from './gateway.ts';
import { oidcRoutes } from './oidc.ts';
import { patientRoutes } from './patients.ts';
import { reportRoutes } from './reports.ts';
import { summaryRoutes } from './summary.ts';
import { teamRoutes } from './teams.ts';

export function apiRoutes(deps: ApiDependencies): RouteSpec[] {
  return [
    ...authRoutes(deps),
    ...oidcRoutes(deps, deps.oidc),
    ...teamRoutes(deps),
    ...patientRoutes(deps),
    ...deviceRoutes(deps),
    ...deviceLoanRoutes(deps),
    ...manualEntryRoutes(deps),
    ...summaryRoutes(deps),
    ...gatewayRoutes(deps),
    ...alertRoutes(deps),
    ...auditRoutes(deps),
    ...auditReviewRoutes(deps),
    ...boardRoutes(deps),
    ...reportRoutes(deps),
    ...treatmentRoutes(deps),
    ...followerRoutes(deps),
    ...apiClientRoutes(deps),
    ...meterRoutes(deps),
  ];
}

/** Everything under /api: body parsing, CSRF defence, authentication, the routes, the OpenAPI document. */
export function apiRouter(deps: ApiDependencies): Router {
  const routes = apiRoutes(deps);
  const document = openApiDocument(routes, { title: 'Glucoboard API', version: '1' });
  const router = Router();
  router.get('/api/openapi.json', (_req, res) => {
    res.json(document);
  });
  // FHIR R4 (/fhir/r4): its own body types, bearer tokens and OperationOutcome errors.
  router.use(fhirRouter(deps));
  // Nightscout uploaders (/api/v1, v2, v3) get Nightscout's answers, never the People API's.
  router.use(nightscoutApi(deps));
  // Gateways get every refusal of their body in the ack's shape, before the People API's rules.
  router.use(
    '/api/devices/readings',
    gatewayJsonOnly,
    express.json({ limit: DEVICE_FRAME_LIMIT_BYTES }),
    gatewayJsonErrors,
  );
  router.use(
    '/api',
    express.json({ limit: '1mb' }),
    jsonWrites(),
    sameOriginWrites(),
    authenticate(deps.db.pool, deps.sessionPolicy),
  );
  router.use(routerFor(routes));
  router.use('/api', () => {
    throw new ApiError(404, 'NOT_FOUND', 'no such API route');
  });
  return router;
}
