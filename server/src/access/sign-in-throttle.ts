import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Failed password sign-ins slow down, per account and per source address; nobody is locked out.
 *
 * Each counter allows some failures in a window, then asks for a growing wait (doubling from
 * 1 s to a cap) before the next attempt. Only failures count: an attempt is reserved before its
 * password is checked (so concurrent guesses cannot slip past the count), and a success gives the
 * reservation back. A ward behind one NAT is therefore never stopped by its own sign-ins at shift
 * change, and an attacker guessing one account makes its owner wait at most the account cap,
 * never a lock-out. The account key is the e-mail as typed (lower-cased and hashed), so an
 * unknown address is throttled exactly like a real one and the answer tells nothing.
 */
export interface ThrottleRule {
  /** Failures in the window before waits begin. */
  free: number;
  windowSeconds: number;
  /** The longest wait between two attempts. */
  maxWaitSeconds: number;
}

export const SIGN_IN_THROTTLE = {
  account: { free: 5, windowSeconds: 900, maxWaitSeconds: 300 },
  source: { free: 50, windowSeconds: 900, maxWaitSeconds: 900 },
} as const satisfies Record<string, ThrottleRule>;

// KEYS: account count, account wait, source count, source wait.
// ARGV: per rule (account, then source): free, window s, max wait s.
// Answers 0 and the wait in ms while either wait runs; else reserves one attempt on both
// counters, starts their next waits where they are past their free failures, and answers 1.
const RESERVE = `
local wait = math.max(redis.call('PTTL', KEYS[2]), redis.call('PTTL', KEYS[4]))
if wait > 0 then return {0, wait} end
for i = 0, 1 do
  local count = redis.call('INCR', KEYS[1 + 2 * i])
  local free, window, cap = tonumber(ARGV[1 + 3 * i]), tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i])
  if count == 1 then redis.call('EXPIRE', KEYS[1 + 2 * i], window) end
  if count >= free then
    local seconds = math.min(2 ^ (count - free), cap)
    redis.call('SET', KEYS[2 + 2 * i], '1', 'PX', math.floor(seconds * 1000))
    redis.call('EXPIRE', KEYS[1 + 2 * i], math.max(window, cap))
  end
end
return {1, 0}
`;

// A success: the account starts afresh; the source gets its reservation back, and its wait ends
// unless it is still past its free failures. ARGV: the source's free failures.
const RELEASE = `
redis.call('DEL', KEYS[1], KEYS[2])
local left = redis.call('DECR', KEYS[3])
if left <= 0 then redis.call('DEL', KEYS[3]) end
if left < tonumber(ARGV[1]) then redis.call('DEL', KEYS[4]) end
return left
`;

export type Reservation = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class SignInThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly rules: { account: ThrottleRule; source: ThrottleRule } = SIGN_IN_THROTTLE,
  ) {}

  private keys(email: string, source: string): string[] {
    const account = createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
    const base = `${this.prefix}:sign-in`;
    return [
      `${base}:account:${account}`,
      `${base}:account-wait:${account}`,
      `${base}:source:${source}`,
      `${base}:source-wait:${source}`,
    ];
  }

  /** Reserves one attempt, or answers how long to wait first. */
  async reserve(email: string, source: string): Promise<Reservation> {
    const { account, source: from } = this.rules;
    const [allowed, waitMs] = (await this.redis.eval(
      RESERVE,
      4,
      ...this.keys(email, source),
      account.free,
      account.windowSeconds,
      account.maxWaitSeconds,
      from.free,
      from.windowSeconds,
      from.maxWaitSeconds,
    )) as [number, number];
    return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterSeconds: Math.ceil(waitMs / 1000) };
  }

  /** The attempt succeeded: it was no failure. */
  async succeeded(email: string, source: string): Promise<void> {
    await this.redis.eval(RELEASE, 4, ...this.keys(email, source), this.rules.source.free);
  }
}
