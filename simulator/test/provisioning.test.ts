import { describe, expect, it } from 'vitest';
import { inParallel } from '../src/provisioning.ts';
import { formatProgress } from '../src/progress.ts';

describe('provisioning', () => {
  it('runs every task once with at most `limit` at a time', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await inParallel(50, 4, async (i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, (i * 7) % 5));
      done.push(i);
      running--;
    });
    expect(most).toBe(4);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('stops taking tasks after the first failure and reports it', async () => {
    const started: number[] = [];
    await expect(
      inParallel(100, 2, async (i) => {
        started.push(i);
        if (i === 3) throw new Error('409 DEVICE_EXISTS');
        await new Promise((resolve) => setTimeout(resolve, 1));
      }),
    ).rejects.toThrow('409 DEVICE_EXISTS');
    expect(started.length).toBeLessThan(10);
  });
});

describe('progress line', () => {
  it('shows counts, codes, rate and latency', () => {
    const line = formatProgress({
      phase: 'running',
      elapsedMs: 12_000,
      simulatedAt: Date.parse('2026-01-15T10:00:00Z'),
      meters: 5000,
      connected: 4990,
      sent: 123_456,
      answered: 120_000,
      accepted: 119_000,
      duplicates: 12,
      rejected: { OUT_OF_RANGE: 3 },
      refusedBatches: { OVERLOADED: 2 },
      pending: 45,
      ratePerSecond: 2010.4,
      ackP50Ms: 4.2,
      ackP99Ms: Number.NaN,
    });
    expect(line).toBe(
      '   12s running | sim 2026-01-15T10:00Z | connected 4,990/5,000 | sent 123,456 | acked 119,012 (dup 12) | ' +
        'rejected OUT_OF_RANGE 3 | refused OVERLOADED 2 | pending 45 | 2,010/s | ack p50 4ms p99 -',
    );
  });
});
