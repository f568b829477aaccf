import type { DeviceKind } from '@glucoboard/core/domain';
import { createHash } from 'node:crypto';

/** A device whose credentials verified, and whom its readings belong to. */
export interface VerifiedDevice {
  deviceId: string;
  kind: DeviceKind;
  patientId: string;
  teamId: string;
}

export interface DeviceCacheOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

export const DEFAULT_DEVICE_CACHE: DeviceCacheOptions = { ttlMs: 5 * 60_000, maxEntries: 50_000 };

/**
 * Successful device verifications, so a reconnect storm costs one argon2 hash per device per
 * TTL instead of one per connection. Keyed by sha256(deviceId \0 token): the token itself is
 * never held. Entries live `ttlMs` from verification (not from last use); when full, the oldest
 * verification goes first. Failures are never cached.
 */
export class VerifiedDeviceCache {
  readonly #entries = new Map<string, { device: VerifiedDevice; expiresAt: number }>();
  /** deviceId -> its keys, to drop a device whose token is unknown to us. */
  readonly #byDevice = new Map<string, Set<string>>();
  readonly #options: Required<DeviceCacheOptions>;

  constructor(options: DeviceCacheOptions = DEFAULT_DEVICE_CACHE) {
    this.#options = { now: Date.now, ...options };
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
    if (entry.expiresAt <= this.#options.now()) {
      this.#delete(key, entry.device.deviceId);
      return undefined;
    }
    return entry.device;
  }

  set(key: string, device: VerifiedDevice): void {
    const previous = this.#entries.get(key);
    if (previous) this.#delete(key, previous.device.deviceId);
    while (this.#entries.size >= this.#options.maxEntries) {
      const [oldestKey, oldest] = this.#entries.entries().next().value!;
      this.#delete(oldestKey, oldest.device.deviceId);
    }
    this.#entries.set(key, { device, expiresAt: this.#options.now() + this.#options.ttlMs });
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
