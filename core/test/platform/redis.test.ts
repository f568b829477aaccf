import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { locateRedis, startPrivateRedis, type RedisEndpoint } from '../../src/platform/redis.ts';

const log = pino({ level: 'silent' });
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function tempDir() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'glucoboard-redis-'));
  cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function privateRedis(dir: string): Promise<RedisEndpoint> {
  const endpoint = await startPrivateRedis(dir, log);
  cleanup.push(() => endpoint.stop());
  return endpoint;
}

describe('finding Redis', () => {
  it('uses REDIS_URL when it is set', async () => {
    const endpoint = await locateRedis({
      redisUrl: 'redis://:secret@cache.example:6380/2',
      dataDir: await tempDir(),
      log,
    });
    expect(endpoint.options).toMatchObject({ host: 'cache.example', port: 6380, password: 'secret', db: 2 });
    expect(endpoint.description).not.toContain('secret');
    expect(endpoint.private).toBe(false);
  });

  it('uses the Redis answering on 127.0.0.1:6379 when there is one', async () => {
    const endpoint = await locateRedis({ redisUrl: undefined, dataDir: await tempDir(), log });
    expect(endpoint.private).toBe(false);
    expect(endpoint.options).toMatchObject({ host: '127.0.0.1', port: 6379 });
  });

  it('starts a private, password-protected redis-server whose data survives a restart', async () => {
    const dir = await tempDir();
    const first = await privateRedis(dir);
    expect(first.private).toBe(true);
    const anonymous = new Redis({
      host: '127.0.0.1',
      port: first.options.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    anonymous.on('error', () => undefined);
    await expect(anonymous.ping()).rejects.toThrow(/NOAUTH|auth/i);
    anonymous.disconnect();
    const client = new Redis(first.options);
    await client.set('kept', 'yes');
    await client.quit();
    await first.stop();

    const second = await privateRedis(dir);
    const again = new Redis(second.options);
    expect(await again.get('kept')).toBe('yes');
    await again.quit();
  });

  it('stops a private redis-server left behind by a killed process before starting its own', async () => {
    const dir = await tempDir();
    const orphan = await privateRedis(dir);
    const pid = Number(await fs.readFile(path.join(dir, 'redis', 'redis.pid'), 'utf8'));
    await privateRedis(dir);
    await new Promise((r) => setTimeout(r, 100));
    expect(() => process.kill(pid, 0)).toThrow();
    await orphan.stop();
  });
});
