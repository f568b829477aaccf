import type { MeterIdentity } from './meter.ts';
import type { TimerHost } from './scheduler.ts';
import { startSimulation, type Progress, type SimulationReport } from './simulation.ts';
import type { UplinkFactory } from './uplink.ts';

/**
 * The demo's live meters: a few dozen devices (the demo device file) measuring in real time, speed
 * 1, from now on, until stopped. A demo meter's serial is a demo patient's, so it goes on with the
 * same glucose profile the demo's history was made with. Nothing malformed, nothing dropped on
 * purpose: the board should look like a clinic on an ordinary day.
 *
 * The devices' nextSeq must lie past every seq already stored (else the server answers
 * SEQ_CONFLICT); after a restart, pass them through continueAfterStored first.
 */
export interface LiveMetersOptions {
  url?: string;
  devices: readonly MeterIdentity[];
  seed?: number;
  /** Meters connect at random over this window (default: 200 ms per meter, at most 10 s). */
  rampMs?: number;
  onProgress?: (progress: Progress) => void;
  timers?: TimerHost;
  uplinks?: UplinkFactory;
}

export interface LiveMeters {
  progress(): Progress;
  /** Stops measuring, lets queued readings go out (up to 5 s) and closes; the report has the next seqs. */
  stop(): Promise<SimulationReport>;
}

export function startLiveMeters(options: LiveMetersOptions): LiveMeters {
  const simulation = startSimulation({
    url: options.url,
    devices: options.devices,
    seed: options.seed ?? 1,
    speed: 1,
    historyMs: 0,
    rampMs: options.rampMs ?? Math.min(10_000, 200 * options.devices.length),
    drainTimeoutMs: 5000,
    onProgress: options.onProgress,
    timers: options.timers,
    uplinks: options.uplinks,
  });
  return {
    progress: () => simulation.progress(),
    stop() {
      simulation.stop();
      return simulation.done;
    },
  };
}
