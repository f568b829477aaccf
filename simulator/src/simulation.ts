import { DEVICE_KINDS } from '@glucoboard/core/domain';
import { MAX_BATCH_READINGS } from '@glucoboard/core/wire';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';
import { ConnectGate } from './connect-gate.ts';
import { formatDuration } from './durations.ts';
import { Ledger } from './ledger.ts';
import { measurementsOf } from './measurements.ts';
import { Meter, type MeterContext, type MeterIdentity } from './meter.ts';
import { Scheduler, type Timer, type TimerHost } from './scheduler.ts';
import { randomFor } from './seeds.ts';
import {
  historyFor,
  MAX_CLOCK_SKEW_MS,
  MAX_SIMULATED_PAST_MS,
  simulatedClock,
  type SimulatedClock,
} from './simulated-clock.ts';
import { summarise, type MeasuredFrom, type SimulationSummary } from './summary.ts';
import { Tally } from './tally.ts';
import { socketUplinks, type UplinkFactory } from './uplink.ts';

export interface SimulationOptions {
  /** The server, e.g. http://127.0.0.1:3000 (devices connect to its `/devices` namespace). */
  url?: string;
  /** The meters: credentials, kind and the seq each sends next. */
  devices: readonly MeterIdentity[];
  /** Same seed, same devices and same start: same readings. Default 42. */
  seed?: number;
  /** Simulated seconds per real second (default 1). */
  speed?: number;
  /** How long meters measure (real ms); unset: until stop() or the signal. */
  durationMs?: number;
  /**
   * Measure connected meters, not their handshakes: the duration (and the summary's `measured`)
   * starts once every meter is connected, or this long (real ms) after the start if they are not
   * all by then. SPEC's steady profile is of meters already connected; a fleet's handshakes (one
   * argon2id hash each) take longer than its ramp.
   */
  connectFirstMs?: number;
  /** Called when measuring starts: at once, or with connectFirstMs when the meters are connected. */
  onMeasuring?: () => void;
  /**
   * How far back simulated time starts (ms). Default: duration × (speed − 1), so that simulated
   * time reaches real now exactly when the run ends (with connectFirstMs, the duration plus that
   * wait: simulated time ends behind real now by what the wait did not use); without a duration,
   * 24 h when speed > 1.
   */
  historyMs?: number;
  /** Readings each meter already holds at the start, from this long before simulated time starts (ms). */
  backfillMs?: number;
  /** Meters start at random over this window (real ms). Measuring lasts at least this long. */
  rampMs?: number;
  /** Share (0..0.5) of queued items that are malformed. */
  malformedShare?: number;
  /** Share (0..1) of acks ignored as lost. */
  lostAckShare?: number;
  /** Share (0..1) of batches after which the meter drops its connection, batch in flight. */
  disconnectShare?: number;
  /** Share (0..1) of meters that now and then go out of range. */
  offlineShare?: number;
  /** Mean real length of a period out of range (ms, default 30 s). */
  outageMs?: number;
  /** Each meter's clock is off by up to this much, either way (ms, at most 4 min). */
  clockSkewMs?: number;
  ackTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Handshakes in flight at once (default 64). */
  maxConnecting?: number;
  backoff?: BackoffPolicy;
  /** Readings per batch (default and most 500). */
  maxBatch?: number;
  /** After measuring ends, how long to wait for queues to drain before closing (ms, default 30 s). */
  drainTimeoutMs?: number;
  /** Aborting ends measuring and drains, like stop(). */
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  progressIntervalMs?: number;
  /** Real time and the one host timer (default: the process's). */
  timers?: TimerHost;
  /** How meters connect (default: Socket.IO to `url`). */
  uplinks?: UplinkFactory;
}

/** A snapshot for the live progress line. */
export interface Progress {
  phase: 'running' | 'draining' | 'done';
  elapsedMs: number;
  simulatedAt: number;
  meters: number;
  connected: number;
  sent: number;
  answered: number;
  accepted: number;
  duplicates: number;
  rejected: Record<string, number>;
  refusedBatches: Record<string, number>;
  pending: number;
  /** Readings answered per second since the previous snapshot. */
  ratePerSecond: number;
  /** Ack latency percentiles since the previous snapshot (NaN if no acks came). */
  ackP50Ms: number;
  ackP99Ms: number;
}

export interface SimulationReport {
  summary: SimulationSummary;
  /** Every acked reading, for verifyStored. */
  ledger: Ledger;
  /** The devices with the seq each would send next, for a device file of a following run. */
  devices: MeterIdentity[];
}

