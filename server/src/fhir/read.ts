import type { Request } from 'express';
import type pg from 'pg';
import { cgmDaysOfWear, summarize } from '@glucoboard/core/domain';
import {
  capabilityStatement,
  cgmSummaryObservations,
  encodeCursor,
  isGlucoboardId,
  operationOutcome,
  parseObservationSearch,
  patientResource,
  readingObservation,
  searchsetBundle,
  type ObservationQuery,
} from '@glucoboard/core/fhir';
import { fhirReadingsPage, patientRecord, statisticsInputOf } from '@glucoboard/core/storage';
import { fhirPatientAccess, recordFhirAccess, type FhirCaller } from './callers.ts';
import { FhirError, fhirNotFound } from './errors.ts';

const DAY_MS = 86_400_000;
/** Like GET /api/patients/:id/summary: 14 days by default, at most 90. */
const SUMMARY_DEFAULT_DAYS = 14;
const SUMMARY_MAX_DAYS = 90;
const STARTED = new Date().toISOString().slice(0, 10);

/** This server's FHIR base as the caller reached it (trust proxy lets a TLS proxy's scheme through). */
export const fhirBase = (req: Request) => `${req.protocol}://${req.get('host')}/fhir/r4`;

export function metadata(req: Request) {
  const base = fhirBase(req);
  return capabilityStatement({ base, tokenUrl: `${base}/oauth/token`, date: STARTED, version: '0.1.0' });
}

export async function readPatient(db: pg.Pool, caller: FhirCaller, id: string, origin: string) {
  if (!isGlucoboardId(id)) throw fhirNotFound('patient');
  const access = await fhirPatientAccess(db, caller, id, 'read', 'system/Patient.rs');
  const record = (await patientRecord(db, access.patientId))!;
  await recordFhirAccess(db, caller, 'fhir.patient.read', access, origin);
  // The identity number is shown only to those who see it in the People API: not to granted teams.
  const shown = access.via === 'granted' || access.via === 'escalation' ? null : record.identityNumber;
  return patientResource({ id: record.id, name: record.name, identityNumber: shown });
}

/** GET /Observation: a patient's readings newest first, paged, or the CGM summary for a period. */
export async function searchObservations(db: pg.Pool, caller: FhirCaller, req: Request, origin: string) {
  const parsed = parseObservationSearch(req.query as Record<string, unknown>);
  if (!parsed.ok) {
    const status = parsed.issue.code === 'NOT_FOUND' ? 404 : 400;
    throw new FhirError(status, parsed.issue);
  }
  const query = parsed.value;
  const access = await fhirPatientAccess(db, caller, query.patientId, 'read', 'system/Observation.rs');
  const base = fhirBase(req);
  const self = `${base}${req.originalUrl.slice('/fhir/r4'.length)}`;
  if (query.mode === 'summary') return summaryBundle(db, caller, access, query, base, self, origin);

  const rows = await fhirReadingsPage(db, {
    patientId: access.patientId,
    kinds: query.kinds,
    from: query.from,
    to: query.to,
    after: query.cursor,
    limit: query.count + 1,
  });
  const page = rows.slice(0, query.count);
  const last = page.at(-1);
  let next: string | undefined;
  if (rows.length > query.count && last) {
    const url = new URL(self);
    url.searchParams.set('_cursor', encodeCursor({ measuredAt: last.measuredAt, key: last.key }));
    next = url.toString();
  }
  await recordFhirAccess(db, caller, 'fhir.observations.read', access, origin, {
    count: page.length,
    from: query.from?.toISOString() ?? null,
    to: query.to?.toISOString() ?? null,
  });
  return searchsetBundle({ base, self, next, matches: page.map((r) => readingObservation(access.patientId, r)) });
}

async function summaryBundle(
  db: pg.Pool,
  caller: FhirCaller,
  access: { patientId: string; teamId: string; via: string },
  query: Extract<ObservationQuery, { mode: 'summary' }>,
  base: string,
  self: string,
  origin: string,
) {
  // The period: the date bounds given, else the 14 days up to now, as the summary API counts them.
  const to =
    query.to ??
    (query.from ? new Date(Math.min(Date.now(), query.from.getTime() + SUMMARY_DEFAULT_DAYS * DAY_MS)) : new Date());
  const from = query.from ?? new Date(to.getTime() - SUMMARY_DEFAULT_DAYS * DAY_MS);
  const days = (to.getTime() - from.getTime()) / DAY_MS;
  if (!(days > 0) || days > SUMMARY_MAX_DAYS)
    throw new FhirError(400, {
      type: 'invalid',
      code: 'INVALID_PERIOD',
      message: `the summary's period (date=ge...&date=lt...) must be longer than nothing and at most ${SUMMARY_MAX_DAYS} days`,
      expression: 'date',
    });
  // The same statistics as GET /api/patients/:id/summary: one input, one summarize.
  const input = await statisticsInputOf(db, access.patientId, from, to);
  const summary = summarize(input.readings, {
    now: to,
    days,
    deviceKind: input.monitoring,
    targetProfile: input.targetProfile,
  });
  const made = cgmSummaryObservations({
    patientId: access.patientId,
    from,
    to,
    summary,
    daysOfWear: cgmDaysOfWear(input.readings, { now: to, days }),
  });
  await recordFhirAccess(db, caller, 'fhir.summary.read', access, origin, {
    from: from.toISOString(),
    to: to.toISOString(),
    count: summary.count,
  });
  if ('refused' in made) {
    const message =
      made.refused === 'NO_CGM_DATA'
        ? 'no CGM readings in the period: a CGM summary needs sensor data'
        : 'too few CGM readings with a value in the period for a mean, GMI and CV';
    return searchsetBundle({
      base,
      self,
      matches: [],
      outcome: operationOutcome({ severity: 'information', type: 'not-found', code: made.refused, message }),
    });
  }
  const [grouping, ...members] = made;
  return searchsetBundle({ base, self, matches: [grouping!], includes: members });
}
