import { describe, expect, it } from 'vitest';
import { connectingLines, type ProfileResult } from '../src/bench/report.ts';

const acks = (p99: number) => ({ count: 100, p50: 10, p95: 20, p99, max: p99 + 1 });

const steady = (connecting?: ProfileResult['connecting']): ProfileResult => ({
  meters: 10_000,
  readingsSent: 0,
  accepted: 0,
  duplicates: 0,
  rejected: 0,
  refusedBatches: {},
  readingsPerSecond: 0,
  ackMs: acks(43),
  evaluatedAfterMs: 0,
  lost: 0,
  duplicated: 0,
  mismatched: 0,
  cpuCores: {},
  dbFlushes: 0,
  meanFlushMs: null,
  rowsPerFlush: null,
  serverPeakRssBytes: null,
  workersPeakRssBytes: null,
  ...(connecting ? { connecting } : {}),
});

describe('the bench report on a profile measured once connected', () => {
  it('says how many meters were connected when, and the acks of the whole run apart from the measured ones', () => {
    const [line] = connectingLines(steady({ seconds: 46.8, rampSeconds: 5, connected: 9_990, ackMs: acks(121) }));
    expect(line).toContain('9,990 of 10,000 were, 46.8 s after the start (they start over 5 s');
    expect(line).toContain('p50 / p95 / p99 10.0 / 20.0 / 121.0 ms');
  });

  it('says nothing for a profile measured from the start', () => {
    expect(connectingLines(steady())).toEqual([]);
  });
});
