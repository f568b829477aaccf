import { z } from 'zod';
import { hashDeviceToken, newSecret } from '@glucoboard/core/platform';
import {
  devicesOfPatient,
  deviceStanding,
  revokeDevice,
  rotateDeviceToken,
  setNightscoutDigests,
} from '@glucoboard/core/storage';
import { newDeviceBody, deviceCredentialsView } from '@glucoboard/core/wire';
import { patientAccess } from '../access/policy.ts';
import { recordPatientEvent } from '../audit/trail.ts';
import { ApiError } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';
import { administeredDevice, pairNewDevice } from './device-pairing.ts';
import { nightscoutDigests } from '../nightscout/index.ts';

export function deviceRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;
  return [
    route({
      method: 'post',
      path: '/api/devices',
      tag: 'devices',
      summary: 'Pair a meter or sensor with a patient (team admin); the token is shown once',
      signedIn: true,
      body: newDeviceBody,
      responses: {
        201: {
          description: 'Paired',
          schema: deviceCredentialsView.extend({ kind: z.enum(['bgm', 'cgm']), patientId: z.string() }),
        },
        409: { description: 'DEVICE_EXISTS: the serial is paired already; DEVICE_RETIRED: it was replaced' },
      },
      async handle({ user, body, origin }) {
        const access = await patientAccess(db, user, body.patientId, 'admin');
        const token = await pairNewDevice(db, {
          serial: body.serial,
          kind: body.kind,
          patientId: access.patientId,
          pairedBy: user.userId,
        });
        await recordPatientEvent(db, 'device.pair', user.userId, access, origin, {
          deviceId: body.serial,
          kind: body.kind,
        });
        return { status: 201, body: { deviceId: body.serial, token, kind: body.kind, patientId: access.patientId } };
      },
    }),
    route({
      method: 'get',
      path: '/api/patients/:id/devices',
      tag: 'devices',
      summary: "The patient's devices (no tokens)",
      signedIn: true,
      params: { id: 'uuid' },
      responses: { 200: { description: 'Devices' } },
      async handle({ user, params, origin }) {
        const access = await patientAccess(db, user, params.id!, 'read');
        const devices = await devicesOfPatient(db, access.patientId);
        await recordPatientEvent(db, 'device.list', user.userId, access, origin);
        return { status: 200, body: { devices } };
      },
    }),
    route({
      method: 'post',
      path: '/api/devices/:deviceId/rotate',
      tag: 'devices',
      summary: 'Issue a new token (team admin); the old one stops working at once, live connections are closed',
      signedIn: true,
      params: { deviceId: 'text' },
      responses: {
        200: { description: 'The new token, shown once', schema: deviceCredentialsView },
        409: { description: 'DEVICE_REVOKED or DEVICE_RETIRED: a new token never brings a meter back' },
      },
      async handle({ user, params, origin }) {
        const deviceId = params.deviceId!;
        const access = await administeredDevice(db, user, deviceId);
        const revoked = () =>
          new ApiError(
            409,
            'DEVICE_REVOKED',
            'a revoked meter stays revoked: a new token does not bring it back; reactivate it or lend it explicitly',
          );
        const standing = await deviceStanding(db, deviceId);
        if (standing?.retiredAt)
          throw new ApiError(409, 'DEVICE_RETIRED', 'this meter was replaced and is retired for good');
        if (standing?.revokedAt) throw revoked();
        const token = newSecret();
        // First, so the old Nightscout secret is cut off even if what follows fails.
        await setNightscoutDigests(db, deviceId, await nightscoutDigests(db, token));
        if (!(await rotateDeviceToken(db, deviceId, await hashDeviceToken(token)))) throw revoked();
        await deps.live.deviceCredentialsChanged(deviceId);
        await recordPatientEvent(db, 'device.rotate', user.userId, access, origin, { deviceId });
        return { status: 200, body: { deviceId, token } };
      },
    }),
    route({
      method: 'post',
      path: '/api/devices/:deviceId/revoke',
      tag: 'devices',
      summary: "Revoke the device's token (team admin); live connections are closed at once",
      signedIn: true,
      params: { deviceId: 'text' },
      responses: { 200: { description: 'Revoked' } },
      async handle({ user, params, origin }) {
        const deviceId = params.deviceId!;
        const access = await administeredDevice(db, user, deviceId);
        const revokedAt = await revokeDevice(db, deviceId);
        await deps.live.deviceCredentialsChanged(deviceId);
        await recordPatientEvent(db, 'device.revoke', user.userId, access, origin, { deviceId });
        return { status: 200, body: { deviceId, revokedAt } };
      },
    }),
  ];
}
