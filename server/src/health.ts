import type { Redis } from 'ioredis';
import { pingDatabase, type Database } from '@glucoboard/core/storage';

export type CheckResult = 'ok' | string;

export interface Readiness {
  status: 'ready' | 'unready';
  checks: { database: CheckResult; redis: CheckResult };
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref(),
    ),
  ]);

async function check(run: () => Promise<unknown>, what: string): Promise<CheckResult> {
  try {
    await withTimeout(run(), 2000, what);
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
}

/** Ready means: the database and Redis both answer now, and the process is not shutting down. */
export async function readiness(db: Database, redis: Redis, shuttingDown: boolean): Promise<Readiness> {
  const [database, redisCheck] = await Promise.all([
    check(() => pingDatabase(db.pool), 'database'),
    check(() => redis.ping(), 'redis'),
  ]);
  const ready = !shuttingDown && database === 'ok' && redisCheck === 'ok';
  return { status: ready ? 'ready' : 'unready', checks: { database, redis: redisCheck } };
}
