import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@glucoboard/core/config';
import { STOP_STEP_MS } from '@glucoboard/core/platform';
import { createTestDatabase, silentLog } from '@glucoboard/core/test-support/databases';
import { freePort } from '@glucoboard/core/test-support/processes';
import { throwawayRedis as redisServer } from '@glucoboard/core/test-support/redis';
import { fetchSystemStatus } from '../../web/src/lib/system/status.ts';
import { startSystem, type RunningSystem } from '../src/system.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** A system on a Redis of its own, which the test can stop and start again on the same port. */
async function systemOnThrowawayRedis() {
  const redisPort = await freePort();
  const redis = { server: await redisServer(redisPort) };
  cleanup.push(() => redis.server.stop());
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
  return { system, redis, redisPort };
}

async function readyAgain(system: RunningSystem): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await fetch(`${system.url}/readyz`)).status !== 200 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
}

describe('readiness (as the web app reads it)', () => {
  it('turns unready, naming Redis, while Redis is down, and ready again when it is back', async () => {
    const { system, redis, redisPort } = await systemOnThrowawayRedis();
    const fetcher = ((input: string) => fetch(`${system.url}${input}`)) as typeof fetch;

    expect(await fetchSystemStatus(fetcher)).toMatchObject({ state: 'ready', live: true });
    expect((await fetch(`${system.url}/readyz`)).headers.get('cache-control')).toBe('no-store');

    await redis.server.stop();
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

    redis.server = await redisServer(redisPort);
    await readyAgain(system);
    expect((await fetch(`${system.url}/readyz`)).status).toBe(200);
  });

  it('reads as down when nothing listens', async () => {
    const port = await freePort();
    const fetcher = ((input: string) => fetch(`http://127.0.0.1:${port}${input}`)) as typeof fetch;
    expect(await fetchSystemStatus(fetcher)).toMatchObject({ state: 'down', live: false });
  });
});

describe('shutdown while Redis is away (a graceful stop must always end)', () => {
  /** Every stop step is bounded by STOP_STEP_MS; none should need all of it, but one may. */
  const CLOSE_BOUND_MS = STOP_STEP_MS + 5_000;

  /** How close() ended: 'closed' with its duration, or 'hung' after twice the bound. */
  async function timedClose(system: RunningSystem) {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      system.close().then(() => 'closed' as const),
      new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 2 * CLOSE_BOUND_MS))),
    ]);
    clearTimeout(timer);
    return { outcome, ms: Date.now() - started };
  }

  it('closes within its bound while Redis is down and every connection waits to reconnect', async () => {
    const { system, redis } = await systemOnThrowawayRedis();
    await redis.server.stop();
    // Long enough for every client to be between attempts (ioredis backs off up to 2 s).
    await new Promise((r) => setTimeout(r, 4000));
    const closed = await timedClose(system);
    expect(closed.outcome).toBe('closed');
    expect(closed.ms).toBeLessThan(CLOSE_BOUND_MS);
  });

  it('closes within its bound right after Redis came back', async () => {
    const { system, redis, redisPort } = await systemOnThrowawayRedis();
    await redis.server.stop();
    await new Promise((r) => setTimeout(r, 4000));
    redis.server = await redisServer(redisPort);
    await readyAgain(system);
    // Ready means the commands connection is back; others may still be waiting for their next attempt.
    const closed = await timedClose(system);
    expect(closed.outcome).toBe('closed');
    expect(closed.ms).toBeLessThan(CLOSE_BOUND_MS);
  });
});
