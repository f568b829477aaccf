import type { Logger } from 'pino';

/** One step of a graceful stop, named so a step that hangs can be told apart in the log. */
export interface StopStep {
  readonly name: string;
  run(): Promise<void>;
}

/** How long one stop step may take before the stop goes on without it. */
export const STOP_STEP_MS = 10_000;

export const stopStep = (name: string, run: () => Promise<void>): StopStep => ({ name, run });

/**
 * Waits for work at most `ms`. A step that does not finish in time is logged by name and left
 * behind: a graceful stop that never ends is worse than one that skips a step, since what is cut
 * off is retried (jobs from their lock's expiry, readings by the device's resend).
 */
export async function withDeadline(work: Promise<void>, ms: number, name: string, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const started = Date.now();
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), ms);
  });
  const outcome = await Promise.race([
    work.then(
      () => 'done' as const,
      (err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err), step: name }, 'error while stopping');
        return 'failed' as const;
      },
    ),
    expired,
  ]);
  clearTimeout(timer);
  if (outcome === 'expired') log.error({ step: name, ms }, 'stop step did not finish in time; going on without it');
  else log.debug({ step: name, ms: Date.now() - started }, 'stopped');
}

/** Runs one step under STOP_STEP_MS (or `ms`); never throws. */
export const runStopStep = (step: StopStep, log: Logger, ms = STOP_STEP_MS): Promise<void> =>
  withDeadline(
    Promise.resolve().then(() => step.run()),
    ms,
    step.name,
    log,
  );
