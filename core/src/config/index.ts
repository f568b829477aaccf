import path from 'node:path';
import { z } from 'zod';

/** A configuration problem that names the variable, so an operator can fix it in one go. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const flag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', 'on', 'off'], {
    error: 'must be 1 or 0 (or true/false)',
  })
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

/** Digits only: Number() would also take "1e3", "0x10" or "0." for a port or a number of days. */
const wholeNumber = (min: number, max: number, error: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().min(min, { error }).max(max, { error }));
const positiveInt = (max = Number.MAX_SAFE_INTEGER, error = 'must be greater than 0') => wholeNumber(1, max, error);

const connectionUrl = (schemes: string[]) =>
  z
    .url({ error: `must be a URL (${schemes.join(' or ')})` })
    .refine((u) => schemes.some((s) => u.startsWith(`${s}://`)), {
      error: `must start with ${schemes.map((s) => `${s}://`).join(' or ')}`,
    });

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An https:// URL; plain http:// only on a loopback address (a provider on the same machine, e.g. in tests). */
const webUrl = z
  .url({ error: 'must be a URL (https://...)' })
  .refine((u) => u.startsWith('https://') || (u.startsWith('http://') && LOOPBACK.has(new URL(u).hostname)), {
    error: 'must start with https:// (http:// only on a loopback address)',
  });

/** The OpenID Connect variables that are set together or not at all, in the order they are reported. */
const OIDC_REQUIRED = ['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_REDIRECT_URL'] as const;

/** Environment variables and their rules. Unset means "use the default" (SPEC section 4). */
const environment = z.object({
  PORT: wholeNumber(0, 65535, 'must be between 0 and 65535').default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: connectionUrl(['postgres', 'postgresql']).optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  REDIS_URL: connectionUrl(['redis', 'rediss']).optional(),
  // Unset: derived from the database's installation id (redisPrefixFor), so two installations
  // sharing one Redis never share queues or streams, and every process of one installation agrees.
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/, { error: 'may hold only letters, digits, ":", "_" and "-"' })
    .optional(),
  ADMIN_EMAIL: z.email({ error: 'must be an e-mail address' }).optional(),
  ADMIN_PASSWORD: z.string().min(12, { error: 'must be at least 12 characters' }).optional(),
  DEMO: flag.optional(),
  RUN_WORKERS: flag.default(true),
  // The benchmark's naive baseline: one INSERT and one job per reading (never for production).
  INGEST_MODE: z.enum(['group', 'naive'], { error: 'must be group or naive' }).default('group'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  READING_RETENTION_DAYS: positiveInt().default(3650),
  COMPRESS_AFTER_DAYS: positiveInt().default(30),
  // Alert jobs: how often the no-data scan runs, and BullMQ's lock and stall check (a job whose
  // worker died comes back after about these); tests shorten them.
  NO_DATA_SCAN_SECONDS: positiveInt(3600, 'must be between 1 and 3600').default(60),
  ALERT_JOB_LOCK_SECONDS: positiveInt(600, 'must be between 1 and 600').default(30),
  // How often each worker process escalates the alerts the database has due (the safety net for
  // delayed jobs a Redis without its data lost) and re-creates job schedulers Redis lost.
  ESCALATION_SWEEP_SECONDS: positiveInt(3600, 'must be between 1 and 3600').default(30),
  // A published batch of readings whose evaluation has not finished after this long is published
  // again (its job was lost with a Redis that restarted without persistence).
  EVALUATION_REPUBLISH_SECONDS: positiveInt(86_400, 'must be between 1 and 86400').default(300),
  SESSION_IDLE_MINUTES: positiveInt(1440, 'must be between 1 and 1440 (a day)').default(30),
  SESSION_MAX_HOURS: positiveInt(168, 'must be between 1 and 168 (a week)').default(12),
  // How often each server checks that the sessions of its open boards still hold (idle, expired, disabled).
  BOARD_SESSION_CHECK_SECONDS: positiveInt(300, 'must be between 1 and 300').default(30),
  // Express's "trust proxy": how many proxies (or which addresses) may set X-Forwarded-*.
  TRUST_PROXY: z
    .string()
    .regex(/^(false|true|loopback|\d+|[0-9a-fA-F.:/, ]+)$/, {
      error: 'must be false, a hop count, loopback or addresses',
    })
    .default('false'),
  AUDIT_RETENTION_DAYS: wholeNumber(
    1826,
    Number.MAX_SAFE_INTEGER,
    'must be at least 1826 (five years, HSLF-FS 2016:40)',
  ).default(3650),
  // OpenID Connect sign-in (e.g. SITHS eID): see docs/access-control.md.
  OIDC_ISSUER: webUrl.optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  // It also keys the sealed cookie of a sign-in in progress, so a short one would be guessable offline.
  OIDC_CLIENT_SECRET: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  OIDC_REDIRECT_URL: webUrl.optional(),
  OIDC_SCOPES: z
    .string()
    .regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, {
      error: 'must be scopes separated by single spaces',
    })
    .refine((s) => s.split(' ').includes('openid'), { error: 'must include openid' })
    .default('openid email profile'),
  OIDC_LOCAL_LOGIN: flag.default(true),
});

