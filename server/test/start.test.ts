import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, runEntryPoint, waitForOk, type RunningProcess } from '@glucoboard/core/test-support/processes';
import { dropRedisPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '@glucoboard/core/test-support/redis';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function startServer(env: Record<string, string>): Promise<{ proc: RunningProcess; url: string }> {
  const port = await freePort();
  const proc = runEntryPoint('server/src/main.ts', { PORT: String(port), HOST: '127.0.0.1', ...env });
  cleanup.push(async () => {
    if (proc.child.exitCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  });
  return { proc, url: `http://127.0.0.1:${port}` };
}

describe('the server process (npm start)', () => {
  it('starts on an empty data directory, is ready, exits 0 on SIGTERM and starts again on its data', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'glucoboard-start-'));
    const prefix = uniqueRedisPrefix();
    cleanup.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    cleanup.push(() => dropRedisPrefix(prefix));
    const env = { DATA_DIR: dataDir, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix };

    const first = await startServer(env);
    await waitForOk(`${first.url}/readyz`, first.proc, 90_000);
    expect(await fs.readFile(path.join(dataDir, 'demo-devices.json'), 'utf8')).toContain('DEMO-CGM-');
    first.proc.child.kill('SIGTERM');
    expect(await first.proc.exited).toBe(0);

    const second = await startServer(env);
    await waitForOk(`${second.url}/readyz`, second.proc, 90_000);
    second.proc.child.kill('SIGINT');
    expect(await second.proc.exited).toBe(0);
    // No patient data, and no generated secret, reaches the log.
    const log = first.proc.output() + second.proc.output();
    const devices = JSON.parse(await fs.readFile(path.join(dataDir, 'demo-devices.json'), 'utf8')) as Array<{
      token: string;
    }>;
    expect(log).not.toContain(devices[0]!.token);
    expect(log).not.toMatch(/password:/i);
  });

  it('refuses a bad configuration with a message naming the variable and exit code 2', async () => {
    const { proc } = await startServer({ PORT: 'eighty' });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain('configuration error: PORT: must be a whole number');
  });
});

describe('the workers process', () => {
  it('refuses to run without DATABASE_URL, saying why', async () => {
    const proc = runEntryPoint('workers/src/main.ts', {});
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain('DATABASE_URL');
  });
});
