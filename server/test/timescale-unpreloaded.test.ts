import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@glucoboard/core/test-support/databases';
import { freePort, runEntryPoint, waitForOk } from '@glucoboard/core/test-support/processes';
import { dropRedisPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '@glucoboard/core/test-support/redis';
import { unpreloadedTimescale } from '@glucoboard/core/test-support/unpreloaded-timescale';

// Issue 11 item 11, found on a real TimescaleDB 2.28 server: with TimescaleDB installed but not in
// shared_preload_libraries, CREATE EXTENSION ends the connection with FATAL, and `npm start` died.

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

describe('npm start on a server with TimescaleDB installed but not preloaded', () => {
  it('starts on plain tables and says in its log how to enable TimescaleDB', async () => {
    const proxy = await unpreloadedTimescale();
    cleanup.push(() => proxy.close());
    const target = await createTestDatabase('postgres');
    cleanup.push(() => target.dispose());
    const prefix = uniqueRedisPrefix();
    cleanup.push(() => dropRedisPrefix(prefix));
    const port = await freePort();
    const proc = runEntryPoint('server/src/main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: proxy.url(target.databaseUrl!),
      DATA_DIR: target.dataDir,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      DEMO: '0',
    });
    cleanup.push(async () => {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
      await proc.exited;
    });
    await waitForOk(`http://127.0.0.1:${port}/readyz`, proc, 60_000);
    expect(proxy.refused).toBe(1);
    expect(proc.output()).toMatch(/TimescaleDB is installed but cannot be used.*shared_preload_libraries/);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
});
