import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { newSecret } from './secrets.ts';

/**
 * The key prefix of an installation: REDIS_PREFIX when set, else one derived from the database's
 * installation id. Two installations on one Redis (two data directories, two databases) thus
 * never share queues, streams or sessions, while every process on one database (server and
 * workers, or several servers) arrives at the same prefix.
 */
export function redisPrefixFor(configured: string | undefined, installationId: string): string {
  return configured ?? `glucoboard-${installationId.replaceAll('-', '').slice(0, 12)}`;
}

/** Where Redis is and how to reach it; stop() ends a private server this process started. */
export interface RedisEndpoint {
  readonly options: RedisOptions;
  /** For logs: the address, never a password. */
  readonly description: string;
  readonly private: boolean;
  stop(): Promise<void>;
}

export class RedisUnavailableError extends Error {}

export const INSTALL_REDIS_HINT =
  'Glucoboard needs Redis 6.2 or newer: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a running server.';

/**
 * REDIS_URL when set; else a Redis already answering on 127.0.0.1:6379; else a private
 * redis-server with its files under dataDir, stopped again by stop().
 */
export async function locateRedis(options: {
  redisUrl: string | undefined;
  dataDir: string;
  log: Logger;
}): Promise<RedisEndpoint> {
  if (options.redisUrl !== undefined) {
    return sharedEndpoint(urlOptions(options.redisUrl), new URL(options.redisUrl).host);
  }
  const local: RedisOptions = { host: '127.0.0.1', port: 6379 };
  if (await answers(local)) return sharedEndpoint(local, '127.0.0.1:6379');
  return startPrivateRedis(options.dataDir, options.log);
}

function urlOptions(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

function sharedEndpoint(options: RedisOptions, description: string): RedisEndpoint {
  return { options, description, private: false, stop: async () => undefined };
}

async function answers(options: RedisOptions, timeoutMs = 500): Promise<boolean> {
  const probe = new Redis({
    ...options,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export async function startPrivateRedis(dataDir: string, log: Logger): Promise<RedisEndpoint> {
  if (spawnSync('redis-server', ['--version']).error) throw new RedisUnavailableError(INSTALL_REDIS_HINT);
  const dir = path.join(dataDir, 'redis');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await stopOrphan(path.join(dir, 'redis.pid'));
  const port = await freePort();
  const password = newSecret();
  // Loopback only, a fresh password each start, and an append-only file so queued jobs survive.
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--pidfile',
      path.join(dir, 'redis.pid'),
      '--appendonly',
      'yes',
      '--save',
      '',
      '--requirepass',
      password,
      '--daemonize',
      'no',
      '--logfile',
      path.join(dir, 'redis.log'),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const options: RedisOptions = { host: '127.0.0.1', port, password };
  for (let i = 0; i < 100 && !(await answers(options, 200)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await answers(options))) {
    child.kill('SIGKILL');
    throw new RedisUnavailableError(`a private redis-server did not start; see ${path.join(dir, 'redis.log')}`);
  }
  log.info({ port, dir }, 'started a private redis-server (set REDIS_URL to use your own)');
  return {
    options,
    description: `private redis-server on 127.0.0.1:${port}`,
    private: true,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM'); // redis finishes its append-only file before it exits
      await exited;
    },
  };
}

/** A private redis-server left running by a process that was killed: stop it before reusing its files. */
async function stopOrphan(pidFile: string): Promise<void> {
  const pid = Number(await fs.readFile(pidFile, 'utf8').catch(() => ''));
  if (!pid) return;
  const comm = await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  if (!comm.startsWith('redis-server')) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TCP port on loopback that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Connection roles: BullMQ workers must wait for Redis forever (maxRetriesPerRequest null);
 * producers on the ingest path must fail fast (no offline queue) so a device gets UNAVAILABLE
 * instead of a hanging ack.
 */
export type RedisRole = 'worker' | 'producer' | 'general';

export function redisClient(endpoint: RedisEndpoint, role: RedisRole, log?: Logger): Redis {
  const roleOptions: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null }
      : role === 'producer'
        ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
        : {};
  const client = new Redis({ ...endpoint.options, ...roleOptions });
  client.on('error', (err) => log?.warn({ err: err.message, role }, 'redis connection error'));
  return client;
}

/**
 * Ends a client at once, whatever state its connection is in. ioredis 5 has a hole here:
 * disconnect() while the client waits to reconnect cancels the reconnect but never settles the
 * commands queued for it, so whatever awaits them (a blocking read loop, a shutdown) hangs
 * forever (redis/ioredis#2169). One more attempt, already marked as closing, ends it properly: a
 * refused attempt rejects every queued command, and a successful one is disconnected at once.
 */
export async function endRedisClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  const waitingToReconnect = client.status === 'reconnecting';
  client.disconnect();
  if (!waitingToReconnect) return;
  await client.connect().catch(() => undefined);
  if ((client.status as string) !== 'end') client.disconnect();
}

/** Ends a client gracefully: QUIT when connected (it waits for Redis, so only then), else endRedisClient. */
export async function closeRedisClient(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else await endRedisClient(client);
}

/**
 * Deletes every key under a prefix: ours (`prefix:...`) and BullMQ's (`{prefix}:...`). For test
 * runs and benchmark runs that share a Redis and clean up after themselves.
 */
export async function deleteKeysUnder(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for (const pattern of [`{${prefix}}*`, `${prefix}*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
