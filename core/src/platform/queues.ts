import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import { queuePrefix, type QueueJobs, type QueueName } from '../wire/queues.ts';
import type { RedisEndpoint } from './redis.ts';

/** Producers fail fast: a caller gets an error to act on instead of a command queued forever. */
export const producerConnection = (redis: RedisEndpoint): ConnectionOptions => ({
  ...redis.options,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
});

/** A queue as its producers see it: its jobs' payloads and names typed (core/src/wire/queues.ts). */
export type ProducerQueue<N extends QueueName> = Queue<QueueJobs[N]['data'], unknown, QueueJobs[N]['name']>;

/**
 * The one way a process opens a queue to add (or remove) jobs: the installation's key prefix, a
 * connection that fails fast, and errors logged rather than thrown at nobody (BullMQ emits
 * 'error' on a Redis hiccup; unlistened, Node would crash on it).
 */
export function producerQueue<N extends QueueName>(
  name: N,
  redis: RedisEndpoint,
  redisPrefix: string,
  log: Logger,
): ProducerQueue<N> {
  const queue: ProducerQueue<N> = new Queue(name, {
    connection: producerConnection(redis),
    prefix: queuePrefix(redisPrefix),
  });
  queue.on('error', (err) => log.warn({ queue: name, err: err.message }, 'queue error'));
  return queue;
}
