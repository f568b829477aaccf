import { LatencyRecorder } from './latency.ts';

/** Running counts of a simulation: what the progress line shows each second and the summary at the end. */
export class Tally {
  meters = 0;
  /** Meters connected now. */
  connected = 0;
  /** Meters that connected at least once. */
  everConnected = 0;
  /** Successful connects after a meter's first. */
  reconnects = 0;
  /** Failed connection attempts by code (`connect_error` data.code, or NETWORK). */
  connectErrors: Record<string, number> = {};
  /** Meters refused for good (DEVICE_AUTH). */
  refusedMeters = 0;

  /** Valid readings measured. */
  generated = 0;
  /** Malformed readings and batches put in a queue. */
  malformed = 0;
  /** Readings put in a batch and emitted, resends included (a batch probe counts as none). */
  sent = 0;
  /** Of those, readings sent again (after a lost ack, a dropped connection or a refused batch). */
  resent = 0;
  /** Batches emitted. */
  batches = 0;
  /** From the acks: readings newly stored, resends answered as duplicates, rejections by code. */
  accepted = 0;
  duplicates = 0;
  rejected: Record<string, number> = {};
  /** Batches refused whole, by code. */
  refusedBatches: Record<string, number> = {};

  ackTimeouts = 0;
  /** Acks dropped on purpose (--lost-acks). */
  lostAcks = 0;
  /** Connections dropped on purpose with a batch in flight (--disconnects). */
  forcedDisconnects = 0;
  /** Periods out of range (--offline). */
  outages = 0;

  /** Malformed input answered with the code it was made to provoke, or not. */
  malformedAsExpected = 0;
  malformedUnexpected = 0;
  /** Valid readings the server rejected, by code: each one is a finding. */
  unexpectedRejections: Record<string, number> = {};
  /** A few descriptions of unexpected answers, for the summary. */
  findings: string[] = [];

  firstSendAt: number | undefined;
  lastAckAt: number | undefined;
  readonly latency = new LatencyRecorder();

  count(counts: Record<string, number>, key: string, n = 1): void {
    counts[key] = (counts[key] ?? 0) + n;
  }

  finding(text: string): void {
    if (this.findings.length < 20) this.findings.push(text);
  }

  /** Readings answered in acks: stored, duplicate or rejected. */
  get answered(): number {
    return this.accepted + this.duplicates + sum(this.rejected);
  }
}

export const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
