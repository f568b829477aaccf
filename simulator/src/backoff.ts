/**
 * Reconnect delays: exponential backoff with full jitter (a uniform draw between 0 and the
 * exponential ceiling). When a server restarts, 10,000 meters lose their connection at the same
 * instant; full jitter spreads their returns evenly instead of in synchronised waves.
 */
export interface BackoffPolicy {
  /** Ceiling of the first retry's delay (ms). */
  baseMs: number;
  /** Largest ceiling, however many attempts failed (ms). */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000 };

/** The ceiling for a retry after `attempt` failures in a row (attempt 0 is the first retry). */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  // 2 ** attempt overflows to Infinity for huge attempts, which min() then caps.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
}

/** A delay in [0, ceiling) for the retry after `attempt` failures in a row. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  return Math.floor(random() * backoffCeiling(attempt, policy));
}

/**
 * The wait after OVERLOADED or UNAVAILABLE: what the server asked for (1 s if it did not say), plus
 * up to half as much again at random so the refused meters do not all come back in the same tick.
 */
export function retryAfterDelay(retryAfterMs: number | undefined, random: () => number): number {
  const asked = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0 ? retryAfterMs : 1000;
  return Math.round(asked * (1 + 0.5 * random()));
}