export interface Simulation {
  readonly done: Promise<SimulationReport>;
  readonly ledger: Ledger;
  readonly clock: SimulatedClock;
  /** Ends measuring and drains the queues (up to drainTimeoutMs); with `{ drain: false }`, or a second time, closes at once. */
  stop(options?: { drain?: boolean }): void;
  progress(): Progress;
}

export class SimulationOptionError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'SimulationOptionError';
  }
}

type Optional =
  | 'url'
  | 'durationMs'
  | 'connectFirstMs'
  | 'onMeasuring'
  | 'signal'
  | 'onProgress'
  | 'timers'
  | 'uplinks';
type Resolved = Required<Omit<SimulationOptions, Optional>> & Pick<SimulationOptions, Optional>;

const DAY = 86_400_000;

/** Defaults filled in and every limit checked; throws SimulationOptionError with a message for a person. */
export function resolveSimulationOptions(options: SimulationOptions): Resolved {
  const fail = (message: string): never => {
    throw new SimulationOptionError(message);
  };
  const speed = options.speed ?? 1;
  if (!(speed > 0 && speed <= 1_000_000)) fail('speed must be above 0 and at most 1,000,000');
  const durationMs = options.durationMs;
  if (durationMs !== undefined && !(durationMs >= 0)) fail('duration must not be negative');
  const connectFirstMs = options.connectFirstMs;
  if (connectFirstMs !== undefined && !(connectFirstMs > 0 && Number.isFinite(connectFirstMs)))
    fail('the wait for every meter to connect must be above 0');
  const historyMs =
    options.historyMs ??
    (durationMs !== undefined ? historyFor(durationMs + (connectFirstMs ?? 0), speed) : speed > 1 ? DAY : 0);
  const backfillMs = options.backfillMs ?? 0;
  if (!(historyMs >= 0) || !(backfillMs >= 0)) fail('history and backfill must not be negative');
  if (historyMs + backfillMs > MAX_SIMULATED_PAST_MS) {
    fail(
      `the simulated past (${formatDuration(historyMs)} of compressed history + ${formatDuration(backfillMs)} of backfill) ` +
        `reaches further back than the server accepts readings (90 days, less a day of margin); ` +
        'shorten the duration, lower the speed or the backfill',
    );
  }
  const share = (name: string, value: number | undefined, max = 1) => {
    const v = value ?? 0;
    if (!(v >= 0 && v <= max)) fail(`${name} must be a share between 0 and ${max}`);
    return v;
  };
  const positive = (name: string, value: number | undefined, fallback: number) => {
    const v = value ?? fallback;
    if (!(v > 0 && Number.isFinite(v))) fail(`${name} must be above 0`);
    return v;
  };
  if (!((options.rampMs ?? 0) >= 0) || !((options.drainTimeoutMs ?? 0) >= 0))
    fail('ramp and drain time-out must not be negative');
  const clockSkewMs = options.clockSkewMs ?? 0;
  if (!(clockSkewMs >= 0 && clockSkewMs <= MAX_CLOCK_SKEW_MS)) {
    fail(
      `clock skew must be between 0 and ${formatDuration(MAX_CLOCK_SKEW_MS)}: the server refuses readings over 5 minutes ahead`,
    );
  }
  const maxBatch = options.maxBatch ?? MAX_BATCH_READINGS;
  if (!(Number.isInteger(maxBatch) && maxBatch >= 1 && maxBatch <= MAX_BATCH_READINGS)) {
    fail(`batch size must be a whole number from 1 to ${MAX_BATCH_READINGS}`);
  }
  if (options.devices.length === 0) fail('there are no meters to run');
  const ids = new Set<string>();
  for (const d of options.devices) {
    if (typeof d.deviceId !== 'string' || d.deviceId === '' || typeof d.token !== 'string' || d.token === '') {
      fail('every device needs a deviceId and a token');
    }
    if (ids.has(d.deviceId)) fail(`device ${d.deviceId} is listed twice`);
    ids.add(d.deviceId);
    if (!DEVICE_KINDS.includes(d.kind)) fail(`device ${d.deviceId} has kind ${String(d.kind)}; it must be bgm or cgm`);
    if (!Number.isSafeInteger(d.nextSeq) || d.nextSeq < 0)
      fail(`device ${d.deviceId} needs a whole nextSeq of at least 0`);
  }
  if (options.uplinks === undefined && !options.url) fail('a server url is needed');
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  if (!(backoff.baseMs > 0 && backoff.capMs >= backoff.baseMs)) fail('backoff needs 0 < base <= cap');
  const seed = options.seed ?? 42;
  if (!Number.isSafeInteger(seed)) fail('seed must be a whole number');
  return {
    url: options.url,
    devices: options.devices,
    seed,
    speed,
    durationMs,
    connectFirstMs,
    onMeasuring: options.onMeasuring,
    historyMs,
    backfillMs,
    rampMs: options.rampMs ?? 0,
    malformedShare: share('the malformed share', options.malformedShare, 0.5),
    lostAckShare: share('the lost-ack share', options.lostAckShare),
    disconnectShare: share('the disconnect share', options.disconnectShare),
    offlineShare: share('the offline share', options.offlineShare),
    outageMs: positive('the outage length', options.outageMs, 30_000),
    clockSkewMs,
    ackTimeoutMs: positive('the ack timeout', options.ackTimeoutMs, 10_000),
    connectTimeoutMs: positive('the connect timeout', options.connectTimeoutMs, 30_000),
    maxConnecting: positive('the connect limit', options.maxConnecting, 64),
    backoff,
    maxBatch,
    drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
    signal: options.signal,
    onProgress: options.onProgress,
    progressIntervalMs: positive('the progress interval', options.progressIntervalMs, 1000),
    timers: options.timers,
    uplinks: options.uplinks,
  };
}

