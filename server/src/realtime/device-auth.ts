import type { DeviceKind } from '@glucoboard/core/domain';
import type pg from 'pg';
import { verifySecret } from '@glucoboard/core/platform';
import { ChangeCounter } from './change-counter.ts';
import { VerifiedDeviceCache, type DeviceCacheOptions, type VerifiedDevice } from './device-cache.ts';

export interface DeviceCredentials {
  deviceId: string;
  token: string;
}

/** devices.serial is 1-64 characters; tokens are 32 characters, so 256 leaves room and bounds hashing work. */
const MAX_DEVICE_ID = 64;
const MAX_TOKEN = 256;

/** The handshake's `auth`, if it is exactly what the wire contract asks for: two non-empty strings. */
export function parseDeviceAuth(auth: unknown): DeviceCredentials | null {
  if (typeof auth !== 'object' || auth === null) return null;
  const { deviceId, token } = auth as Record<string, unknown>;
  if (typeof deviceId !== 'string' || deviceId.length === 0 || deviceId.length > MAX_DEVICE_ID) return null;
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN) return null;
  return { deviceId, token };
}

/**
 * An argon2id hash (same cost as hashSecret's) of a value no token equals. An unknown device is
 * checked against it, so "no such device" takes as long as "wrong token" and the answer time does
 * not tell an attacker which serials exist.
 */
export const DUMMY_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$M/hn7nD4M8HYqcK7rQ/RKQ$asFXM8rW0CLXbIG5MlmTbp2wTj5MAzcQLmw1N5i5vXQ';

export interface DeviceAuthenticator {
  /** The device, or null for an unknown or revoked device or a wrong token. Throws if the database fails. */
  authenticate(credentials: DeviceCredentials): Promise<VerifiedDevice | null>;
  /** Forgets this server's cached verifications of the device; verifications in flight read again. */
  forget(deviceId: string): void;
  readonly cacheSize: number;
}

export function createDeviceAuthenticator(db: pg.Pool, cacheOptions?: DeviceCacheOptions): DeviceAuthenticator {
  const cache = new VerifiedDeviceCache(cacheOptions);
  const changes = new ChangeCounter();

  async function verify({ deviceId, token }: DeviceCredentials): Promise<VerifiedDevice | null> {
    const found = await db.query<{ token_hash: string; kind: DeviceKind; patient_id: string; team_id: string }>(
      `select d.token_hash, d.kind, d.patient_id, p.team_id
       from devices d join patients p on p.id = d.patient_id
       where d.serial = $1 and d.revoked_at is null`,
      [deviceId],
    );
    const row = found.rows[0];
    if (!row) {
      await verifySecret(DUMMY_HASH, token);
      return null;
    }
    return (await verifySecret(row.token_hash, token))
      ? { deviceId, kind: row.kind, patientId: row.patient_id, teamId: row.team_id }
      : null;
  }

  return {
    async authenticate(credentials) {
      const key = VerifiedDeviceCache.key(credentials.deviceId, credentials.token);
      const cached = cache.get(key);
      if (cached) return cached;
      // A revoke that lands while we hash must not leave its old token cached (or admitted).
      const device = await changes.readStable(() => verify(credentials));
      if (device) cache.set(key, device);
      return device;
    },
    forget(deviceId) {
      changes.bump();
      cache.dropDevice(deviceId);
    },
    get cacheSize() {
      return cache.size;
    },
  };
}
