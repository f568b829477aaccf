import { MAX_FUTURE_SKEW_MS, MAX_READING_AGE_MS } from '@glucoboard/core/wire';

/**
 * Simulated time. The server refuses readings more than 5 minutes ahead of its clock and more than
 * 90 days behind it, so a simulation at `speed` N cannot simply start at "now" and run N times
 * faster: after a minute it would be an hour in the future. Instead the simulated clock starts in
 * the past and compresses it:
 *
 *     sim(t) = min(simStart + (t - realStart) × speed, t)
 *
 * It runs `speed` times faster than real time until it catches up with the real clock, and then
 * keeps pace with it (speed 1). So a simulated instant never passes real now. With a run of known
 * duration D the clock starts D × (speed − 1) back, and catches up exactly when the run ends: a
 * 10-minute run at speed 60 tells the last 10 hours, ending now.
 */
export interface SimulatedClock {
  readonly speed: number;
  /** Real instant (ms since the epoch) the simulation started. */
  readonly realStart: number;
  /** Simulated instant at realStart. */
  readonly simStart: number;
  /** Simulated instant at a real instant. */
  simAt(real: number): number;
  /** The first whole real millisecond at which the simulated clock reaches `sim` (at least realStart). */
  realAt(sim: number): number;
}

export function simulatedClock(options: { realStart: number; simStart: number; speed: number }): SimulatedClock {
  const { realStart, simStart, speed } = options;
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError('speed must be a positive number');
  if (simStart > realStart) throw new RangeError('simulated time must not start after real time');
  return {
    speed,
    realStart,
    simStart,
    simAt(real) {
      if (real <= realStart) return simStart;
      return Math.min(simStart + (real - realStart) * speed, real);
    },
    realAt(sim) {
      if (sim <= simStart) return realStart;
      // The compressed phase reaches sim at `compressed`; past the catch-up point sim is real time.
      const compressed = realStart + (sim - simStart) / speed;
      return Math.ceil(Math.max(compressed, sim));
    },
  };
}

/** How far back simulated time starts, so that a run of `durationMs` at `speed` ends at real now. */
export function historyFor(durationMs: number, speed: number): number {
  return Math.max(0, Math.round(durationMs * (speed - 1)));
}

/**
 * The oldest reading a simulation may produce, measured back from its start: the server's 90-day
 * limit less a day of margin (a long run moves "now" on, and a device clock may run behind).
 */
export const MAX_SIMULATED_PAST_MS = MAX_READING_AGE_MS - 86_400_000;

/** Largest per-device clock skew that keeps readings of a caught-up clock within the server's 5 minutes. */
export const MAX_CLOCK_SKEW_MS = MAX_FUTURE_SKEW_MS - 60_000;
