/**
 * The benchmark's report: the numbers of one run against SPEC section 6's targets, the same-run
 * ceilings and the naive baseline, as JSON (for machines) and Markdown (for docs/benchmarks.md).
 */

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface ProfileResult {
  meters: number;
  readingsSent: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  refusedBatches: Record<string, number>;
  readingsPerSecond: number;
  ackMs: Percentiles;
  /** From the end of sending until every committed batch was evaluated by the alert workers. */
  evaluatedAfterMs: number | null;
  lost: number;
  duplicated: number;
  mismatched: number;
  /** Cores used on average over the profile, by group of processes (the machine has `machine.cpus`). */
  cpuCores: Record<string, number>;
  /** Group-commit transactions (the naive writer: one per reading), their mean duration and size. */
  dbFlushes: number;
  meanFlushMs: number | null;
  rowsPerFlush: number | null;
  serverPeakRssBytes: number | null;
  workersPeakRssBytes: number | null;
  /** Scale-out: each server's meters on their own (ackMs above is then the worse server's). */
  perServer?: ServerShare[];
  /**
   * Measured once connected (steady): how long the fleet's handshakes took, the meters connected
   * then, and the acks of the whole run, handshakes included. The rate and ackMs above are of the
   * connected fleet alone.
   */
  connecting?: { seconds: number; rampSeconds: number; connected: number; ackMs: Percentiles };
}

export interface ServerShare {
  url: string;
  meters: number;
  readingsSent: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  refusedBatches: Record<string, number>;
  readingsPerSecond: number;
  ackMs: Percentiles;
  lost: number;
  duplicated: number;
  mismatched: number;
}

export interface BenchReport {
  startedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; node: string; platform: string };
  settings: Record<string, number | string>;
  steady: ProfileResult;
  alerts: {
    probes: number;
    missing: number;
    duplicateAlertEvents: number;
    duplicateAlertRows: number;
    latencyMs: Percentiles;
  };
  storm: ProfileResult;
  naive: ProfileResult;
  ceilings: { pgInsertRowsPerSecond: number; socketIoMessagesPerSecond: number; socketIoReadingsPerSecond: number };
  verdicts: Array<{ target: string; measured: string; pass: boolean }>;
}

/** A latency in the reports' tables: one decimal, or n/a when nothing was measured. */
export const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

