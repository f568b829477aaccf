import { tallyReplacements } from '@glucoboard/core/domain';
import {
  assignmentsOfPatient,
  assignmentsOfSerial,
  DeviceChangeRefused,
  deviceStanding,
  lendDevice,
  membershipsOf,
  reactivateDevice,
  replaceDevice,
  replacementsOfTeam,
  type AssignmentRecord,
} from '@glucoboard/core/storage';
import {
  csvDocument,
  DEVICE_REPLACEMENTS_CSV_COLUMNS,
  deviceCredentialsView,
  deviceHistoryView,
  deviceReplacementsQuery,
  deviceReplacementsReportView,
  lendDeviceBody,
  lentDeviceView,
  replaceDeviceBody,
  replacedDeviceView,
  type DeviceAssignmentView,
} from '@glucoboard/core/wire';
import { patientAccess, teamAccess } from '../access/policy.ts';
import { recordAudit, recordAuditForPatients, recordPatientEvent, userActor } from '../audit/trail.ts';
import { ApiError, notFound } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';
import { administeredDevice, freshDeviceToken } from './device-pairing.ts';

/**
 * Lent meters (docs/follow-up.md, "Meters"): lending a meter on to another patient, replacing one
 * with a reason, bringing a revoked one back explicitly, the histories per patient and per serial,
 * and the replacements report for the supplier follow-up. Changes are for the team admins of the
 * patients involved; the histories for members. Every change and read is in the audit trail.
 */

const retired = () =>
  new ApiError(409, 'DEVICE_RETIRED', 'this meter was replaced and is retired for good; pair a new one instead');

/** A history row as the API shows it; another team's patient is not named. */
function assignmentView(row: AssignmentRecord, patientVisible: boolean): DeviceAssignmentView {
  return {
    deviceId: row.deviceId,
    kind: row.kind,
    patient: patientVisible ? { id: row.patientId, name: row.patientName } : null,
    startedAt: row.startedAt.toISOString(),
    startedBy: row.startedBy,
    startReason: row.startReason,
    endedAt: row.endedAt?.toISOString() ?? null,
    endedBy: row.endedBy,
    endReason: row.endReason,
    replaced: row.replaced,
    replacedBy: row.replacedBy,
  };
}

