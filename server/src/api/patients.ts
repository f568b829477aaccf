import { z } from 'zod';
import { maskIdentityNumber } from '@glucoboard/core/domain';
import {
  createPatient,
  grantPatientAccess,
  hasRole,
  inTransaction,
  listablePatients,
  markReviewed,
  OVERRIDE_COLUMNS,
  patientRecord,
  readingsOfPatient,
  setThresholdOverrides,
  teamExists,
  thresholdsOfPatients,
  updatePatient,
  withdrawPatientAccess,
  type OverrideField,
  type PatientRecord,
} from '@glucoboard/core/storage';
import {
  accessGrantBody,
  newPatientBody,
  patientUpdateBody,
  readingsQuery,
  thresholdsBody,
  BOARD_EVENTS,
  patientView,
  readingView,
} from '@glucoboard/core/wire';
import { patientAccess, teamAccess, type PatientAccess } from '../access/policy.ts';
import type { SignedInUser } from '../access/sessions.ts';
import { recordAudit, recordAuditForPatients, recordPatientEvent, userActor } from '../audit/trail.ts';
import { ApiError, notFound } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';
import { readingsCsvReply, wantsCsv } from './readings-export.ts';
import { tellBoards } from './tell-boards.ts';

/** The identity number is shown in full only to the responsible team (SPEC: "shown only to members"). */
function present(row: PatientRecord, via: PatientAccess['via']) {
  const identityNumber =
    row.identityNumber && (via === 'granted' || via === 'escalation')
      ? maskIdentityNumber(row.identityNumber)
      : row.identityNumber;
  return { ...row, identityNumber, access: via };
}