/** What a profile measured once connected says of its handshakes (a paragraph, or nothing). */
export function connectingLines(p: ProfileResult): string[] {
  const c = p.connecting;
  if (!c) return [];
  return [
    `Steady is measured with the meters connected: ${c.connected.toLocaleString('en-US')} of ${p.meters.toLocaleString(
      'en-US',
    )} were, ${c.seconds.toFixed(1)} s after the start (they start over ${c.rampSeconds} s; a handshake is an argon2id hash). ` +
      `Acks over the whole run, handshakes included: p50 / p95 / p99 ${ms(c.ackMs.p50)} / ${ms(c.ackMs.p95)} / ${ms(c.ackMs.p99)} ms.`,
    '',
  ];
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

export function verdicts(r: Omit<BenchReport, 'verdicts'>): BenchReport['verdicts'] {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const rssOk = r.steady.serverPeakRssBytes !== null && r.steady.serverPeakRssBytes <= GIB;
  const lostOrDuplicated = [r.steady, r.storm].reduce((n, p) => n + p.lost + p.duplicated, 0);
  return [
    { target: 'steady: device ack p99 <= 100 ms', measured: ms(r.steady.ackMs.p99), pass: r.steady.ackMs.p99 <= 100 },
    {
      target: 'steady: alert latency p99 <= 500 ms (sent -> board)',
      measured: `${ms(r.alerts.latencyMs.p99)} (${r.alerts.latencyMs.count} probes, ${r.alerts.missing} missing)`,
      pass: r.alerts.latencyMs.p99 <= 500 && r.alerts.missing === 0,
    },
    {
      target: 'steady: server RSS <= 1 GiB',
      measured: r.steady.serverPeakRssBytes === null ? 'n/a' : `${(r.steady.serverPeakRssBytes / MIB).toFixed(0)} MiB`,
      pass: rssOk,
    },
    {
      target: 'storm: >= 50,000 readings/s, all committed and evaluated',
      measured: `${Math.round(r.storm.readingsPerSecond).toLocaleString('en')} readings/s; evaluated ${
        r.storm.evaluatedAfterMs === null
          ? 'not within the wait'
          : `${(r.storm.evaluatedAfterMs / 1000).toFixed(1)} s after the last ack`
      }`,
      pass: r.storm.readingsPerSecond >= 50_000 && r.storm.evaluatedAfterMs !== null,
    },
    { target: 'both: 0 lost, 0 stored twice', measured: `${lostOrDuplicated}`, pass: lostOrDuplicated === 0 },
    {
      target: 'both: 0 duplicate alerts',
      measured: `${r.alerts.duplicateAlertEvents} events, ${r.alerts.duplicateAlertRows} rows`,
      pass: r.alerts.duplicateAlertEvents === 0 && r.alerts.duplicateAlertRows === 0,
    },
  ];
}

export function markdown(r: BenchReport): string {
  const n = (x: number) => Math.round(x).toLocaleString('en');
  const mib = (x: number | null) => (x === null ? 'n/a' : `${(x / MIB).toFixed(0)} MiB`);
  const profile = (name: string, p: ProfileResult) =>
    `| ${name} | ${n(p.meters)} | ${n(p.accepted)} | ${n(p.readingsPerSecond)} | ${ms(p.ackMs.p50)} / ${ms(p.ackMs.p95)} / ${ms(
      p.ackMs.p99,
    )} | ${p.evaluatedAfterMs === null ? 'n/a' : `${(p.evaluatedAfterMs / 1000).toFixed(1)} s`} | ${mib(p.serverPeakRssBytes)} / ${mib(
      p.workersPeakRssBytes,
    )} | ${p.lost} / ${p.duplicated} | ${
      Object.entries(p.refusedBatches)
        .map(([code, count]) => `${code} ${count}`)
        .join(', ') || 'none'
    } | ${n(p.dbFlushes)}, ${p.meanFlushMs === null ? 'n/a' : p.meanFlushMs.toFixed(1)}, ${
      p.rowsPerFlush === null ? 'n/a' : p.rowsPerFlush.toFixed(0)
    } |`;
  return [
    `Run ${r.startedAt} on ${r.machine.cpus} × ${r.machine.cpuModel}, ${(r.machine.memoryBytes / GIB).toFixed(0)} GiB, Node ${r.machine.node}.`,
    '',
    `Command: \`${r.command}\``,
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    ...r.verdicts.map((v) => `| ${v.target} | ${v.measured} | ${v.pass ? 'pass' : '**miss**'} |`),
    '',
    '| profile | meters | readings stored | readings/s | ack ms p50 / p95 / p99 | evaluated after | server / workers peak RSS | lost / duplicated | batches refused | DB flushes, mean ms, readings per flush |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    profile('steady', r.steady),
    profile('storm', r.storm),
    profile('storm, naive baseline', r.naive),
    '',
    ...connectingLines(r.steady),
    `Alert latency (hypo reading sent -> critical \`alert\` on a real board client), ${r.alerts.probes} probes: p50 ${ms(
      r.alerts.latencyMs.p50,
    )} ms, p95 ${ms(r.alerts.latencyMs.p95)} ms, p99 ${ms(r.alerts.latencyMs.p99)} ms, max ${ms(r.alerts.latencyMs.max)} ms; missing ${
      r.alerts.missing
    }; duplicate alert events ${r.alerts.duplicateAlertEvents}, duplicate alert rows ${r.alerts.duplicateAlertRows}.`,
    '',
    'CPU cores used on average during each profile (of ' + r.machine.cpus + '):',
    '',
    '| profile | ' + Object.keys(r.storm.cpuCores).join(' | ') + ' | total |',
    '| --- | ' +
      Object.keys(r.storm.cpuCores)
        .map(() => '---')
        .join(' | ') +
      ' | --- |',
    ...(
      [
        ['steady', r.steady],
        ['storm', r.storm],
        ['naive', r.naive],
      ] as const
    ).map(
      ([name, p]) =>
        `| ${name} | ${Object.values(p.cpuCores)
          .map((c) => c.toFixed(2))
          .join(' | ')} | ${Object.values(p.cpuCores)
          .reduce((a, b) => a + b, 0)
          .toFixed(2)} |`,
    ),
    '',
    '| same-run ceiling | rate | Glucoboard storm as a share |',
    '| --- | --- | --- |',
    `| bare \`pg\` batch INSERT into the readings shape | ${n(r.ceilings.pgInsertRowsPerSecond)} rows/s | ${(
      (100 * r.storm.readingsPerSecond) /
      r.ceilings.pgInsertRowsPerSecond
    ).toFixed(0)} % |`,
    `| bare Socket.IO acked batches | ${n(r.ceilings.socketIoMessagesPerSecond)} messages/s = ${n(
      r.ceilings.socketIoReadingsPerSecond,
    )} readings/s | ${((100 * r.storm.readingsPerSecond) / r.ceilings.socketIoReadingsPerSecond).toFixed(0)} % |`,
    `| naive baseline (one INSERT and one job per reading) | ${n(r.naive.readingsPerSecond)} readings/s | group commit is ${(
      r.storm.readingsPerSecond / r.naive.readingsPerSecond
    ).toFixed(1)} × faster |`,
    '',
  ].join('\n');
}
