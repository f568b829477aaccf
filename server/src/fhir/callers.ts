import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import type pg from 'pg';
import { apiClientGrant, recordAudit, teamReachOfPatient } from '@glucoboard/core/storage';
import { patientAccess } from '../access/policy.ts';
import {
  cookieValue,
  resolveSession,
  SESSION_COOKIE,
  type SessionPolicy,
  type SignedInUser,
} from '../access/sessions.ts';
import { recordPatientEvent } from '../audit/trail.ts';
import { ApiError } from '../http/errors.ts';
import { FhirError, fhirNotFound } from './errors.ts';

/**
 * Who calls the FHIR API: a team's API client with a bearer token (client credentials), or a
 * signed-in user's session (reads only: a cookie-borne write would be a cross-site request risk).
 */
export type FhirCaller =
  | { kind: 'client'; clientId: string; teamId: string; scopes: Set<string> }
  | { kind: 'user'; user: SignedInUser };

export const READ_SCOPES = ['system/Patient.rs', 'system/Observation.rs'] as const;
export const WRITE_SCOPE = 'system/Observation.c';

/** A bearer token is stored as its sha256, like a session's. */
export const tokenId = (token: string) => createHash('sha256').update(token).digest('hex');

const unauthenticated = (message: string, error?: string) =>
  new FhirError(
    401,
    { type: 'login', code: 'UNAUTHENTICATED', message },
    { 'www-authenticate': `Bearer realm="glucoboard"${error ? `, error="${error}"` : ''}` },
  );

/** Puts the caller on res.locals.fhirCaller, or answers 401 with an OperationOutcome. */
export function authenticateFhir(db: pg.Pool, policy: SessionPolicy): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (header) {
      const [scheme, token] = header.split(' ');
      if (scheme?.toLowerCase() !== 'bearer' || !token)
        throw unauthenticated('send the access token as Authorization: Bearer <token>', 'invalid_request');
      const grant = await apiClientGrant(db, tokenId(token));
      if (!grant)
        throw unauthenticated(
          'the access token is unknown, expired or revoked: get a new one at the token endpoint',
          'invalid_token',
        );
      res.locals.fhirCaller = {
        kind: 'client',
        clientId: grant.clientId,
        teamId: grant.teamId,
        scopes: new Set(grant.scope.split(' ')),
      } satisfies FhirCaller;
      return next();
    }
    const session = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const user = session ? await resolveSession(db, session, policy) : null;
    if (!user) throw unauthenticated('authenticate with a bearer token (OAuth 2 client credentials) or sign in');
    res.locals.fhirCaller = { kind: 'user', user } satisfies FhirCaller;
    next();
  };
}

/** Writes come from API clients only (a session cookie would carry a cross-site request too). */
export const writesNeedAClient = () =>
  new FhirError(403, {
    type: 'forbidden',
    code: 'FORBIDDEN',
    message: 'submitting data needs an API client with write access (OAuth 2 client credentials)',
  });

export interface FhirPatientAccess {
  patientId: string;
  teamId: string;
  /** The People API's reach; an API client reaches as its team does (responsible or granted). */
  via: string;
}

/**
 * The same rule as the People API (server/src/access/policy.ts): read for the responsible and
 * granted teams, write (submit) for the responsible team only; anything else is 404, exactly as
 * for a patient that does not exist. A client also needs the token scope for it.
 */
export async function fhirPatientAccess(
  db: pg.Pool,
  caller: FhirCaller,
  patientId: string,
  need: 'read' | 'write',
  /** The token scope a client needs for this (system/Patient.rs, system/Observation.rs, system/Observation.c). */
  scope: string,
): Promise<FhirPatientAccess> {
  if (caller.kind === 'user') {
    if (need === 'write') throw writesNeedAClient();
    try {
      const access = await patientAccess(db, caller.user, patientId, 'read');
      return { patientId: access.patientId, teamId: access.teamId, via: access.via };
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw fhirNotFound('patient');
      throw err;
    }
  }
  const reach = await teamReachOfPatient(db, patientId, caller.teamId);
  if (!reach || !(reach.responsible || (need === 'read' && reach.granted))) throw fhirNotFound('patient');
  if (!caller.scopes.has(scope))
    throw new FhirError(403, {
      type: 'forbidden',
      code: 'INSUFFICIENT_SCOPE',
      message: `the access token lacks the scope ${scope}`,
    });
  return { patientId, teamId: reach.teamId, via: reach.responsible ? 'responsible' : 'granted' };
}

/** Every access to a patient's data in the audit trail, with the caller as actor. */
export function recordFhirAccess(
  db: pg.Pool,
  caller: FhirCaller,
  action: string,
  access: FhirPatientAccess,
  origin: string,
  detail?: Record<string, unknown>,
): Promise<void> {
  if (caller.kind === 'user') return recordPatientEvent(db, action, caller.user.userId, access, origin, detail);
  return recordAudit(db, {
    action,
    actor: { kind: 'api_client', clientId: caller.clientId },
    patientId: access.patientId,
    teamId: access.teamId,
    origin,
    detail: access.via === 'granted' ? { ...detail, via: 'granted' } : detail,
  });
}
