import { z } from 'zod';
import {
  deviceStanding,
  highestStoredSeq,
  meterTransfersOfPatient,
  recordAudit,
  recordMeterTransfer,
} from '@glucoboard/core/storage';
import {
  deviceHighWaterView,
  meterPairBody,
  meterQuery,
  meterReadingsBody,
  meterStatusView,
  type MeterStatusView,
} from '@glucoboard/core/wire';
import { patientAccess, type PatientAccess } from '../access/policy.ts';
import type { SignedInUser } from '../access/sessions.ts';
import { recordPatientEvent } from '../audit/trail.ts';
import { ApiError } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import { throttledMessage } from '../realtime/index.ts';
import type { ApiDependencies } from './context.ts';
import { pairNewDevice } from './device-pairing.ts';
import { parseDeviceAuthorization } from './gateway.ts';

/** A refused batch answers with the gateway's statuses, in the People API's error shape. */
const BATCH_STATUS: Record<string, number> = {
  INVALID_PAYLOAD: 400,
  BATCH_TOO_LARGE: 413,
  OVERLOADED: 503,
  UNAVAILABLE: 503,
};

const ackView = z.object({
  ok: z.literal(true),
  accepted: z.number(),
  duplicates: z.number(),
  rejected: z.array(z.object({ index: z.number(), seq: z.number().nullable(), code: z.string(), message: z.string() })),
  transferId: z.number(),
});

/**
 * The meter page's two ways in (docs/meters.md).
 *
 * A nurse signed in reads a Bluetooth meter for one of her team's patients: the meter's serial
 * names the device; a serial paired with that patient sends, an unpaired one may be paired there
 * by a team admin, one paired with someone else is refused. Readings go the device ingest path
 * (same validation, group commit, outbox, alerts, board events) as that device, and each batch is
 * recorded with who read it (migration 014) and in the audit trail.
 *
 * A patient's own phone holds the meter's device credential and sends through the gateway
 * (POST /api/devices/readings); here it only asks how far Glucoboard already has its records.
 */
