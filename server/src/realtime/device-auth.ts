import type pg from 'pg';
import { deviceCredential } from '@glucoboard/core/storage';
import { verifySecret } from '@glucoboard/core/platform';
import { ChangeCounter } from './change-counter.ts';
import { VerifiedDeviceCache, type DeviceCacheOptions, type VerifiedDevice } from './device-cache.ts';
import { LocalFailureCounter, type FailureCounter, type ThrottleScope } from './auth-throttle.ts';
import { VerificationSlots } from './verification-slots.ts';

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
 * An argon2id hash, at the cost of hashDeviceToken's, of a value no token equals. An unknown
 * device is checked against it, so "no such device" takes as long as "wrong token" and the answer
 * time does not tell an attacker which serials exist (nor costs 13 times more, as a password-cost
 * hash would).
 */
export const DUMMY_HASH =
  '$argon2id$v=19$m=4096,t=1,p=1$SvakWxlsV1gcuelKypeQEA$6FeuUe6xKAt8znkqQJ6K46ojPJL0lvxUjgb3BrUbI44';

/** One attempt to authenticate: the credentials, and the address they came from (for the throttle). */
export interface DeviceAttempt extends DeviceCredentials {
  source: string;
}

export type DeviceAdmission =
  | { admitted: true; device: VerifiedDevice }
  /** Unknown or revoked device, or a wrong token: DEVICE_AUTH. */
  | { admitted: false; reason: 'refused' }
  /** Too many failures for this id or from this address: not checked; try again after retryAfterMs. */
  | { admitted: false; reason: 'throttled'; scope: ThrottleScope; retryAfterMs: number };

/** What /metrics counts of device verifications. */
export interface DeviceAuthMetrics {
  /** An argon2 verification ran (a cache miss that was not throttled). */
  verified(ok: boolean): void;
  throttled(scope: ThrottleScope): void;
}

export interface DeviceAuthOptions {
  cache?: DeviceCacheOptions;
  throttle?: FailureCounter;
  metrics?: DeviceAuthMetrics;
  /** Verifications at once (see VerificationSlots). */
  slots?: number;
}

export interface DeviceAuthenticator {
  /**
   * A cached verification admits at once, whatever the throttle says: a meter whose token is known
   * good keeps connecting while its id is flooded. Otherwise the throttle decides whether the token
   * is checked at all. Throws if the database fails.
   */
  authenticate(attempt: DeviceAttempt): Promise<DeviceAdmission>;
  /** Forgets this server's cached verifications of the device; verifications in flight read again. */
  forget(deviceId: string): void;
  readonly cacheSize: number;
}

const REFUSED = { admitted: false, reason: 'refused' } as const;

export function createDeviceAuthenticator(db: pg.Pool, options: DeviceAuthOptions = {}): DeviceAuthenticator {
  const cache = new VerifiedDeviceCache(options.cache);
  const changes = new ChangeCounter();
  const throttle = options.throttle ?? new LocalFailureCounter();
  const slots = new VerificationSlots(options.slots ?? 8);
  const metrics = options.metrics;

  async function verify({ deviceId, token }: DeviceCredentials): Promise<VerifiedDevice | null> {
    const found = await deviceCredential(db, deviceId);
    if (!found) {
      await verifySecret(DUMMY_HASH, token);
      return null;
    }
    return (await verifySecret(found.tokenHash, token))
      ? {
          deviceId,
          kind: found.kind,
          patientId: found.patientId,
          teamId: found.teamId,
          acceptsReadingsFrom: found.acceptsReadingsFrom,
        }
      : null;
  }

  async function checked(attempt: DeviceAttempt, key: string): Promise<DeviceAdmission> {
    // Verified by another attempt while this one waited for its slot (a meter connecting twice).
    const cached = cache.get(key);
    if (cached) return { admitted: true, device: cached };
    const keys = { device: attempt.deviceId, source: attempt.source };
    const verdict = await throttle.check(keys);
    if (!verdict.allowed) {
      metrics?.throttled(verdict.scope);
      return { admitted: false, reason: 'throttled', scope: verdict.scope, retryAfterMs: verdict.retryAfterMs };
    }
    // A revoke that lands while we hash must not leave its old token cached (or admitted).
    const device = await changes.readStable(() => verify(attempt));
    metrics?.verified(device !== null);
    if (!device) {
      // Counted before the slot is given back, so the next attempt in line sees it.
      await throttle.recordFailure(keys);
      return REFUSED;
    }
    cache.set(key, device);
    return { admitted: true, device };
  }

  return {
    async authenticate(attempt) {
      const key = VerifiedDeviceCache.key(attempt.deviceId, attempt.token);
      const cached = cache.get(key);
      if (cached) return { admitted: true, device: cached };
      return slots.run(() => checked(attempt, key));
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
