import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { deleteKeysUnder } from '../../src/platform/redis.ts';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of its own for each test, so runs sharing one Redis never see each other's keys. */
export const uniqueRedisPrefix = (): string => `gbtest-${randomBytes(5).toString('hex')}`;

/** Deletes every key a test wrote under its prefix (BullMQ's keys are `{prefix}:...`). */
export const dropRedisPrefix = (prefix: string): Promise<void> => deleteKeysUnder(TEST_REDIS_URL, prefix);

/** A throwaway redis-server on a fixed port, so it can be stopped and started again in place. */
export async function throwawayRedis(port: number): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise((r) => child.once('exit', r));
  for (let i = 0; i < 100; i++) {
    try {
      const socket = await import('node:net').then((net) => net.connect(port, '127.0.0.1'));
      await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      socket.destroy();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    async stop() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
