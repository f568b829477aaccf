import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@glucoboard/core/platform';
import { silentLog } from '@glucoboard/core/test-support/databases';
import { dropRedisPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from '@glucoboard/core/test-support/redis';
import {
  DEVICE_AUTH_LIMITS,
  DeviceAuthThrottle,
  LocalFailureCounter,
  RedisFailureCounter,
  type FailureCounter,
} from '../src/realtime/auth-throttle.ts';
import { DEVICE_FRAME_LIMIT_BYTES, largestLegalBatchBytes } from '../src/realtime/frame-limit.ts';
import { VerificationSlots } from '../src/realtime/verification-slots.ts';

const LIMITS = { device: { failures: 3, windowMs: 10_000 }, source: { failures: 5, windowMs: 20_000 } };
const attempt = (device: string, source = '10.0.0.1') => ({ device, source });

/** The same rules, whichever counter keeps them. */
async function behavesAsTheRules(counter: FailureCounter, advance: (ms: number) => Promise<void>) {
  for (let i = 0; i < 3; i++) {
    expect(await counter.check(attempt('M-1'))).toEqual({ allowed: true });
    await counter.recordFailure(attempt('M-1'));
  }
  const refused = await counter.check(attempt('M-1'));
  expect(refused).toMatchObject({ allowed: false, scope: 'device' });
  expect(refused.allowed === false && refused.retryAfterMs).toBeGreaterThan(9_000);
  expect(refused.allowed === false && refused.retryAfterMs).toBeLessThanOrEqual(10_000);
  // Another id from the same address, and the same id from elsewhere, each have their own count...
  expect(await counter.check(attempt('M-2'))).toEqual({ allowed: true });
  expect(await counter.check(attempt('M-1', '10.0.0.2'))).toMatchObject({ allowed: false, scope: 'device' });
  // ...but the address's failures add up over ids: 3 + 2 reach its limit of 5.
  await counter.recordFailure(attempt('M-2'));
  await counter.recordFailure(attempt('M-3'));
  expect(await counter.check(attempt('M-4'))).toMatchObject({ allowed: false, scope: 'source' });
  expect(await counter.check(attempt('M-4', '10.0.0.2'))).toEqual({ allowed: true });
  // The device's window ends first; the address's later.
  await advance(10_001);
  expect(await counter.check(attempt('M-1', '10.0.0.2'))).toEqual({ allowed: true });
  expect(await counter.check(attempt('M-1'))).toMatchObject({ allowed: false, scope: 'source' });
  await advance(10_000);
  expect(await counter.check(attempt('M-1'))).toEqual({ allowed: true });
}

describe('LocalFailureCounter', () => {
  it('allows the limit of failures per device id and per address in a window, then refuses until it ends', async () => {
    let now = 1_000_000;
    await behavesAsTheRules(new LocalFailureCounter(LIMITS, () => now), async (ms) => void (now += ms));
  });

  it('holds at most its number of keys, forgetting the oldest windows first', async () => {
    let now = 0;
    const counter = new LocalFailureCounter(LIMITS, () => now, 10);
    for (let i = 0; i < 50; i++) {
      now++;
      await counter.recordFailure(attempt(`random-${i}`, `10.0.${i}.1`));
    }
    expect(counter.size).toBeLessThanOrEqual(10);
  });

  it('has defaults well above an honest meter and an honest ward', () => {
    expect(DEVICE_AUTH_LIMITS.device.failures).toBeGreaterThanOrEqual(5);
    expect(DEVICE_AUTH_LIMITS.source.failures).toBeGreaterThan(DEVICE_AUTH_LIMITS.device.failures);
  });
});

describe('RedisFailureCounter (real Redis)', () => {
  const prefix = uniqueRedisPrefix();
  const redis = new Redis(TEST_REDIS_URL);
  afterAll(async () => {
    redis.disconnect();
    await dropRedisPrefix(prefix);
  });

  it('keeps the same rules in Redis, shared by every server, and never leaves a counter without expiry', async () => {
    // Windows in Redis run on Redis's clock: shorten them to wait them out for real.
    const short = { device: { failures: 3, windowMs: 400 }, source: { failures: 5, windowMs: 800 } };
    const serverA = new RedisFailureCounter(redis, prefix, short);
    const serverB = new RedisFailureCounter(redis, prefix, short);
    for (let i = 0; i < 3; i++) await (i % 2 ? serverA : serverB).recordFailure(attempt('M-1'));
    expect(await serverA.check(attempt('M-1'))).toMatchObject({ allowed: false, scope: 'device' });
    expect(await serverB.check(attempt('M-1'))).toMatchObject({ allowed: false, scope: 'device' });
    for (const key of await redis.keys(`${prefix}:device-auth:*`)) {
      expect(await redis.pttl(key), key).toBeGreaterThan(0);
    }
    await serverA.recordFailure(attempt('M-2'));
    await serverB.recordFailure(attempt('M-3'));
    expect(await serverA.check(attempt('M-4'))).toMatchObject({ allowed: false, scope: 'source' });
    await new Promise((r) => setTimeout(r, 450));
    expect(await serverA.check(attempt('M-1', '10.0.0.2'))).toEqual({ allowed: true });
    expect(await serverA.check(attempt('M-1'))).toMatchObject({ allowed: false, scope: 'source' });
    await new Promise((r) => setTimeout(r, 400));
    expect(await serverA.check(attempt('M-1'))).toEqual({ allowed: true });
  });
});

describe('DeviceAuthThrottle', () => {
  it('counts in memory while Redis refuses connections (fail open, still throttled)', async () => {
    // A real client to a port nobody listens on, failing fast as the server's own does.
    const down = new Redis({
      port: await freePort(),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 1000,
    });
    down.on('error', () => undefined);
    let fallbacks = 0;
    const throttle = new DeviceAuthThrottle({
      shared: new RedisFailureCounter(down, 'unused', LIMITS),
      local: new LocalFailureCounter(LIMITS),
      log: silentLog,
      onFallback: () => fallbacks++,
    });
    try {
      for (let i = 0; i < 3; i++) {
        expect(await throttle.check(attempt('M-1'))).toEqual({ allowed: true });
        await throttle.recordFailure(attempt('M-1'));
      }
      expect(await throttle.check(attempt('M-1'))).toMatchObject({ allowed: false, scope: 'device' });
      expect(fallbacks).toBe(7);
    } finally {
      down.disconnect();
    }
  });

  it('does not wait for a Redis that accepts the connection and never answers', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const hung = new Redis({ port: (silent.address() as net.AddressInfo).port, maxRetriesPerRequest: 1 });
    hung.on('error', () => undefined);
    const throttle = new DeviceAuthThrottle({
      shared: new RedisFailureCounter(hung, 'unused', LIMITS),
      local: new LocalFailureCounter(LIMITS),
      log: silentLog,
      sharedTimeoutMs: 100,
    });
    try {
      const started = Date.now();
      expect(await throttle.check(attempt('M-1'))).toEqual({ allowed: true });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      hung.disconnect();
      silent.close();
    }
  });
});

describe('VerificationSlots', () => {
  it('runs at most its size at once, the rest in arrival order', async () => {
    const slots = new VerificationSlots(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        slots.run(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 5));
          order.push(i);
          running--;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(slots.waiting).toBe(0);
  });

  it('gives the slot back when the work fails', async () => {
    const slots = new VerificationSlots(1);
    await expect(slots.run(() => Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    expect(await slots.run(async () => 'next')).toBe('next');
  });
});

describe('the device frame limit', () => {
  it('holds the largest legal 500-reading batch many times over, and 501 such readings', () => {
    expect(largestLegalBatchBytes()).toBeGreaterThan(70_000);
    expect(largestLegalBatchBytes() * 8).toBeLessThan(DEVICE_FRAME_LIMIT_BYTES);
    expect(largestLegalBatchBytes(501)).toBeLessThan(DEVICE_FRAME_LIMIT_BYTES);
  });
});