export interface Config {
  port: number;
  host: string;
  /** Unset: the embedded PGlite-with-TimescaleDB database under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Unset: 127.0.0.1:6379 if it answers, else a private redis-server under dataDir. */
  redisUrl: string | undefined;
  /** REDIS_PREFIX; unset: one of this installation's own, see redisPrefixFor. */
  redisPrefix: string | undefined;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  /** Seed the demo clinic once. Defaults to on for the embedded database only. */
  demo: boolean;
  /** Run the BullMQ workers inside the server process (always so for the embedded database). */
  runWorkers: boolean;
  /** group: group commit with the outbox (the real one); naive: the benchmark's baseline. */
  ingestMode: 'group' | 'naive';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readingRetentionDays: number;
  compressAfterDays: number;
  auditRetentionDays: number;
  alertJobs: { noDataScanMs: number; lockDurationMs: number; republishAfterMs: number; escalationSweepMs: number };
  sessionPolicy: { idleMinutes: number; maxHours: number };
  /** How often open boards' sessions are checked again; a board whose session ended is closed. */
  boardSessionCheckMs: number;
  /** Express "trust proxy": false, a hop count, or addresses of the TLS-terminating proxies. */
  trustProxy: boolean | number | string;
  /** Sign-in through an OpenID Connect provider; unset when OIDC_ISSUER and friends are not set. */
  oidc: OidcSettings | undefined;
  /** Whether e-mail and password sign-in is allowed (OIDC_LOCAL_LOGIN). */
  localLogin: boolean;
}

export interface OidcSettings {
  /** The issuer identifier; accounts are linked by (issuer, subject). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** This installation's callback: https://<host>/api/auth/oidc/callback. */
  redirectUrl: string;
  /** Space-separated, including openid. */
  scopes: string;
}

/** Reads and checks the environment; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable is treated as unset, as shells and compose files often produce them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = environment.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const e = parsed.data;
  if ((e.ADMIN_EMAIL === undefined) !== (e.ADMIN_PASSWORD === undefined)) {
    throw new ConfigError(
      e.ADMIN_EMAIL === undefined ? 'ADMIN_EMAIL' : 'ADMIN_PASSWORD',
      'ADMIN_EMAIL and ADMIN_PASSWORD must be set together',
    );
  }
  const embedded = e.DATABASE_URL === undefined;
  if (embedded && !e.RUN_WORKERS) {
    throw new ConfigError(
      'RUN_WORKERS',
      'the embedded database takes one connection, so its workers must run in the server (set DATABASE_URL to run them apart)',
    );
  }
  const oidcMissing = OIDC_REQUIRED.filter((name) => e[name] === undefined);
  if (oidcMissing.length > 0 && oidcMissing.length < OIDC_REQUIRED.length) {
    throw new ConfigError(oidcMissing[0]!, `${OIDC_REQUIRED.join(', ')} must be set together`);
  }
  const oidc: OidcSettings | undefined =
    oidcMissing.length === 0
      ? {
          issuer: e.OIDC_ISSUER!,
          clientId: e.OIDC_CLIENT_ID!,
          clientSecret: e.OIDC_CLIENT_SECRET!,
          redirectUrl: e.OIDC_REDIRECT_URL!,
          scopes: e.OIDC_SCOPES,
        }
      : undefined;
  if (!e.OIDC_LOCAL_LOGIN && !oidc) {
    throw new ConfigError(
      'OIDC_LOCAL_LOGIN',
      'password sign-in can only be switched off once OpenID Connect is configured (OIDC_ISSUER and the rest)',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    adminEmail: e.ADMIN_EMAIL,
    adminPassword: e.ADMIN_PASSWORD,
    demo: e.DEMO ?? embedded,
    runWorkers: e.RUN_WORKERS,
    ingestMode: e.INGEST_MODE,
    logLevel: e.LOG_LEVEL,
    readingRetentionDays: e.READING_RETENTION_DAYS,
    compressAfterDays: e.COMPRESS_AFTER_DAYS,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    alertJobs: {
      noDataScanMs: e.NO_DATA_SCAN_SECONDS * 1000,
      lockDurationMs: e.ALERT_JOB_LOCK_SECONDS * 1000,
      republishAfterMs: e.EVALUATION_REPUBLISH_SECONDS * 1000,
      escalationSweepMs: e.ESCALATION_SWEEP_SECONDS * 1000,
    },
    sessionPolicy: { idleMinutes: e.SESSION_IDLE_MINUTES, maxHours: e.SESSION_MAX_HOURS },
    boardSessionCheckMs: e.BOARD_SESSION_CHECK_SECONDS * 1000,
    trustProxy: trustProxySetting(e.TRUST_PROXY),
    oidc,
    localLogin: e.OIDC_LOCAL_LOGIN,
  };
}

function trustProxySetting(value: string): boolean | number | string {
  if (value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}