export function meterRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;

  /** The meter as it stands for this patient; refusals a nurse can act on for anything else. */
  const meterFor = async (access: PatientAccess, user: SignedInUser, serial: string): Promise<MeterStatusView> => {
    const pairing = await deviceStanding(db, serial);
    const canPair = user.sysadmin || access.role === 'admin';
    if (!pairing) return { serial, patientId: access.patientId, state: 'unpaired', canPair, highWaterSeq: null };
    if (pairing.patientId !== access.patientId)
      throw new ApiError(
        409,
        'METER_PAIRED_ELSEWHERE',
        'this meter is paired with another patient; ask the team that lent it to pair it anew',
        'serial',
      );
    if (pairing.retiredAt)
      throw new ApiError(409, 'METER_RETIRED', 'this meter was replaced and is retired for good', 'serial');
    if (pairing.revokedAt)
      throw new ApiError(
        409,
        'METER_REVOKED',
        "this meter's pairing was revoked; a team admin may give it a new token",
        'serial',
      );
    if (pairing.kind !== 'bgm')
      throw new ApiError(
        409,
        'METER_NOT_BGM',
        'this serial is paired as a CGM sensor, not as a blood glucose meter',
        'serial',
      );
    return {
      serial,
      patientId: access.patientId,
      state: 'paired',
      canPair,
      highWaterSeq: await highestStoredSeq(db, serial),
    };
  };

  return [
    route({
      method: 'get',
      path: '/api/patients/:id/meter',
      tag: 'meter',
      summary:
        'How a Bluetooth meter stands for the patient (members of the responsible team): paired or not, and the highest seq stored',
      signedIn: true,
      params: { id: 'uuid' },
      query: meterQuery,
      responses: {
        200: { description: 'The meter', schema: meterStatusView },
        409: { description: 'METER_PAIRED_ELSEWHERE, METER_RETIRED, METER_REVOKED or METER_NOT_BGM' },
      },
      async handle({ user, params, query, origin }) {
        const access = await patientAccess(db, user, params.id!, 'care');
        const status = await meterFor(access, user, query.serial);
        await recordPatientEvent(db, 'meter.status', user.userId, access, origin, { deviceId: query.serial });
        return { status: 200, body: status };
      },
    }),
    route({
      method: 'post',
      path: '/api/patients/:id/meter/pair',
      tag: 'meter',
      summary: 'Pair the Bluetooth meter read on the meter page with the patient (team admins)',
      signedIn: true,
      params: { id: 'uuid' },
      body: meterPairBody,
      responses: {
        201: {
          description: 'Paired; a token for a patient\'s phone is given by "new token" in the admin pages',
          schema: meterStatusView,
        },
        409: { description: 'DEVICE_EXISTS: the serial is paired already; DEVICE_RETIRED: it was replaced' },
      },
      async handle({ user, params, body, origin }) {
        const access = await patientAccess(db, user, params.id!, 'admin');
        // The same pairing as POST /api/devices. The token is never shown here: the nurse's read
        // does not need it, and a patient's phone gets its own through "new token" (shown once).
        await pairNewDevice(db, {
          serial: body.serial,
          kind: 'bgm',
          patientId: access.patientId,
          pairedBy: user.userId,
        });
        await recordPatientEvent(db, 'device.pair', user.userId, access, origin, {
          deviceId: body.serial,
          kind: 'bgm',
          via: 'meter-page',
        });
        return { status: 201, body: await meterFor(access, user, body.serial) };
      },
    }),
    route({
      method: 'post',
      path: '/api/patients/:id/meter/readings',
      tag: 'meter',
      summary:
        "Readings read from the patient's Bluetooth meter on the meter page (members of the responsible team); stored as that device's",
      signedIn: true,
      params: { id: 'uuid' },
      body: meterReadingsBody,
      responses: {
        200: { description: 'Stored (see accepted, duplicates, rejected), as the device ack', schema: ackView },
        409: { description: 'METER_UNPAIRED, METER_PAIRED_ELSEWHERE, METER_RETIRED, METER_REVOKED or METER_NOT_BGM' },
        413: { description: 'BATCH_TOO_LARGE' },
        503: { description: 'OVERLOADED or UNAVAILABLE: send again later' },
      },
      async handle({ user, params, body, origin }) {
        const access = await patientAccess(db, user, params.id!, 'care');
        const status = await meterFor(access, user, body.serial);
        if (status.state !== 'paired')
          throw new ApiError(409, 'METER_UNPAIRED', 'this meter is not paired with the patient yet', 'serial');
        const gateway = deps.gateway;
        if (!gateway) throw new ApiError(503, 'UNAVAILABLE', 'readings cannot be received now; send them again later');
        const device = {
          deviceId: body.serial,
          kind: 'bgm' as const,
          patientId: access.patientId,
          teamId: access.teamId,
        };
        const ack = await gateway.ingest(device, { readings: body.readings }, 'gateway');
        if (!ack.ok) throw new ApiError(BATCH_STATUS[ack.code] ?? 400, ack.code, ack.message);
        const seqs = body.readings
          .map((r) => (r as { seq?: unknown } | null)?.seq)
          .filter((s): s is number => Number.isInteger(s));
        const counts = {
          readings: body.readings.length,
          accepted: ack.accepted,
          duplicates: ack.duplicates,
          rejected: ack.rejected.length,
        };
        const transferId = await recordMeterTransfer(db, {
          deviceSerial: body.serial,
          patientId: access.patientId,
          teamId: access.teamId,
          readBy: user.userId,
          seqFrom: seqs.length ? Math.min(...seqs) : null,
          seqTo: seqs.length ? Math.max(...seqs) : null,
          ...counts,
        });
        await recordPatientEvent(db, 'readings.meter_read', user.userId, access, origin, {
          deviceId: body.serial,
          transferId,
          ...counts,
        });
        return { status: 200, body: { ...ack, transferId } };
      },
    }),
    route({
      method: 'get',
      path: '/api/patients/:id/meter/transfers',
      tag: 'meter',
      summary: "Who read the patient's Bluetooth meters on the meter page, when, and what was stored (newest first)",
      signedIn: true,
      params: { id: 'uuid' },
      responses: { 200: { description: 'Meter reads' } },
      async handle({ user, params, origin }) {
        const access = await patientAccess(db, user, params.id!, 'read');
        const transfers = await meterTransfersOfPatient(db, access.patientId);
        await recordPatientEvent(db, 'meter.transfers', user.userId, access, origin);
        return { status: 200, body: { transfers } };
      },
    }),
    route({
      method: 'get',
      path: '/api/devices/me/high-water',
      tag: 'devices',
      summary:
        'The highest seq Glucoboard holds for the calling device (Authorization: Device <deviceId>:<token>), so a meter sends only what is newer',
      signedIn: false,
      responses: {
        200: { description: 'The highest seq stored, or null', schema: deviceHighWaterView },
        401: { description: 'DEVICE_AUTH: unknown or revoked device, or wrong token' },
        429: { description: 'OVERLOADED: too many failed authentications; wait Retry-After' },
      },
      async handle({ req, res, origin }) {
        const credentials = parseDeviceAuthorization(req.get('authorization'));
        const admission =
          credentials && deps.gateway
            ? await deps.gateway.authenticateDevice({ ...credentials, source: origin })
            : null;
        if (admission?.admitted === false && admission.reason === 'throttled') {
          res.set('retry-after', String(Math.ceil(admission.retryAfterMs / 1000)));
          throw new ApiError(429, 'OVERLOADED', throttledMessage(admission.retryAfterMs));
        }
        if (!admission?.admitted) throw new ApiError(401, 'DEVICE_AUTH', 'unknown or revoked device, or wrong token');
        const { device } = admission;
        const highWaterSeq = await highestStoredSeq(db, device.deviceId);
        await recordAudit(db, {
          action: 'device.high_water',
          actor: { kind: 'device', deviceId: device.deviceId },
          patientId: device.patientId,
          teamId: device.teamId,
          origin,
        });
        return { status: 200, body: { deviceId: device.deviceId, highWaterSeq } };
      },
    }),
  ];
}
