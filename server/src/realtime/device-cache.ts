import type { DeviceKind } from '@glucoboard/core/domain';
import { createHash } from 'node:crypto';

/** A device whose credentials verified, and whom its readings belong to. */
export interface VerifiedDevice {
  deviceId: string;
  kind: DeviceKind;
  patientId: string;
  teamId: string;
  /**
   * Readings measured before this are not this patient's (a lent meter's memory, see
   * domain/meter-loans.ts); null: every reading is. Undefined: not known, ingest looks it up.
   */
  acceptsReadingsFrom?: Date | null;
}

export interface DeviceCacheOptions {
  /** An entry not used for this long is forgotten. */
  ttlMs: number;
  /** An entry is forgotten this long after its verification, however often it is used. */
  maxAgeMs?: number;
  maxEntries: number;
  now?: () => number;
}

export const DEFAULT_DEVICE_CACHE: DeviceCacheOptions = {
  ttlMs: 5 * 60_000,
  maxAgeMs: 60 * 60_000,
  maxEntries: 50_000,
};

/**
 * Successful device verifications, so a reconnect storm costs one argon2 hash per device per
 * hour instead of one per connection. Keyed by sha256(deviceId \0 token): the token itself is
 * never held. An entry lives `ttlMs` from its last use, so meters that keep reconnecting stay
 * cached, and at most `maxAgeMs` from its verification; a revoke or a new token drops it at once
 * on every server. When full, the oldest verification goes first. Failures are never cached.
 */
export class VerifiedDeviceCache {
  readonly #entries = new Map<string, { device: VerifiedDevice; usedAt: number; verifiedAt: number }>();
  /** deviceId -> its keys, to drop a device whose token is unknown to us. */
  readonly #byDevice = new Map<string, Set<string>>();
  readonly #options: Required<DeviceCacheOptions>;

  constructor(options: DeviceCacheOptions = DEFAULT_DEVICE_CACHE) {
    this.#options = { now: Date.now, maxAgeMs: options.ttlMs, ...options };
  }

  static key(deviceId: string, token: string): string {
    return createHash('sha256').update(deviceId).update('\0').update(token).digest('hex');
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): VerifiedDevice | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const now = this.#options.now();
    if (now - entry.usedAt >= this.#options.ttlMs || now - entry.verifiedAt >= this.#options.maxAgeMs) {
      this.#delete(key, entry.device.deviceId);
      return undefined;
    }
    entry.usedAt = now;
    return entry.device;
  }

  set(key: string, device: VerifiedDevice): void {
    const previous = this.#entries.get(key);
    if (previous) this.#delete(key, previous.device.deviceId);
    while (this.#entries.size >= this.#options.maxEntries) {
      const [oldestKey, oldest] = this.#entries.entries().next().value!;
      this.#delete(oldestKey, oldest.device.deviceId);
    }
    const now = this.#options.now();
    this.#entries.set(key, { device, usedAt: now, verifiedAt: now });
    let keys = this.#byDevice.get(device.deviceId);
    if (!keys) this.#byDevice.set(device.deviceId, (keys = new Set()));
    keys.add(key);
  }

  /** Forgets every verification of the device (after a revoke or a new token). */
  dropDevice(deviceId: string): number {
    const keys = this.#byDevice.get(deviceId);
    if (!keys) return 0;
    for (const key of keys) this.#entries.delete(key);
    this.#byDevice.delete(deviceId);
    return keys.size;
  }

  #delete(key: string, deviceId: string): void {
    this.#entries.delete(key);
    const keys = this.#byDevice.get(deviceId);
    keys?.delete(key);
    if (keys?.size === 0) this.#byDevice.delete(deviceId);
  }
}
