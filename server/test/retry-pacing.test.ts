import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RetryPacer } from '../src/ingest/retry-pacing.ts';

describe('retry pacing of refused batches', () => {
  it('tells refused batches to come back in turn, at the rate the writer commits', () => {
    const pacer = new RetryPacer({ bufferRows: 10_000 });
    // 20,000 rows queued, 10 rows/ms: the first refused batch finds room once 10,000 are written.
    const waits = Array.from({ length: 5 }, () => pacer.retryAfterMs(0, 48, 20_000, 10));
    expect(waits).toEqual([1000, 1005, 1010, 1015, 1020]);
  });

  it('a thousand refused batches spread over the time their rows take to write', () => {
    const pacer = new RetryPacer({ bufferRows: 0 });
    let last = 0;
    for (let i = 0; i < 1000; i++) last = pacer.retryAfterMs(0, 50, 0, 5);
    // The 1,000th waits for the 999 before it: 49,950 rows at 5 rows/ms.
    expect(last).toBe(9990);
  });

  it('once the turns handed out have passed, only the queue counts', () => {
    const pacer = new RetryPacer({ bufferRows: 0 });
    pacer.retryAfterMs(0, 10_000, 0, 10); // the next turn is at 1,000 ms
    expect(pacer.retryAfterMs(500, 48, 0, 10)).toBe(500);
    expect(pacer.retryAfterMs(60_000, 48, 2_000, 10)).toBe(200);
  });

  it('waits the shortest time while the write rate is not known yet, and takes no turn', () => {
    const pacer = new RetryPacer({ bufferRows: 0, minMs: 100 });
    expect(pacer.retryAfterMs(0, 500, 20_000, 0)).toBe(100);
    expect(pacer.retryAfterMs(0, 48, 0, 1)).toBe(100);
  });

  it('every wait lies within its bounds, and turns handed out at one moment never go back', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            advanceMs: fc.integer({ min: 0, max: 5000 }),
            rows: fc.integer({ min: 1, max: 500 }),
            queuedRows: fc.integer({ min: 0, max: 50_000 }),
            rowsPerMs: fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 1000, noNaN: true })),
          }),
          { maxLength: 60 },
        ),
        (refusals) => {
          const pacer = new RetryPacer({ bufferRows: 4000, minMs: 100, maxMs: 60_000 });
          let now = 0;
          let lastTurn = -Infinity;
          for (const r of refusals) {
            now += r.advanceMs;
            const wait = pacer.retryAfterMs(now, r.rows, r.queuedRows, r.rowsPerMs);
            expect(wait).toBeGreaterThanOrEqual(100);
            expect(wait).toBeLessThanOrEqual(60_000);
            expect(Number.isInteger(wait)).toBe(true);
            if (r.advanceMs === 0 && r.rowsPerMs > 0 && lastTurn < now + 60_000) {
              expect(now + wait).toBeGreaterThanOrEqual(Math.min(lastTurn, now + 60_000) - 1);
            }
            if (r.rowsPerMs > 0) lastTurn = now + wait;
          }
        },
      ),
    );
  });
});
