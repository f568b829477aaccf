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

const positiveInt = z.coerce
  .number({ error: 'must be a whole number' })
  .int({ error: 'must be a whole number' })
  .positive({ error: 'must be greater than 0' });

const connectionUrl = (schemes: string[]) =>
  z
    .url({ error: `must be a URL (${schemes.join(' or ')})` })
    .refine((u) => schemes.some((s) => u.startsWith(`${s}://`)), {
      error: `must start with ${schemes.map((s) => `${s}://`).join(' or ')}`,
    });

/** Environment variables and their rules. Unset means "use the default" (SPEC section 4). */
const environment = z.object({
  PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int({ error: 'must be a port number' })
    .min(0, { error: 'must be between 0 and 65535' })
    .max(65535, { error: 'must be between 0 and 65535' })
    .default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: connectionUrl(['postgres', 'postgresql']).optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  REDIS_URL: connectionUrl(['redis', 'rediss']).optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/, { error: 'may hold only letters, digits, ":", "_" and "-"' })
    .default('glucoboard'),
  ADMIN_EMAIL: z.email({ error: 'must be an e-mail address' }).optional(),
  ADMIN_PASSWORD: z.string().min(12, { error: 'must be at least 12 characters' }).optional(),
  DEMO: flag.optional(),
  RUN_WORKERS: flag.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  READING_RETENTION_DAYS: positiveInt.default(3650),
  COMPRESS_AFTER_DAYS: positiveInt.default(30),
  SESSION_IDLE_MINUTES: positiveInt.max(1440, { error: 'must be at most 1440 (a day)' }).default(30),
  SESSION_MAX_HOURS: positiveInt.max(168, { error: 'must be at most 168 (a week)' }).default(12),
  // Express's "trust proxy": how many proxies (or which addresses) may set X-Forwarded-*.
  TRUST_PROXY: z
    .string()
    .regex(/^(false|true|loopback|\d+|[0-9a-fA-F.:/, ]+)$/, {
      error: 'must be false, a hop count, loopback or addresses',
    })
    .default('false'),
  AUDIT_RETENTION_DAYS: positiveInt
    .min(1826, { error: 'must be at least 1826 (five years, HSLF-FS 2016:40)' })
    .default(3650),
});

export interface Config {
  port: number;
  host: string;
  /** Unset: the embedded PGlite-with-TimescaleDB database under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Unset: 127.0.0.1:6379 if it answers, else a private redis-server under dataDir. */
  redisUrl: string | undefined;
  redisPrefix: string;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  /** Seed the demo clinic once. Defaults to on for the embedded database only. */
  demo: boolean;
  /** Run the BullMQ workers inside the server process (always so for the embedded database). */
  runWorkers: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readingRetentionDays: number;
  compressAfterDays: number;
  auditRetentionDays: number;
  sessionPolicy: { idleMinutes: number; maxHours: number };
  /** Express "trust proxy": false, a hop count, or addresses of the TLS-terminating proxies. */
  trustProxy: boolean | number | string;
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
    logLevel: e.LOG_LEVEL,
    readingRetentionDays: e.READING_RETENTION_DAYS,
    compressAfterDays: e.COMPRESS_AFTER_DAYS,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    sessionPolicy: { idleMinutes: e.SESSION_IDLE_MINUTES, maxHours: e.SESSION_MAX_HOURS },
    trustProxy: trustProxySetting(e.TRUST_PROXY),
  };
}

function trustProxySetting(value: string): boolean | number | string {
  if (value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}
