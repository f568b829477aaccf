/** A shared clock for "time since" texts and time-dependent triage: one timer for the whole app. */
export const CLOCK_TICK_MS = 5_000;

class Clock {
  now = $state(Date.now());

  constructor() {
    if (typeof window !== 'undefined') setInterval(() => (this.now = Date.now()), CLOCK_TICK_MS);
  }
}

export const clock = new Clock();
