import type pg from 'pg';
import { hashDeviceToken, newSecret } from '@glucoboard/core/platform';
import { deviceStanding, pairDevice, patientOfDevice, type NewDevice } from '@glucoboard/core/storage';
import { patientAccess, type PatientAccess } from '../access/policy.ts';
import type { SignedInUser } from '../access/sessions.ts';
import { ApiError, notFound } from '../http/errors.ts';
import { nightscoutDigests } from '../nightscout/index.ts';

/**
 * What the device routes (devices.ts, device-loans.ts, meter.ts) share: who may change a device,
 * a device's new token, and pairing a new serial with a patient.
 */

/** The device's patient, checked for team administration; another team's device answers 404. */
export async function administeredDevice(db: pg.Pool, user: SignedInUser, deviceId: string): Promise<PatientAccess> {
  const patientId = await patientOfDevice(db, deviceId);
  if (!patientId) throw notFound('device');
  try {
    return await patientAccess(db, user, patientId, 'admin');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) throw notFound('device');
    throw err;
  }
}

/** A new device token (shown once, never stored) and what is stored of it: its hash and its Nightscout digests. */
export async function freshDeviceToken(db: pg.Pool) {
  const token = newSecret();
  return { token, tokenHash: await hashDeviceToken(token), nightscout: await nightscoutDigests(db, token) };
}

/**
 * Pairs a new serial with a patient under a fresh token, which it returns. A serial paired
 * already is refused as DEVICE_EXISTS; a retired one never comes back (docs/follow-up.md,
 * "Meters"), and is refused as DEVICE_RETIRED: said so, not just "exists".
 */
export async function pairNewDevice(db: pg.Pool, device: Omit<NewDevice, 'tokenHash' | 'nightscout'>): Promise<string> {
  const { token, ...credential } = await freshDeviceToken(db);
  try {
    await pairDevice(db, { ...device, ...credential });
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      if ((await deviceStanding(db, device.serial))?.retiredAt)
        throw new ApiError(409, 'DEVICE_RETIRED', 'this meter was replaced and is retired for good', 'serial');
      throw new ApiError(409, 'DEVICE_EXISTS', 'a device with that serial is paired already', 'serial');
    }
    throw err;
  }
  return token;
}