export function deviceLoanRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;

  return [
    route({
      method: 'post',
      path: '/api/devices/:deviceId/lend',
      tag: 'devices',
      summary:
        'Lend the meter on to another patient (team admin of both): a new token, shown once; the old one stops at once',
      signedIn: true,
      params: { deviceId: 'text' },
      body: lendDeviceBody,
      responses: {
        200: { description: "Lent; readings measured before now are not the new patient's", schema: lentDeviceView },
        409: { description: 'DEVICE_RETIRED, or SAME_PATIENT: the meter is with that patient already' },
      },
      async handle({ user, params, body, origin }) {
        const deviceId = params.deviceId!;
        const from = await administeredDevice(db, user, deviceId);
        const to = await patientAccess(db, user, body.patientId, 'admin');
        const { token, ...credential } = await freshDeviceToken(db);
        let lent;
        try {
          lent = await lendDevice(db, { serial: deviceId, patientId: to.patientId, by: user.userId, ...credential });
        } catch (err) {
          if (err instanceof DeviceChangeRefused) {
            if (err.reason === 'missing') throw notFound('device');
            if (err.reason === 'retired') throw retired();
            if (err.reason === 'same_patient')
              throw new ApiError(409, 'SAME_PATIENT', 'the meter is with this patient already', 'patientId');
          }
          throw err;
        }
        // Cached verifications and live sockets carry the old patient: dropped on every server now.
        await deps.live.deviceCredentialsChanged(deviceId);
        await recordPatientEvent(db, 'device.loan.end', user.userId, from, origin, {
          deviceId,
          toPatientId: to.patientId,
        });
        await recordPatientEvent(db, 'device.loan.start', user.userId, to, origin, {
          deviceId,
          fromPatientId: from.patientId,
        });
        return {
          status: 200,
          body: {
            deviceId,
            token,
            kind: lent.kind,
            patientId: to.patientId,
            previousPatientId: lent.previousPatientId,
            startedAt: lent.startedAt.toISOString(),
          },
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/devices/:deviceId/replace',
      tag: 'devices',
      summary:
        'Replace a meter with a reason (team admin): the new one takes over the patient (token shown once), the old one is retired',
      signedIn: true,
      params: { deviceId: 'text' },
      body: replaceDeviceBody,
      responses: {
        201: { description: 'Replaced', schema: replacedDeviceView },
        409: { description: 'DEVICE_RETIRED (replaced already), or DEVICE_EXISTS: the new serial is paired already' },
      },
      async handle({ user, params, body, origin }) {
        const deviceId = params.deviceId!;
        const access = await administeredDevice(db, user, deviceId);
        const { token, ...credential } = await freshDeviceToken(db);
        let done;
        try {
          done = await replaceDevice(db, {
            oldSerial: deviceId,
            newSerial: body.newSerial,
            reason: body.reason,
            cause: body.cause ?? null,
            by: user.userId,
            ...credential,
          });
        } catch (err) {
          if (err instanceof DeviceChangeRefused) {
            if (err.reason === 'missing') throw notFound('device');
            if (err.reason === 'retired') throw retired();
            if (err.reason === 'serial_exists')
              throw new ApiError(409, 'DEVICE_EXISTS', 'a device with that serial is paired already', 'newSerial');
          }
          throw err;
        }
        await deps.live.deviceCredentialsChanged(deviceId);
        // The cause stays in device_replacements: free text is kept out of the audit detail.
        await recordPatientEvent(db, 'device.replace', user.userId, access, origin, {
          deviceId,
          newDeviceId: body.newSerial,
          reason: body.reason,
        });
        return {
          status: 201,
          body: {
            deviceId: body.newSerial,
            token,
            kind: done.kind,
            patientId: done.patientId,
            retired: { deviceId, reason: body.reason, retiredAt: done.retiredAt.toISOString() },
          },
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/devices/:deviceId/reactivate',
      tag: 'devices',
      summary: 'Bring a revoked meter back with a new token, shown once (team admin); a retired meter never comes back',
      signedIn: true,
      params: { deviceId: 'text' },
      responses: {
        200: { description: 'Live again with the new token', schema: deviceCredentialsView },
        409: { description: 'DEVICE_RETIRED, or DEVICE_NOT_REVOKED (give it a new token instead)' },
      },
      async handle({ user, params, origin }) {
        const deviceId = params.deviceId!;
        const access = await administeredDevice(db, user, deviceId);
        const standing = await deviceStanding(db, deviceId);
        if (standing?.retiredAt) throw retired();
        if (!standing?.revokedAt)
          throw new ApiError(409, 'DEVICE_NOT_REVOKED', 'the meter is not revoked; give it a new token instead');
        const { token, tokenHash, nightscout } = await freshDeviceToken(db);
        if (!(await reactivateDevice(db, deviceId, tokenHash, nightscout))) throw retired();
        await deps.live.deviceCredentialsChanged(deviceId);
        await recordPatientEvent(db, 'device.reactivate', user.userId, access, origin, { deviceId });
        return { status: 200, body: { deviceId, token } };
      },
    }),
    route({
      method: 'get',
      path: '/api/patients/:id/device-history',
      tag: 'devices',
      summary: 'Every meter the patient had: from when to when, who handed it over or took it back, replacements',
      signedIn: true,
      params: { id: 'uuid' },
      responses: { 200: { description: 'The history, oldest first', schema: deviceHistoryView } },
      async handle({ user, params, origin }) {
        const access = await patientAccess(db, user, params.id!, 'read');
        const rows = await assignmentsOfPatient(db, access.patientId);
        await recordPatientEvent(db, 'device.history', user.userId, access, origin);
        return { status: 200, body: { assignments: rows.map((row) => assignmentView(row, true)) } };
      },
    }),
    route({
      method: 'get',
      path: '/api/devices/:deviceId/history',
      tag: 'devices',
      summary: "Every patient a meter was with (members of a team that had it); another team's patients are not named",
      signedIn: true,
      params: { deviceId: 'text' },
      responses: { 200: { description: 'The history, oldest first', schema: deviceHistoryView } },
      async handle({ user, params, origin }) {
        const rows = await assignmentsOfSerial(db, params.deviceId!);
        const teams = await membershipsOf(db, user.userId);
        const visible = (row: AssignmentRecord) => user.sysadmin || teams.has(row.patientTeamId);
        // Traceability for every team that lent the meter: a team that had it sees its periods.
        if (!rows.some((row) => visible(row) || teams.has(row.teamId))) throw notFound('device');
        const named = rows.filter(visible);
        const seen = [...new Set(named.map((row) => row.patientId))];
        const teamOf = new Map(named.map((row) => [row.patientId, row.patientTeamId]));
        await recordAuditForPatients(
          db,
          { action: 'device.history', actor: userActor(user.userId), origin, detail: { deviceId: params.deviceId! } },
          seen,
          (patientId) => teamOf.get(patientId) ?? null,
        );
        return { status: 200, body: { assignments: rows.map((row) => assignmentView(row, visible(row))) } };
      },
    }),
    route({
      method: 'get',
      path: '/api/teams/:teamId/device-replacements',
      tag: 'devices',
      summary:
        "The team's meter replacements over a period, by reason and kind (members); format=csv for the supplier follow-up",
      signedIn: true,
      params: { teamId: 'uuid' },
      query: deviceReplacementsQuery,
      responses: {
        200: {
          description: 'The report (CSV: one row per replacement, no patient identity)',
          schema: deviceReplacementsReportView,
        },
      },
      async handle({ user, params, query, origin }) {
        const teamId = params.teamId!;
        await teamAccess(db, user, teamId, 'member');
        const rows = await replacementsOfTeam(db, teamId, query.from, query.to);
        const period = { from: query.from.toISOString(), to: query.to.toISOString() };
        if (query.format === 'csv') {
          await recordAudit(db, {
            action: 'device.replacements.export',
            actor: userActor(user.userId),
            teamId,
            origin,
            detail: { ...period, rows: rows.length },
          });
          const content = csvDocument(
            DEVICE_REPLACEMENTS_CSV_COLUMNS,
            rows.map((r) => [
              r.replacedAt,
              r.kind,
              r.reason,
              r.cause,
              r.oldDeviceId,
              r.newDeviceId,
              r.replacedBy?.name,
            ]),
          );
          const day = (iso: string) => iso.slice(0, 10);
          return {
            status: 200,
            text: {
              contentType: 'text/csv; charset=utf-8',
              content,
              filename: `meter-replacements-${day(period.from)}-${day(period.to)}.csv`,
            },
          };
        }
        // The JSON names each patient: one event per patient, and one for the team if there are none.
        const patients = [...new Set(rows.map((r) => r.patientId))];
        await recordAuditForPatients(
          db,
          { action: 'device.replacements', actor: userActor(user.userId), teamId, origin, detail: period },
          patients.length > 0 ? patients : [null],
        );
        return {
          status: 200,
          body: {
            period,
            ...tallyReplacements(rows),
            replacements: rows.map((r) => ({
              replacedAt: r.replacedAt.toISOString(),
              oldDeviceId: r.oldDeviceId,
              newDeviceId: r.newDeviceId,
              kind: r.kind,
              reason: r.reason,
              cause: r.cause,
              patient: { id: r.patientId, name: r.patientName },
              replacedBy: r.replacedBy,
            })),
          },
        };
      },
    }),
  ];
}
