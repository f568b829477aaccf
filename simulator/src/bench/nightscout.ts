import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { inParallel, provisionMeters } from '../provisioning.ts';
import { percentiles, type Percentiles } from './report.ts';
import { cpuSeconds, memoryOf, startStack } from './stack.ts';

/**
 * `npm run bench:nightscout`: the Nightscout API (docs/nightscout.md) on this machine, with the
 * server, workers, PostgreSQL and Redis as `npm run bench` runs them.
 *
 * - back-fill: one gzipped POST /api/v1/entries of 10,440 entries (Juggluco's most per request),
 *   on a fresh device each time, until every reading is stored;
 * - uploaders: N uploaders (default 1,000) each POST one entry a minute, spread evenly over the
 *   minute, for --minutes; the answer time of each POST, and that every entry became one reading.
 */

const { values: args } = parseArgs({
  options: {
    uploaders: { type: 'string', default: '1000' },
    minutes: { type: 'string', default: '2' },
    backfills: { type: 'string', default: '3' },
    'database-url': {
      type: 'string',
      default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
    'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const uploaders = Number(args.uploaders);
const minutes = Number(args.minutes);
const backfills = Number(args.backfills);
const ADMIN = { email: 'bench@example.se', password: 'benchmark password, local only' };
const MINUTE = 60_000;
const BACKFILL = 10_440;
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** Juggluco's entry (uploader.cpp mkuploaditem). */
const entry = (at: number, sgv: number) => ({
  type: 'sgv',
  device: 'E07A-BENCH',
  dateString: new Date(at).toISOString(),
  date: at,
  sgv,
  delta: 0.5,
  direction: 'Flat',
  noise: 1,
  filtered: sgv * 1000,
  unfiltered: sgv * 1000,
  rssi: 100,
});

async function post(url: string, secret: string, body: unknown, gzip: boolean): Promise<number> {
  const json = JSON.stringify(body);
  const response = await fetch(`${url}/api/v1/entries`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'api-secret': sha1(secret),
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body: gzip ? gzipSync(json) : json,
  });
  await response.arrayBuffer();
  return response.status;
}

const ms = (p: Percentiles) => `${p.p50.toFixed(0)} / ${p.p95.toFixed(0)} / ${p.p99.toFixed(0)} ms`;

const stack = await startStack({
  adminDatabaseUrl: args['database-url']!,
  redisUrl: args['redis-url']!,
  adminEmail: ADMIN.email,
  adminPassword: ADMIN.password,
  ingestMode: 'group',
  log,
});
try {
  log(`pairing ${uploaders + backfills} CGM devices`);
  const devices = await provisionMeters({
    url: stack.url,
    email: ADMIN.email,
    password: ADMIN.password,
    meters: uploaders + backfills,
    profile: 'cgm',
    seed: 13,
  });
  const count = async (patientIds: string[]) =>
    Number(
      (await stack.pool.query('select count(*) as n from readings where patient_id = any($1)', [patientIds])).rows[0].n,
    );

  // --- Back-fill --------------------------------------------------------------------------------
  const backfillMs: number[] = [];
  for (const device of devices.slice(uploaders)) {
    const end = Date.now();
    const body = Array.from({ length: BACKFILL }, (_, i) => entry(end - (BACKFILL - i) * MINUTE, 80 + (i % 120)));
    const started = performance.now();
    const status = await post(stack.url, device.token, body, true);
    backfillMs.push(performance.now() - started);
    const stored = await count([device.patientId]);
    if (status !== 200 || stored !== BACKFILL) throw new Error(`back-fill: ${status}, ${stored} readings stored`);
    log(`back-fill of ${BACKFILL}: ${backfillMs.at(-1)!.toFixed(0)} ms`);
  }

  // --- Uploaders --------------------------------------------------------------------------------
  const cpuBefore = await cpuSeconds(stack);
  const answerMs: number[] = [];
  const failures: Record<string, number> = {};
  const started = Date.now();
  const gap = MINUTE / uploaders;
  const total = uploaders * minutes;
  let peakRss = 0;
  const sampler = setInterval(() => {
    void memoryOf(stack.server.pid).then((m) => (peakRss = Math.max(peakRss, m?.rss ?? 0)));
  }, 1000);
  await inParallel(total, total, async (i) => {
    const due = started + i * gap;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    const device = devices[i % uploaders]!;
    const sentAt = performance.now();
    const status = await post(stack.url, device.token, [entry(Date.now(), 90 + (i % 50))], false).catch(() => 0);
    answerMs.push(performance.now() - sentAt);
    if (status !== 200) failures[status] = (failures[status] ?? 0) + 1;
  });
  clearInterval(sampler);
  const cpuAfter = await cpuSeconds(stack);
  const seconds = (Date.now() - started) / 1000;
  const stored = await count(devices.slice(0, uploaders).map((d) => d.patientId));
  const answers = percentiles(answerMs);
  const cpu = (key: 'server' | 'workers') => ((cpuAfter[key] - cpuBefore[key]) / seconds).toFixed(2);

  const backfill = percentiles(backfillMs);
  const lines = [
    '| case | requests | answer p50 / p95 / p99 | stored | failed | server / workers CPU (cores) | server peak RSS |',
    '| ---- | -------- | ---------------------- | ------ | ------ | ---------------------------- | --------------- |',
    `| back-fill: one gzipped POST of ${BACKFILL.toLocaleString('en')} entries | ${backfill.count} | ${ms(backfill)} | ${(backfill.count * BACKFILL).toLocaleString('en')} readings, each once | 0 | | |`,
    `| ${uploaders.toLocaleString('en')} uploaders, one entry a minute each, ${minutes} min | ${total.toLocaleString('en')} | ${ms(answers)} | ${stored.toLocaleString('en')} of ${total.toLocaleString('en')} readings | ${
      Object.entries(failures)
        .map(([s, n]) => `${n} x ${s}`)
        .join(', ') || '0'
    } | ${cpu('server')} / ${cpu('workers')} | ${(peakRss / 1024 / 1024).toFixed(0)} MiB |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await stack.stop();
}
