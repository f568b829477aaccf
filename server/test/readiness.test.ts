import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@glucoboard/core/config';
import { createTestDatabase, silentLog } from '../../core/test/support/databases.ts';
import { freePort } from '../../core/test/support/processes.ts';
import { throwawayRedis as redisServer } from '../../core/test/support/redis.ts';
import { fetchSystemStatus } from '../../web/src/lib/status.ts';
import { startSystem } from '../src/system.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

describe('readiness (as the web app reads it)', () => {
  it('turns unready, naming Redis, while Redis is down, and ready again when it is back', async () => {
    const redisPort = await freePort();
    let redis = await redisServer(redisPort);
    cleanup.push(() => redis.stop());
    const target = await createTestDatabase('postgres');
    cleanup.push(() => target.dispose());
    const system = await startSystem(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: target.databaseUrl!,
        DATA_DIR: target.dataDir,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        DEMO: '0',
      }),
      silentLog,
    );
    cleanup.push(() => system.close());
    const fetcher = ((input: string) => fetch(`${system.url}${input}`)) as typeof fetch;

    expect(await fetchSystemStatus(fetcher)).toMatchObject({ state: 'ready', live: true });
    expect((await fetch(`${system.url}/readyz`)).headers.get('cache-control')).toBe('no-store');

    await redis.stop();
    const down = await fetch(`${system.url}/readyz`);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('unready');
    expect(body.checks.database).toBe('ok');
    expect(body.checks.redis).not.toBe('ok');
    const seen = await fetchSystemStatus(fetcher);
    expect(seen).toMatchObject({
      state: 'unready',
      live: true,
      checks: { database: { ok: true }, redis: { ok: false } },
    });

    redis = await redisServer(redisPort);
    const deadline = Date.now() + 20_000;
    while ((await fetch(`${system.url}/readyz`)).status !== 200 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(`${system.url}/readyz`)).status).toBe(200);
  });

  it('reads as down when nothing listens', async () => {
    const port = await freePort();
    const fetcher = ((input: string) => fetch(`http://127.0.0.1:${port}${input}`)) as typeof fetch;
    expect(await fetchSystemStatus(fetcher)).toMatchObject({ state: 'down', live: false });
  });
});
