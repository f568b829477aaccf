import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { closeRedisClient, endRedisClient, redisClient, type RedisEndpoint } from '@glucoboard/core/platform';

export interface StreamsAdapter {
  /** The `adapter` option of the Socket.IO server. */
  adapter: ReturnType<typeof createAdapter>;
  /** The connection that publishes (XADD) and the one that waits on the stream (XREAD BLOCK). */
  writer: Redis;
  reader: Redis;
  /** After io.close(): lets the adapter's last message (ADAPTER_CLOSE) out, then closes both connections. */
  close(): Promise<void>;
}

/**
 * The Socket.IO Redis streams adapter (v0.2.3) on two connections instead of the one it asks for.
 *
 * The adapter polls with `XREAD BLOCK 100` on the client it is given and publishes with XADD on
 * that same client. Redis runs a connection's commands in order, so every XADD waits behind the
 * pending XREAD: up to 100 ms, in practice up to ~200 ms (Redis checks blocking timeouts at its
 * `hz` resolution). A broadcast is delivered locally only after its XADD returns
 * (socket.io-adapter ClusterAdapter.broadcast), so every board event would be late by that much;
 * measured here: median 172 ms with one connection, 1.6 ms with two. See also
 * socketio/socket.io-redis-streams-adapter#31 and #35.
 *
 * So the adapter gets a view of the writer whose `xread` runs on a dedicated reader. The reader
 * waits for Redis forever (role 'worker'): the adapter's poll loop retries at once on any error,
 * and a reader that failed fast would spin. The writer queues while Redis reconnects ('general'),
 * so a membership change or revocation made during a blip still reaches the other servers.
 */
export async function createStreamsAdapter(options: {
  redis: RedisEndpoint;
  /** Stream and session keys live under it, so deployments and test runs sharing a Redis never mix. */
  redisPrefix: string;
  log: Logger;
}): Promise<StreamsAdapter> {
  const writer = redisClient(options.redis, 'general', options.log);
  const reader = redisClient(options.redis, 'worker', options.log);
  try {
    await Promise.all([writer.ping(), reader.ping()]);
  } catch (err) {
    writer.disconnect();
    reader.disconnect();
    throw err;
  }
  const client = new Proxy(writer, {
    get(target, property) {
      if (property === 'xread') return reader.xread.bind(reader);
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const adapter = createAdapter(client, {
    streamName: `${options.redisPrefix}:socket.io`,
    sessionKeyPrefix: `${options.redisPrefix}:socket.io:session:`,
  });
  return {
    adapter,
    writer,
    reader,
    async close() {
      // The reader is parked in XREAD; QUIT would queue behind it, so cut it. With Redis away,
      // QUIT would wait out every reconnect attempt: closeRedisClient only quits a ready client.
      await endRedisClient(reader);
      await closeRedisClient(writer);
    },
  };
}
