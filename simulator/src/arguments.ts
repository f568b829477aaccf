import { parseArgs } from 'node:util';
import { DEFAULT_BACKOFF } from './backoff.ts';
import { parseDuration } from './durations.ts';
import type { DeviceProfile } from './patient.ts';

/** A command line the simulator cannot run: the CLI prints the message and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: npm run sim -- [options]

Meters
  --meters N               meters to run (default 100; with --devices: all in the file)
  --profile P              bgm | cgm | mixed (default mixed: 60 % CGM), for provisioned meters
  --devices FILE           use the meters of a device file (the demo's demo-devices.json format)
  --admin-email E          provision meters through the admin API (or env ADMIN_EMAIL)
  --admin-password P       (or env ADMIN_PASSWORD)
  --team NAME              name of the provisioned team (default "Simulator <tag>")
  --provision-concurrency N  requests in flight while provisioning (default 8)
  --save-devices FILE      write the meters, with their next seq, to a device file at the end
  --continue-seqs          start each meter after the highest seq stored for it (needs DATABASE_URL),
                           e.g. to run the demo's meters again after an earlier run

Time
  --url URL                server (default http://127.0.0.1:3000)
  --speed N                simulated seconds per real second (default 1)
  --duration D             how long meters measure, e.g. 30s, 10m (default: until Ctrl-C)
  --history D              how far back simulated time starts (default: duration x (speed - 1))
  --backfill D             readings each meter holds at the start, e.g. 12h (default 0)
  --ramp D                 meters start at random over this window (default 0)
  --connect-first D        measure the connected fleet: the duration starts once every meter is
                           connected, waiting at most D (default: measure from the start)
  --seed N                 same seed, same start: same readings (default 42)

Trouble on purpose
  --malformed S            share 0..0.5 of malformed input (default 0)
  --lost-acks S            share 0..1 of acks ignored as lost (default 0)
  --disconnects S          share 0..1 of batches followed by a dropped connection (default 0)
  --offline S              share 0..1 of meters that go out of range now and then (default 0)
  --outage D               mean length of a period out of range (default 30s)
  --clock-skew D           each meter's clock is off by up to this, either way (max 4m, default 0)

Network
  --ack-timeout D          resend a batch not acked within this (default 10s)
  --connect-timeout D      (default 30s)
  --max-connecting N       handshakes in flight at once (default 64)
  --backoff-base D         first reconnect delay ceiling (default 500ms)
  --backoff-cap D          largest reconnect delay ceiling (default 30s)
  --batch N                readings per batch, 1..500 (default 500)
  --drain-timeout D        after measuring, wait this long for queues to drain (default 30s)

Output
  --summary FILE           write the JSON summary there instead of stdout
  --verify                 check every acked reading is stored exactly once (needs DATABASE_URL)
  --quiet                  no progress line
  --help
`;

export interface CliArguments {
  help: boolean;
  url: string;
  meters: number | undefined;
  profile: DeviceProfile;
  devicesFile: string | undefined;
  saveDevices: string | undefined;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  team: string | undefined;
  provisionConcurrency: number;
  seed: number;
  speed: number;
  durationMs: number | undefined;
  historyMs: number | undefined;
  backfillMs: number;
  rampMs: number;
  connectFirstMs: number | undefined;
  malformedShare: number;
  lostAckShare: number;
  disconnectShare: number;
  offlineShare: number;
  outageMs: number;
  clockSkewMs: number;
  ackTimeoutMs: number;
  connectTimeoutMs: number;
  maxConnecting: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  maxBatch: number;
  drainTimeoutMs: number;
  summaryFile: string | undefined;
  verify: boolean;
  continueSeqs: boolean;
  databaseUrl: string | undefined;
  quiet: boolean;
}

const STRING_OPTIONS = [
  'url',
  'meters',
  'profile',
  'devices',
  'save-devices',
  'admin-email',
  'admin-password',
  'team',
  'provision-concurrency',
  'seed',
  'speed',
  'duration',
  'history',
  'backfill',
  'ramp',
  'connect-first',
  'malformed',
  'lost-acks',
  'disconnects',
  'offline',
  'outage',
  'clock-skew',
  'ack-timeout',
  'connect-timeout',
  'max-connecting',
  'backoff-base',
  'backoff-cap',
  'batch',
  'drain-timeout',
  'summary',
] as const;

/** The command line as options; throws UsageError with a message that names the option at fault. */
export function parseArguments(argv: readonly string[], env: Record<string, string | undefined> = {}): CliArguments {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(STRING_OPTIONS.map((name) => [name, { type: 'string' as const }])),
        verify: { type: 'boolean' },
        'continue-seqs': { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const text = (name: string) => values[name] as string | undefined;

  const number = (name: string, fallback: number, check: (n: number) => boolean, rule: string): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} ${raw}: ${rule}`);
    return n;
  };
  const whole = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
    number(
      name,
      fallback,
      (n) => Number.isInteger(n) && n >= min && n <= max,
      `must be a whole number from ${min} to ${max}`,
    );
  const share = (name: string, max = 1) =>
    number(name, 0, (n) => n >= 0 && n <= max, `must be a share between 0 and ${max} (e.g. 0.05)`);
  const duration = (name: string): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const ms = parseDuration(raw);
    if (ms === undefined)
      throw new UsageError(`--${name} ${raw}: must be a duration such as 500ms, 30s, 10m, 12h or 2d`);
    return ms;
  };
  const positiveDuration = (name: string, fallback: number) => {
    const ms = duration(name) ?? fallback;
    if (!(ms > 0)) throw new UsageError(`--${name} must be longer than 0`);
    return ms;
  };

  const profile = text('profile') ?? 'mixed';
  if (profile !== 'bgm' && profile !== 'cgm' && profile !== 'mixed') {
    throw new UsageError(`--profile ${profile}: must be bgm, cgm or mixed`);
  }
  const url = text('url') ?? 'http://127.0.0.1:3000';
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UsageError(`--url ${url}: must be an http:// or https:// URL of the server`);
  }
  const speed = number('speed', 1, (n) => n > 0 && n <= 1_000_000, 'must be above 0 and at most 1000000');
  const backoffBaseMs = positiveDuration('backoff-base', DEFAULT_BACKOFF.baseMs);
  const backoffCapMs = positiveDuration('backoff-cap', DEFAULT_BACKOFF.capMs);
  if (backoffCapMs < backoffBaseMs) throw new UsageError('--backoff-cap must not be below --backoff-base');

  const args: CliArguments = {
    help: values['help'] === true,
    url,
    meters: text('meters') === undefined ? undefined : whole('meters', 0, 1, 100_000),
    profile,
    devicesFile: text('devices'),
    saveDevices: text('save-devices'),
    adminEmail: text('admin-email') ?? env['ADMIN_EMAIL'],
    adminPassword: text('admin-password') ?? env['ADMIN_PASSWORD'],
    team: text('team'),
    provisionConcurrency: whole('provision-concurrency', 8, 1, 256),
    seed: whole('seed', 42, 0, 2 ** 32 - 1),
    speed,
    durationMs: duration('duration'),
    historyMs: duration('history'),
    backfillMs: duration('backfill') ?? 0,
    rampMs: duration('ramp') ?? 0,
    connectFirstMs: text('connect-first') === undefined ? undefined : positiveDuration('connect-first', 0),
    malformedShare: share('malformed', 0.5),
    lostAckShare: share('lost-acks'),
    disconnectShare: share('disconnects'),
    offlineShare: share('offline'),
    outageMs: positiveDuration('outage', 30_000),
    clockSkewMs: duration('clock-skew') ?? 0,
    ackTimeoutMs: positiveDuration('ack-timeout', 10_000),
    connectTimeoutMs: positiveDuration('connect-timeout', 30_000),
    maxConnecting: whole('max-connecting', 64, 1, 10_000),
    backoffBaseMs,
    backoffCapMs,
    maxBatch: whole('batch', 500, 1, 500),
    drainTimeoutMs: duration('drain-timeout') ?? 30_000,
    summaryFile: text('summary'),
    verify: values['verify'] === true,
    continueSeqs: values['continue-seqs'] === true,
    databaseUrl: env['DATABASE_URL'],
    quiet: values['quiet'] === true,
  };
  if (args.help) return args;
  if (args.devicesFile === undefined && (!args.adminEmail || !args.adminPassword)) {
    throw new UsageError(
      'no meters: give --devices FILE, or admin credentials (--admin-email and --admin-password, or ADMIN_EMAIL and ADMIN_PASSWORD) to provision them',
    );
  }
  if ((args.verify || args.continueSeqs) && !args.databaseUrl) {
    throw new UsageError(
      `--${args.verify ? 'verify' : 'continue-seqs'} reads the server's database: set DATABASE_URL to it`,
    );
  }
  return args;
}