export function patientRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;

  /** The patient's responsible team's boards get the patient as it is now (`patient:updated`). */
  async function announcePatient(patientId: string, teamId: string): Promise<ReturnType<typeof present>> {
    const patient = present(await loadPatient(patientId), 'responsible');
    // The patient as the API answers it: instants as ISO strings (what JSON would make of the Date).
    const payload = { ...patient, lastReviewedAt: patient.lastReviewedAt?.toISOString() ?? null };
    await tellBoards(deps, { teamIds: [teamId], event: BOARD_EVENTS.patientUpdated, payload });
    return patient;
  }
  const loadPatient = async (id: string) => (await patientRecord(db, id))!;
  const physicianInTeam = async (physicianId: string | null | undefined, teamId: string) => {
    if (!physicianId) return;
    if (!(await hasRole(db, physicianId, teamId, 'physician')))
      throw new ApiError(
        400,
        'VALIDATION_FAILED',
        "responsiblePhysicianId is not a physician of the patient's team",
        'responsiblePhysicianId',
      );
  };
  const thresholdsOf = async (patientId: string) => {
    const { overrides, effective, conflict } = (await thresholdsOfPatients(db, [patientId])).get(patientId)!;
    const { urgentLow, low, high, urgentHigh, noDataMinutes } = effective;
    return {
      patientId,
      overrides: {
        urgentLow: overrides.urgentLow ?? null,
        low: overrides.low ?? null,
        high: overrides.high ?? null,
        urgentHigh: overrides.urgentHigh ?? null,
        noDataMinutes: overrides.noDataMinutes ?? null,
      },
      effective: { urgentLow, low, high, urgentHigh, noDataMinutes },
      conflict,
    };
  };

  const visiblePatients = async (user: SignedInUser, teamId: string | undefined) => {
    if (teamId) await teamAccess(db, user, teamId, 'member');
    return listablePatients(db, user, teamId);
  };

  return [
    route({
      method: 'get',
      path: '/api/patients',
      tag: 'patients',
      summary: "Patients the caller may see (responsible team's or granted), optionally of one team",
      signedIn: true,
      query: z.strictObject({ teamId: z.uuid().optional() }),
      responses: { 200: { description: 'Patients', schema: z.object({ patients: z.array(patientView) }) } },
      async handle({ user, query, origin }) {
        const rows = await visiblePatients(user, query.teamId);
        const teamOf = new Map(rows.map((r) => [r.id, r.teamId]));
        await recordAuditForPatients(
          db,
          { action: 'patient.list', actor: userActor(user.userId), origin },
          rows.map((r) => r.id),
          (id) => teamOf.get(id) ?? null,
        );
        return { status: 200, body: { patients: rows.map(({ via, ...row }) => present(row, via)) } };
      },
    }),
    route({
      method: 'post',
      path: '/api/patients',
      tag: 'patients',
      summary: 'Register a patient with a responsible team (team admin)',
      signedIn: true,
      body: newPatientBody,
      responses: { 201: { description: 'Created', schema: patientView } },
      async handle({ user, body, origin }) {
        await teamAccess(db, user, body.teamId, 'admin');
        await physicianInTeam(body.responsiblePhysicianId, body.teamId);
        const { id } = await createPatient(db, body);
        await recordAudit(db, {
          action: 'patient.create',
          actor: userActor(user.userId),
          patientId: id,
          teamId: body.teamId,
          origin,
        });
        return { status: 201, body: present(await loadPatient(id), 'responsible') };
      },
    }),
    route({
      method: 'get',
      path: '/api/patients/:id',
      tag: 'patients',
      summary: 'One patient',
      signedIn: true,
      params: { id: 'uuid' },
      responses: { 200: { description: 'The patient', schema: patientView } },
      async handle({ user, params, origin }) {
        const access = await patientAccess(db, user, params.id!, 'read');
        await recordPatientEvent(db, 'patient.read', user.userId, access, origin);
        return { status: 200, body: present(await loadPatient(access.patientId), access.via) };
      },
    }),
    route({
      method: 'patch',
      path: '/api/patients/:id',
      tag: 'patients',
      summary: "Change a patient's name, identity number, labels, physician or target profile (team admin)",
      signedIn: true,
      params: { id: 'uuid' },
      body: patientUpdateBody,
      responses: { 200: { description: 'The changed patient', schema: patientView } },
      async handle({ user, params, body, origin }) {
        const access = await patientAccess(db, user, params.id!, 'admin');
        await physicianInTeam(body.responsiblePhysicianId, access.teamId);
        const before = 'responsiblePhysicianId' in body ? await loadPatient(access.patientId) : null;
        await updatePatient(db, access.patientId, body);
        // Who follows the patient up is a record of care: the trail names the physician before and after (ids only).
        const physician =
          before && before.responsiblePhysicianId !== (body.responsiblePhysicianId ?? null)
            ? { physician: { from: before.responsiblePhysicianId, to: body.responsiblePhysicianId ?? null } }
            : {};
        await recordPatientEvent(db, 'patient.update', user.userId, access, origin, {
          fields: Object.keys(body),
          ...physician,
        });
        await announcePatient(access.patientId, access.teamId);
        return { status: 200, body: present(await loadPatient(access.patientId), access.via) };
      },
    }),
    route({
      method: 'get',
      path: '/api/patients/:id/thresholds',
      tag: 'patients',
      summary: "The patient's threshold overrides and the thresholds in effect (mmol/L)",
      signedIn: true,
      params: { id: 'uuid' },
      responses: { 200: { description: 'Overrides and effective thresholds' } },
      async handle({ user, params, origin }) {
        const access = await patientAccess(db, user, params.id!, 'read');
        await recordPatientEvent(db, 'thresholds.read', user.userId, access, origin);
        return { status: 200, body: await thresholdsOf(access.patientId) };
      },
    }),
    route({
      method: 'put',
      path: '/api/patients/:id/thresholds',
      tag: 'patients',
      summary: 'Set per-patient thresholds (null: back to the team default); members of the responsible team',
      signedIn: true,
      params: { id: 'uuid' },
      body: thresholdsBody,
      responses: { 200: { description: 'Overrides and effective thresholds' } },
      async handle({ user, params, body, origin }) {
        const access = await patientAccess(db, user, params.id!, 'care');
        const given = Object.entries(body).filter(([k]) => k in OVERRIDE_COLUMNS) as Array<
          [OverrideField, number | null]
        >;
        // inTransaction: a database gone half-way rolls back and fails the request, not the process.
        await inTransaction(db, async (client) => {
          // The rule holds for what takes effect: overrides merged with the team's defaults.
          if (!(await setThresholdOverrides(client, access.patientId, given, user.userId))) {
            throw new ApiError(
              400,
              'VALIDATION_FAILED',
              "with the team's defaults these thresholds would not rise: urgentLow < low < high < urgentHigh",
            );
          }
        });
        await recordPatientEvent(db, 'thresholds.update', user.userId, access, origin, {
          fields: given.map(([k]) => k),
        });
        await announcePatient(access.patientId, access.teamId);
        return { status: 200, body: await thresholdsOf(access.patientId) };
      },
    }),
    route({
      method: 'post',
      path: '/api/patients/:id/review',
      tag: 'patients',
      summary: 'Mark the patient reviewed now by the caller (members of the responsible team)',
      signedIn: true,
      params: { id: 'uuid' },
      responses: { 200: { description: 'The patient', schema: patientView } },
      async handle({ user, params, origin }) {
        const access = await patientAccess(db, user, params.id!, 'care');
        await markReviewed(db, access.patientId, user.userId);
        await recordPatientEvent(db, 'patient.review', user.userId, access, origin);
        await announcePatient(access.patientId, access.teamId);
        return { status: 200, body: present(await loadPatient(access.patientId), access.via) };
      },
    }),
    route({
      method: 'post',
      path: '/api/patients/:id/access',
      tag: 'patients',
      summary: "Grant another team read access to this patient (admin of the patient's team)",
      signedIn: true,
      params: { id: 'uuid' },
      body: accessGrantBody,
      responses: { 201: { description: 'Granted' } },
      async handle({ user, params, body, origin }) {
        const access = await patientAccess(db, user, params.id!, 'admin');
        if (!(await teamExists(db, body.teamId))) throw notFound('team');
        if (body.teamId === access.teamId)
          throw new ApiError(400, 'VALIDATION_FAILED', 'the responsible team has access already', 'teamId');
        await grantPatientAccess(db, { patientId: access.patientId, teamId: body.teamId, grantedBy: user.userId });
        await recordPatientEvent(db, 'access.grant', user.userId, access, origin, { grantedTeamId: body.teamId });
        return { status: 201, body: { patientId: access.patientId, teamId: body.teamId } };
      },
    }),
    route({
      method: 'delete',
      path: '/api/patients/:id/access/:teamId',
      tag: 'patients',
      summary: "Withdraw a team's read access (admin of the patient's team)",
      signedIn: true,
      params: { id: 'uuid', teamId: 'uuid' },
      responses: { 204: { description: 'Withdrawn' } },
      async handle({ user, params, origin }) {
        const access = await patientAccess(db, user, params.id!, 'admin');
        if (!(await withdrawPatientAccess(db, access.patientId, params.teamId!))) throw notFound('grant');
        await recordPatientEvent(db, 'access.revoke', user.userId, access, origin, { revokedTeamId: params.teamId });
        return { status: 204 };
      },
    }),
    route({
      method: 'get',
      path: '/api/patients/:id/readings',
      tag: 'readings',
      summary:
        "The patient's readings in [from, to) (default: the last 24 h), oldest first; format=csv (or Accept: text/csv) downloads them as CSV",
      signedIn: true,
      params: { id: 'uuid' },
      query: readingsQuery,
      responses: {
        200: {
          description: 'Readings',
          schema: z.object({
            readings: z.array(readingView),
          }),
        },
      },
      async handle({ req, user, params, query, origin }) {
        const access = await patientAccess(db, user, params.id!, 'read');
        if (wantsCsv(req, query)) return readingsCsvReply(db, user, access, query, origin);
        const readings = await readingsOfPatient(db, access.patientId, query.from, query.to);
        await recordPatientEvent(db, 'readings.read', user.userId, access, origin, {
          from: query.from.toISOString(),
          to: query.to.toISOString(),
          count: readings.length,
        });
        return { status: 200, body: { readings } };
      },
    }),
  ];
}
