import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, retryAfterDelay } from '../src/backoff.ts';

const policy = { baseMs: 500, capMs: 30_000 };

describe('reconnect backoff (exponential, full jitter)', () => {
  it('doubles the ceiling per failure up to the cap', () => {
    expect([0, 1, 2, 3, 5, 6, 7, 60, 5000].map((a) => backoffCeiling(a, policy))).toEqual([
      500, 1000, 2000, 4000, 16_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('draws every delay from [0, ceiling)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, u) => {
          const delay = backoffDelay(attempt, policy, () => u);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(backoffCeiling(attempt, policy));
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
    );
  });

  it('spreads the whole range (full jitter, not equal jitter)', () => {
    expect(backoffDelay(4, policy, () => 0)).toBe(0);
    expect(backoffDelay(4, policy, () => 0.999_999)).toBe(7999);
  });

  it('waits at least what the server asked after OVERLOADED, and at most half as much again', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (asked, u) => {
          const wait = retryAfterDelay(asked, () => u);
          expect(wait).toBeGreaterThanOrEqual(asked);
          expect(wait).toBeLessThanOrEqual(Math.round(asked * 1.5));
        },
      ),
    );
    expect(retryAfterDelay(undefined, () => 0)).toBe(1000);
    expect(retryAfterDelay(-5, () => 0)).toBe(1000);
    expect(retryAfterDelay(Number.NaN, () => 0)).toBe(1000);
  });
});
