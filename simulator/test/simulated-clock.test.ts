import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { historyFor, simulatedClock } from '../src/simulated-clock.ts';

const NOW = Date.parse('2026-01-15T12:00:00Z');
const MINUTE = 60_000;

describe('simulated clock', () => {
  it('ends a 10-minute run at speed 60 exactly at real now, having told the last 10 hours', () => {
    const duration = 10 * MINUTE;
    const clock = simulatedClock({ realStart: NOW, simStart: NOW - historyFor(duration, 60), speed: 60 });
    expect(clock.simAt(NOW)).toBe(NOW - 590 * MINUTE);
    expect(clock.simAt(NOW + duration)).toBe(NOW + duration);
    expect(clock.simAt(NOW + 5 * MINUTE)).toBe(NOW - 590 * MINUTE + 300 * MINUTE);
  });

  it('has a CGM at speed 60 measure every 5 s of real time', () => {
    const clock = simulatedClock({ realStart: NOW, simStart: NOW - 10 * 60 * MINUTE, speed: 60 });
    const first = clock.simStart + 5 * MINUTE;
    expect(clock.realAt(first + 5 * MINUTE) - clock.realAt(first)).toBe(5000);
  });

  it('never runs ahead of real time, and keeps pace with it once caught up', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 10_000, noNaN: true }),
        fc.integer({ min: 0, max: 30 * 24 * 60 * MINUTE }),
        fc.integer({ min: -MINUTE, max: 365 * 24 * 60 * MINUTE }),
        (speed, history, elapsed) => {
          const clock = simulatedClock({ realStart: NOW, simStart: NOW - history, speed });
          const real = NOW + elapsed;
          const sim = clock.simAt(real);
          expect(sim).toBeLessThanOrEqual(Math.max(real, NOW - history));
          expect(sim).toBeGreaterThanOrEqual(NOW - history);
          // Monotonic: a later real instant is never an earlier simulated one.
          expect(clock.simAt(real + 1000)).toBeGreaterThanOrEqual(sim);
          if (sim === real) expect(clock.simAt(real + 1000)).toBe(real + 1000);
        },
      ),
    );
  });

  it('maps a simulated instant to the first whole real millisecond that reaches it (within float rounding)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1000, noNaN: true }),
        fc.integer({ min: 0, max: 7 * 24 * 60 * MINUTE }),
        fc.integer({ min: 0, max: 14 * 24 * 60 * MINUTE }),
        (speed, history, ahead) => {
          const clock = simulatedClock({ realStart: NOW, simStart: NOW - history, speed });
          const sim = clock.simStart + ahead;
          const real = clock.realAt(sim);
          expect(Number.isInteger(real)).toBe(true);
          expect(real).toBeGreaterThanOrEqual(NOW);
          expect(clock.simAt(real)).toBeGreaterThanOrEqual(sim - 1e-3);
          if (real > NOW) expect(clock.simAt(real - 1)).toBeLessThan(sim);
        },
      ),
    );
  });

  it('is plain real time at speed 1 with no history', () => {
    const clock = simulatedClock({ realStart: NOW, simStart: NOW, speed: 1 });
    expect(clock.simAt(NOW + 12_345)).toBe(NOW + 12_345);
    expect(clock.realAt(NOW + 12_345)).toBe(NOW + 12_345);
  });

  it('refuses a start in the future and a speed that is not positive', () => {
    expect(() => simulatedClock({ realStart: NOW, simStart: NOW + 1, speed: 2 })).toThrow(RangeError);
    expect(() => simulatedClock({ realStart: NOW, simStart: NOW, speed: 0 })).toThrow(RangeError);
  });
});
