import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Failed device verifications are throttled, per device id and per source address, so a flood of
 * wrong tokens cannot buy one argon2 hash per attempt. Only failures count: a meter with the right
 * token never uses up its device's or its address's allowance, so a reconnect storm of 10,000
 * meters behind one address is never throttled. Past its limit, a key is refused without hashing
 * until its fixed window ends; the refusal says when (`retryAfterMs`).
 *
 * Counters live in Redis, so every server counts the same failures. When Redis does not answer,
 * each server counts in its own memory instead (fail open, never closed: a Redis outage must not
 * stop ingest); with N servers an attacker then gets up to N times the allowance.
 */
export interface FailureLimit {
  /** Failed verifications allowed in one window; the next attempt waits for the window's end. */
  failures: number;
  windowMs: number;
}

export type ThrottleScope = 'device' | 'source';

/**
 * A meter that lost its pairing retries with backoff and stops on DEVICE_AUTH, so 10 failures a
 * minute for one id is far above any honest device. An address may carry a whole ward's meters
 * behind NAT, or a gateway's: 30 failed verifications a minute from one address.
 */
export const DEVICE_AUTH_LIMITS: Readonly<Record<ThrottleScope, FailureLimit>> = {
  device: { failures: 10, windowMs: 60_000 },
  source: { failures: 30, windowMs: 60_000 },
};

export type ThrottleVerdict = { allowed: true } | { allowed: false; scope: ThrottleScope; retryAfterMs: number };

/** The counters of one attempt: its device id's and its source address's. */
export type AttemptKeys = Readonly<Record<ThrottleScope, string>>;

const SCOPES: readonly ThrottleScope[] = ['device', 'source'];

/** Where failures are counted. */
export interface FailureCounter {
  check(keys: AttemptKeys): Promise<ThrottleVerdict>;
  recordFailure(keys: AttemptKeys): Promise<void>;
}

/** Failure counts in this process's memory: the fallback while Redis does not answer, and the rules in one place. */
export class LocalFailureCounter implements FailureCounter {
  /** key -> failures in the window, and when it ends. Insertion order is window order. */
  readonly #windows = new Map<string, { failures: number; endsAt: number }>();

  constructor(
    private readonly limits: Readonly<Record<ThrottleScope, FailureLimit>> = DEVICE_AUTH_LIMITS,
    private readonly now: () => number = Date.now,
    /** An attacker's random ids cost one entry each; at this many the oldest windows go first. */
    private readonly maxKeys = 100_000,
  ) {}

  get size(): number {
    return this.#windows.size;
  }

  async check(keys: AttemptKeys): Promise<ThrottleVerdict> {
    const now = this.now();
    for (const scope of SCOPES) {
      const window = this.#live(`${scope}:${keys[scope]}`, now);
      if (window && window.failures >= this.limits[scope].failures) {
        return { allowed: false, scope, retryAfterMs: window.endsAt - now };
      }
    }
    return { allowed: true };
  }

  async recordFailure(keys: AttemptKeys): Promise<void> {
    const now = this.now();
    for (const scope of SCOPES) {
      const key = `${scope}:${keys[scope]}`;
      const window = this.#live(key, now);
      if (window) {
        window.failures++;
        continue;
      }
      while (this.#windows.size >= this.maxKeys) this.#windows.delete(this.#windows.keys().next().value!);
      this.#windows.set(key, { failures: 1, endsAt: now + this.limits[scope].windowMs });
    }
  }

  #live(key: string, now: number) {
    const window = this.#windows.get(key);
    if (window && window.endsAt <= now) {
      this.#windows.delete(key);
      return undefined;
    }
    return window;
  }
}

// KEYS: the device's counter, the source's. ARGV: their failure limits.
// Answers {scope index, ms left} for the first counter at its limit, else {0, 0}.
const CHECK = `
for i = 1, 2 do
  local failures = tonumber(redis.call('GET', KEYS[i]) or '0')
  if failures >= tonumber(ARGV[i]) then
    local left = redis.call('PTTL', KEYS[i])
    if left > 0 then return {i, left} end
  end
end
return {0, 0}
`;

// KEYS as above. ARGV: their windows in ms. A window starts with its first failure (INCR and
// PEXPIRE together, so no counter is ever left without its expiry).
const RECORD_FAILURE = `
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[i]) end
end
return 0
`;

/** Failure counts in Redis, shared by every server. */
export class RedisFailureCounter implements FailureCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limits: Readonly<Record<ThrottleScope, FailureLimit>> = DEVICE_AUTH_LIMITS,
  ) {}

  #keys(keys: AttemptKeys): string[] {
    return SCOPES.map((scope) => `${this.prefix}:device-auth:${scope}:${keys[scope]}`);
  }

  async check(keys: AttemptKeys): Promise<ThrottleVerdict> {
    const { device, source } = this.limits;
    const [index, left] = (await this.redis.eval(CHECK, 2, ...this.#keys(keys), device.failures, source.failures)) as [
      number,
      number,
    ];
    return index === 0 ? { allowed: true } : { allowed: false, scope: SCOPES[index - 1]!, retryAfterMs: left };
  }

  async recordFailure(keys: AttemptKeys): Promise<void> {
    const { device, source } = this.limits;
    await this.redis.eval(RECORD_FAILURE, 2, ...this.#keys(keys), device.windowMs, source.windowMs);
  }
}

export interface DeviceAuthThrottleOptions {
  /** Shared counters; without them (or while they fail) this process counts alone. */
  shared?: FailureCounter;
  local?: FailureCounter;
  log: Logger;
  /** A shared counter slower than this is treated as down for that attempt. */
  sharedTimeoutMs?: number;
  /** Told each time an attempt is counted in memory because the shared counters failed. */
  onFallback?: () => void;
}

/** The shared counters, falling back to this process's own when they fail or are slow. */
export class DeviceAuthThrottle implements FailureCounter {
  readonly #shared: FailureCounter | undefined;
  readonly #local: FailureCounter;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #onFallback: () => void;
  #degraded = false;

  constructor(options: DeviceAuthThrottleOptions) {
    this.#shared = options.shared;
    this.#local = options.local ?? new LocalFailureCounter();
    this.#log = options.log;
    this.#timeoutMs = options.sharedTimeoutMs ?? 250;
    this.#onFallback = options.onFallback ?? (() => undefined);
  }

  check(keys: AttemptKeys): Promise<ThrottleVerdict> {
    return this.#either((counter) => counter.check(keys));
  }

  recordFailure(keys: AttemptKeys): Promise<void> {
    return this.#either((counter) => counter.recordFailure(keys));
  }

  async #either<T>(call: (counter: FailureCounter) => Promise<T>): Promise<T> {
    if (this.#shared) {
      try {
        const answer = await withTimeout(call(this.#shared), this.#timeoutMs);
        if (this.#degraded) this.#log.info('device auth throttle: shared counters answer again');
        this.#degraded = false;
        return answer;
      } catch (err) {
        if (!this.#degraded) {
          this.#log.warn(
            { err: (err as Error).message },
            'device auth throttle counts failures in this process only (Redis did not answer)',
          );
        }
        this.#degraded = true;
        this.#onFallback();
      }
    }
    return call(this.#local);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined); // a late failure after the timeout has no one to tell
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
