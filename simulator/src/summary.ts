import type { Tally } from './tally.ts';

/** The JSON summary of a run (stdout of `npm run sim`, and what runSimulation returns). */
export interface SimulationSummary {
  seed: number;
  speed: number;
  /** Simulated time covered, backfill included (ISO-8601). */
  simulatedFrom: string;
  simulatedTo: string;
  meters: number;
  /** Meters connected when measuring ended. */
  connected: number;
  /** Meters that connected at least once. */
  everConnected: number;
  /** Meters the server refused for good (DEVICE_AUTH). */
  refusedMeters: number;
  reconnects: number;
  connectErrors: Record<string, number>;
  /** Valid readings measured. */
  generated: number;
  /** Readings emitted in batches, resends included. */
  sent: number;
  /** Readings emitted more than once. */
  resent: number;
  batches: number;
  /** From the acks: newly stored, already stored (resends), and rejected by code. */
  accepted: number;
  duplicates: number;
  rejected: Record<string, number>;
  /** Batches refused whole, by code (OVERLOADED, UNAVAILABLE, INVALID_PAYLOAD, BATCH_TOO_LARGE). */
  refusedBatches: Record<string, number>;
  ackTimeouts: number;
  /** Trouble made on purpose: acks ignored, connections dropped mid-batch, periods out of range. */
  lostAcks: number;
  forcedDisconnects: number;
  outages: number;
  /** Items (readings and probes) still unanswered when the run stopped. */
  pending: number;
  malformed: {
    /** Malformed readings and batches put in a queue. */
    queued: number;
    rejectedAsExpected: number;
    /** Answered with another code than intended, or accepted: a finding. */
    unexpected: number;
  };
  /** Valid readings the server rejected, by code: a finding each. */
  unexpectedRejections: Record<string, number>;
  /** A few descriptions of unexpected answers. */
  findings: string[];
  ackLatencyMs: LatencySummary;
  /** Readings answered (stored, duplicate or rejected) per second from the first send to the last ack. */
  readingsPerSecond: number;
  /** Readings newly stored per second over the same window. */
  acceptedPerSecond: number;
  /** First send to last ack. */
  sendWindowMs: number;
  /**
   * With connectFirstMs: the run once every meter was connected (or the wait ran out). Acks of
   * readings answered from then on, and readings answered per second from then to the last ack.
   */
  measured?: {
    /** When measuring began, ms after the start: how long the fleet took to connect. */
    afterMs: number;
    /** Meters connected then (all of them unless the wait ran out). */
    connected: number;
    ackLatencyMs: LatencySummary;
    readingsPerSecond: number;
  };
  /** Start to stop, draining included. */
  elapsedMs: number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** The tally's counts when measuring began, and when (the scheduler's clock). */
export interface MeasuredFrom {
  at: number;
  latencies: number;
  answered: number;
  connected: number;
}

/** Ack latencies recorded since the `from`-th. */
function latencySummary(tally: Tally, from = 0): LatencySummary {
  const [p50, p95, p99, max] = tally.latency.percentiles([50, 95, 99, 100], from).map(roundMs);
  return { count: tally.latency.count - from, p50: p50!, p95: p95!, p99: p99!, max: max! };
}

export function summarise(
  tally: Tally,
  run: {
    seed: number;
    speed: number;
    simulatedFrom: number;
    simulatedTo: number;
    connectedAtEnd: number;
    pending: number;
    elapsedMs: number;
    /** When the run started (the scheduler's clock), and with connectFirstMs where measuring began. */
    startedAt: number;
    measuredFrom?: MeasuredFrom;
  },
): SimulationSummary {
  const windowMs =
    tally.firstSendAt !== undefined && tally.lastAckAt !== undefined ? tally.lastAckAt - tally.firstSendAt : 0;
  const perSecond = (n: number) => perSecondOver(n, windowMs);
  return {
    seed: run.seed,
    speed: run.speed,
    simulatedFrom: new Date(run.simulatedFrom).toISOString(),
    simulatedTo: new Date(run.simulatedTo).toISOString(),
    meters: tally.meters,
    connected: run.connectedAtEnd,
    everConnected: tally.everConnected,
    refusedMeters: tally.refusedMeters,
    reconnects: tally.reconnects,
    connectErrors: sorted(tally.connectErrors),
    generated: tally.generated,
    sent: tally.sent,
    resent: tally.resent,
    batches: tally.batches,
    accepted: tally.accepted,
    duplicates: tally.duplicates,
    rejected: sorted(tally.rejected),
    refusedBatches: sorted(tally.refusedBatches),
    ackTimeouts: tally.ackTimeouts,
    lostAcks: tally.lostAcks,
    forcedDisconnects: tally.forcedDisconnects,
    outages: tally.outages,
    pending: run.pending,
    malformed: {
      queued: tally.malformed,
      rejectedAsExpected: tally.malformedAsExpected,
      unexpected: tally.malformedUnexpected,
    },
    unexpectedRejections: sorted(tally.unexpectedRejections),
    findings: [...tally.findings],
    ackLatencyMs: latencySummary(tally),
    readingsPerSecond: perSecond(tally.answered),
    acceptedPerSecond: perSecond(tally.accepted),
    sendWindowMs: Math.round(windowMs),
    ...(run.measuredFrom ? { measured: measuredPart(tally, run.measuredFrom, run.startedAt) } : {}),
    elapsedMs: Math.round(run.elapsedMs),
  };
}

function measuredPart(tally: Tally, from: MeasuredFrom, startedAt: number): NonNullable<SimulationSummary['measured']> {
  const windowMs = tally.lastAckAt !== undefined ? tally.lastAckAt - from.at : 0;
  return {
    afterMs: Math.round(from.at - startedAt),
    connected: from.connected,
    ackLatencyMs: latencySummary(tally, from.latencies),
    readingsPerSecond: perSecondOver(tally.answered - from.answered, windowMs),
  };
}

/** n a second over a window of ms, to one decimal (0 over no window). */
const perSecondOver = (n: number, windowMs: number) => (windowMs > 0 ? Math.round((n / windowMs) * 1000 * 10) / 10 : 0);

/** Percentiles of no acks at all are 0 in the JSON (NaN is not JSON). */
const roundMs = (ms: number) => (Number.isFinite(ms) ? Math.round(ms * 10) / 10 : 0);

const sorted = (counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