/** How often the drain phase looks whether every queue is empty. */
const DRAIN_CHECK_MS = 50;
/** How often, with connectFirstMs, the run looks whether every meter is connected. */
const CONNECT_CHECK_MS = 100;

/**
 * Starts a fleet of meters. Phases: running (meters start over the ramp, measure and send), then
 * draining (no more measurements or trouble on purpose; meters out of range come back; wait until
 * every queue is answered, or the drain time-out), then done (connections closed, summary made).
 */
export function startSimulation(options: SimulationOptions): Simulation {
  const o = resolveSimulationOptions(options);
  const scheduler = new Scheduler(o.timers);
  const realStart = scheduler.now();
  const clock = simulatedClock({ realStart, simStart: realStart - o.historyMs, speed: o.speed });
  const origin = clock.simStart - o.backfillMs;
  const tally = new Tally();
  tally.meters = o.devices.length;
  const ledger = new Ledger();
  const context: MeterContext = {
    scheduler,
    clock,
    gate: new ConnectGate(o.maxConnecting),
    uplinks: o.uplinks ?? socketUplinks(o.url!, { connectTimeoutMs: o.connectTimeoutMs }),
    tally,
  };

  const starts: Timer[] = [];
  const meters = o.devices.map((device) => {
    const setup = randomFor(o.seed, `${device.deviceId}:setup`);
    // Whole seconds: a meter's clock has no finer grain.
    const clockSkewMs = Math.round(((setup() * 2 - 1) * o.clockSkewMs) / 1000) * 1000;
    const offline = setup() < o.offlineShare;
    const startAt = realStart + setup() * o.rampMs;
    const meter = new Meter(device, {
      context,
      behaviour: {
        ackTimeoutMs: o.ackTimeoutMs,
        backoff: o.backoff,
        malformedShare: o.malformedShare,
        lostAckShare: o.lostAckShare,
        disconnectShare: o.disconnectShare,
        outageMs: offline ? o.outageMs : null,
        clockSkewMs,
        maxBatch: o.maxBatch,
      },
      schedule: measurementsOf(device, o.seed, origin),
      ledger: ledger.device(device.deviceId),
      faults: randomFor(o.seed, `${device.deviceId}:faults`),
      network: randomFor(o.seed, `${device.deviceId}:network`),
    });
    starts.push(scheduler.at(startAt, () => meter.start()));
    return meter;
  });

  let phase: Progress['phase'] = 'running';
  /** With connectFirstMs: where measuring began (the tally's counts then). */
  let measuredFrom: MeasuredFrom | undefined;
  let measuringEndedAt: number | undefined;
  let connectedAtEnd = 0;
  let drainDeadline = Infinity;
  let resolveDone!: (report: SimulationReport) => void;
  const done = new Promise<SimulationReport>((resolve) => (resolveDone = resolve));

  const pending = () => meters.reduce((n, m) => n + m.pending, 0);
  let last = { at: realStart, answered: 0, latencies: 0 };
  const progress = (): Progress => {
    const now = scheduler.now();
    const answered = tally.answered;
    const [p50, p99] = tally.latency.percentiles([50, 99], last.latencies);
    const seconds = (now - last.at) / 1000;
    const snapshot: Progress = {
      phase,
      elapsedMs: now - realStart,
      simulatedAt: clock.simAt(measuringEndedAt ?? now),
      meters: tally.meters,
      connected: tally.connected,
      sent: tally.sent,
      answered,
      accepted: tally.accepted,
      duplicates: tally.duplicates,
      rejected: { ...tally.rejected },
      refusedBatches: { ...tally.refusedBatches },
      pending: pending(),
      ratePerSecond: seconds > 0 ? (answered - last.answered) / seconds : 0,
      ackP50Ms: p50!,
      ackP99Ms: p99!,
    };
    last = { at: now, answered, latencies: tally.latency.count };
    return snapshot;
  };
  const report = () => {
    const onProgress = o.onProgress;
    if (onProgress && phase !== 'done') {
      onProgress(progress());
      scheduler.after(o.progressIntervalMs, report);
    }
  };
  if (o.onProgress) scheduler.after(o.progressIntervalMs, report);

  const finish = () => {
    if (phase === 'done') return;
    const now = scheduler.now();
    if (measuringEndedAt === undefined) {
      measuringEndedAt = now;
      connectedAtEnd = tally.connected;
    }
    const left = pending();
    phase = 'done';
    for (const meter of meters) meter.stop();
    scheduler.close();
    o.signal?.removeEventListener('abort', onAbort);
    const summary = summarise(tally, {
      seed: o.seed,
      speed: o.speed,
      simulatedFrom: origin,
      simulatedTo: clock.simAt(measuringEndedAt),
      connectedAtEnd,
      pending: left,
      elapsedMs: now - realStart,
      startedAt: realStart,
      ...(measuredFrom ? { measuredFrom } : {}),
    });
    resolveDone({
      summary,
      ledger,
      devices: o.devices.map((d, i) => ({ ...d, nextSeq: meters[i]!.nextSeq })),
    });
  };

  const checkDrained = () => {
    if (phase !== 'draining') return;
    if (meters.every((m) => m.settled) || scheduler.now() >= drainDeadline) finish();
    else scheduler.after(DRAIN_CHECK_MS, checkDrained);
  };

  const beginDrain = () => {
    if (phase !== 'running') return;
    phase = 'draining';
    measuringEndedAt = scheduler.now();
    connectedAtEnd = tally.connected;
    for (const start of starts) start.cancel(); // meters not started by now never will be
    for (const meter of meters) meter.finishMeasuring();
    drainDeadline = measuringEndedAt + o.drainTimeoutMs;
    checkDrained();
  };

  const beginMeasuring = () => {
    if (phase !== 'running' || measuredFrom) return;
    const now = scheduler.now();
    measuredFrom = { at: now, latencies: tally.latency.count, answered: tally.answered, connected: tally.connected };
    o.onMeasuring?.();
    if (o.durationMs !== undefined) scheduler.at(Math.max(now + o.durationMs, realStart + o.rampMs), beginDrain);
  };
  const connectFirstMs = o.connectFirstMs;
  if (connectFirstMs === undefined) {
    if (o.durationMs !== undefined) scheduler.at(realStart + Math.max(o.durationMs, o.rampMs), beginDrain);
    if (o.onMeasuring) queueMicrotask(o.onMeasuring);
  } else {
    const awaitConnected = () => {
      if (phase !== 'running') return;
      const all = tally.connected + tally.refusedMeters >= meters.length;
      if (all || scheduler.now() >= realStart + connectFirstMs) beginMeasuring();
      else scheduler.after(CONNECT_CHECK_MS, awaitConnected);
    };
    scheduler.after(CONNECT_CHECK_MS, awaitConnected);
  }

  const stop = (stopOptions?: { drain?: boolean }) => {
    if (phase === 'running' && stopOptions?.drain !== false) beginDrain();
    else finish();
  };
  const onAbort = () => stop();
  if (o.signal?.aborted) queueMicrotask(onAbort);
  else o.signal?.addEventListener('abort', onAbort);

  return { done, ledger, clock, stop, progress };
}

/** Runs a fleet until its duration is over (or it is stopped through `signal`) and its queues drained. */
export function runSimulation(options: SimulationOptions): Promise<SimulationReport> {
  return startSimulation(options).done;
}
