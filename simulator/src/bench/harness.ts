import type { DeviceRecord } from '../device-file.ts';
import { provisionMeters } from '../provisioning.ts';
import { runSimulation } from '../simulation.ts';
import { verifyStored } from '../verify.ts';
import type { Percentiles, ProfileResult, ServerShare } from './report.ts';
import { coresBetween } from './cpu.ts';
import { cpuSeconds, memoryOf, type Stack } from './stack.ts';

/** What every bench profile shares: the admin account, provisioning, sampling, verification. */

export const ADMIN = { email: 'bench@example.se', password: 'benchmark password, local only' };
export const CGM_INTERVAL_MS = 5 * 60_000;

/**
 * SPEC's steady profile: meters connected, each sending one reading every 5 s (a CGM's 5 min at
 * 60 × speed). They start over 5 s; measuring begins once all are connected (the handshakes, an
 * argon2id hash each, take longer than that), waiting at most 3 minutes.
 */
export const steadyProfile = (seconds: number) => ({
  durationMs: seconds * 1000,
  speed: 60,
  rampMs: 5000,
  connectFirstMs: 180_000,
});
export const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

export async function provision(stack: Stack, count: number, tag: string): Promise<DeviceRecord[]> {
  const started = Date.now();
  const devices = await provisionMeters({
    url: stack.url,
    email: ADMIN.email,
    password: ADMIN.password,
    meters: count,
    profile: 'cgm',
    seed: 42,
    tag,
    concurrency: 8,
  });
  log(`provisioned ${count} meters (${tag}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return devices;
}

/** Peak resident memory of a server and of a workers process (the largest of each) while `work` runs. */
export async function sampled<T>(stack: Stack, work: () => Promise<T>) {
  const peak = { server: 0, workers: 0 };
  const largest = async (children: Stack['serverProcesses']) =>
    Math.max(0, ...(await Promise.all(children.map(async (c) => (await memoryOf(c.pid))?.rss ?? 0))));
  const sample = async () => {
    const [s, w] = await Promise.all([largest(stack.serverProcesses), largest(stack.workerProcesses)]);
    peak.server = Math.max(peak.server, s);
    peak.workers = Math.max(peak.workers, w);
  };
  const timer = setInterval(() => void sample(), 500);
  try {
    return { result: await work(), peak };
  } finally {
    clearInterval(timer);
    await sample();
  }
}

/** Waits until every committed batch has been evaluated (the outbox is empty); ms after `since`, or null. */
export async function evaluated(stack: Stack, since: number, timeoutMs = 300_000): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const left = await stack.pool.query<{ n: string }>('select count(*) as n from evaluation_outbox');
    if (Number(left.rows[0]!.n) === 0) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 200));
  }
  return null;
}

/** A Prometheus counter or histogram part summed over its labels, from a server's /metrics. */
export async function scrape(url: string): Promise<(name: string) => number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return (name) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Sums a metric over every server's /metrics. */
async function scrapeAll(urls: readonly string[]): Promise<(name: string) => number> {
  const each = await Promise.all(urls.map(scrape));
  return (name) => each.reduce((sum, metric) => sum + metric(name), 0);
}

/** Acks of simulations that ran side by side: counts add up, percentiles do not, so each is the worse one's. */
function worstOf(each: readonly Percentiles[]): Percentiles {
  const worst = (q: 'p50' | 'p95' | 'p99' | 'max') => Math.max(...each.map((p) => p[q]));
  return {
    count: each.reduce((n, p) => n + p.count, 0),
    p50: worst('p50'),
    p95: worst('p95'),
    p99: worst('p99'),
    max: worst('max'),
  };
}

/**
 * One profile: the meters run against the stack (with `split`, dealt round-robin over its servers,
 * one simulation per server at once, as a load balancer would spread them), then every acked
 * reading is checked against the table.
 */
export async function profile(
  stack: Stack,
  devices: DeviceRecord[],
  options: {
    durationMs: number;
    speed: number;
    rampMs: number;
    backfillMs?: number;
    maxBatch?: number;
    split?: boolean;
    /** Measure once every meter is connected (see SimulationOptions.connectFirstMs). */
    connectFirstMs?: number;
  },
  /** Runs beside the meters; `measuring` settles when every simulation has begun measuring. */
  alongside?: (measuring: Promise<void>) => Promise<unknown>,
): Promise<ProfileResult> {
  const urls = options.split ? stack.urls : [stack.url];
  const shares = urls.map((_, i) => devices.filter((_, j) => j % urls.length === i));
  const before = await scrapeAll(stack.urls);
  const cpuBefore = await cpuSeconds(stack);
  const wallBefore = performance.now();
  let begun = 0;
  let allMeasuring!: () => void;
  const measuring = new Promise<void>((resolve) => (allMeasuring = resolve));
  const { result, peak } = await sampled(stack, async () => {
    const [reports] = await Promise.all([
      Promise.all(
        urls.map((url, i) =>
          runSimulation({
            onMeasuring: () => {
              if (++begun === urls.length) allMeasuring();
            },
            ...(options.connectFirstMs !== undefined ? { connectFirstMs: options.connectFirstMs } : {}),
            url,
            devices: shares[i]!,
            seed: 42,
            speed: options.speed,
            durationMs: options.durationMs,
            rampMs: options.rampMs,
            ...(options.backfillMs !== undefined ? { backfillMs: options.backfillMs } : {}),
            ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
            // Long enough for a storm's whole backfill to be answered: the rate is measured to the last ack.
            drainTimeoutMs: 900_000,
            progressIntervalMs: 5000,
            onProgress: (p) =>
              log(
                `  ${urls.length > 1 ? `server ${i + 1} ` : ''}${p.phase}: ${p.connected} connected, ${p.sent} sent, ${p.answered} answered, ${Math.round(p.ratePerSecond)}/s`,
              ),
          }),
        ),
      ),
      alongside?.(measuring),
    ]);
    const evaluatedAfterMs = await evaluated(stack, Date.now());
    return { reports, evaluatedAfterMs };
  });
  const { reports, evaluatedAfterMs } = result;
  const after = await scrapeAll(stack.urls);
  const cpuAfter = await cpuSeconds(stack);
  const wallSeconds = (performance.now() - wallBefore) / 1000;
  const delta = (name: string) => after(name) - before(name);
  const flushes = delta('glucoboard_db_write_seconds_count');
  const byId = new Map(devices.map((d) => [d.deviceId, d]));
  const perServer: ServerShare[] = [];
  for (const [i, report] of reports.entries()) {
    // The next profile continues each meter's sequence.
    for (const d of report.devices) {
      const device = byId.get(d.deviceId);
      if (device) device.nextSeq = d.nextSeq;
    }
    const check = await verifyStored(stack.pool, report.ledger);
    const s = report.summary;
    // With connectFirstMs the rate and acks are of the meters connected; the handshakes apart.
    perServer.push({
      url: urls[i]!,
      meters: shares[i]!.length,
      readingsSent: s.sent,
      accepted: s.accepted,
      duplicates: s.duplicates,
      rejected: Object.values(s.rejected).reduce((a, b) => a + b, 0),
      refusedBatches: s.refusedBatches,
      readingsPerSecond: s.measured?.readingsPerSecond ?? s.readingsPerSecond,
      ackMs: s.measured?.ackLatencyMs ?? s.ackLatencyMs,
      lost: check.lost,
      duplicated: check.duplicated,
      mismatched: check.mismatched,
    });
  }
  // The simulations ran side by side: their rates add up; of their percentiles the worse server's
  // is reported (perServer has each).
  const sum = (pick: (p: ServerShare) => number) => perServer.reduce((n, p) => n + pick(p), 0);
  const measured = reports.flatMap((r) => (r.summary.measured ? [r.summary.measured] : []));
  const refused: Record<string, number> = {};
  for (const p of perServer)
    for (const [code, n] of Object.entries(p.refusedBatches)) refused[code] = (refused[code] ?? 0) + n;
  return {
    meters: devices.length,
    readingsSent: sum((p) => p.readingsSent),
    accepted: sum((p) => p.accepted),
    duplicates: sum((p) => p.duplicates),
    rejected: sum((p) => p.rejected),
    refusedBatches: refused,
    readingsPerSecond: sum((p) => p.readingsPerSecond),
    ackMs: worstOf(perServer.map((p) => p.ackMs)),
    evaluatedAfterMs,
    lost: sum((p) => p.lost),
    duplicated: sum((p) => p.duplicated),
    mismatched: sum((p) => p.mismatched),
    cpuCores: coresBetween(cpuBefore, cpuAfter, wallSeconds),
    dbFlushes: flushes,
    meanFlushMs: flushes > 0 ? (1000 * delta('glucoboard_db_write_seconds_sum')) / flushes : null,
    rowsPerFlush: flushes > 0 ? delta('glucoboard_reading_batch_size_sum') / flushes : null,
    serverPeakRssBytes: peak.server || null,
    workersPeakRssBytes: peak.workers || null,
    ...(urls.length > 1 ? { perServer } : {}),
    ...(measured.length > 0
      ? {
          connecting: {
            seconds: Math.max(...measured.map((m) => m.afterMs)) / 1000,
            rampSeconds: options.rampMs / 1000,
            connected: measured.reduce((n, m) => n + m.connected, 0),
            // The whole run's acks, handshakes included; the worse simulation's, as above.
            ackMs: worstOf(reports.map((r) => r.summary.ackLatencyMs)),
          },
        }
      : {}),
  };
}

/** A signed-in HTTP session (cookie and same-origin writes), for the bench's own setup calls. */
export async function signIn(url: string) {
  const session = {
    cookie: undefined as string | undefined,
    async request(method: string, route: string, body?: unknown): Promise<unknown> {
      const answer = await fetch(`${url}${route}`, {
        method,
        headers: {
          origin: url,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(session.cookie ? { cookie: session.cookie } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const setCookie = answer.headers.get('set-cookie');
      if (setCookie) session.cookie = setCookie.split(';')[0];
      if (answer.status >= 400) throw new Error(`${method} ${route}: ${answer.status} ${await answer.text()}`);
      return answer.status === 204 ? undefined : answer.json();
    },
    get: (route: string) => session.request('GET', route),
    post: (route: string, body: unknown) => session.request('POST', route, body),
  };
  await session.post('/api/auth/login', ADMIN);
  return session;
}
