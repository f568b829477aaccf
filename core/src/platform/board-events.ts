import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BoardEvent, BoardReading } from '../wire/board-events.ts';
import { endRedisClient, redisClient, type RedisEndpoint } from './redis.ts';

/**
 * Board events from processes that hold no Socket.IO server (the alert workers) to every server's
 * board sockets. Workers append to one Redis stream; each server reads it and emits to its own
 * sockets only (`io.local`), so every browser gets each event once however many servers run.
 * A stream rather than pub/sub: a server whose Redis connection blips resumes after the last id
 * it saw instead of losing what was published meanwhile. The stream is capped: boards that were
 * away longer resync from the API (GET /api/alerts) anyway.
 */

export type BoardMessage = BoardEvent & {
  /** The teams whose boards get it (the responsible team, and the escalation target once escalated). */
  teamIds: string[];
};

/**
 * Many `reading` events at once (one committed flush): one stream entry instead of one broadcast
 * per reading, each server then emits every reading to its team's room on its own sockets.
 */
export interface ReadingsMessage {
  readings: readonly BoardReading[];
}

const STREAM_CAP = 10_000;
export const boardEventStream = (redisPrefix: string): string => `${redisPrefix}:board-events`;

/** Appends the messages in one round trip. Throws when Redis is unavailable: the caller retries. */
export async function publishToBoards(
  redis: Redis,
  redisPrefix: string,
  messages: readonly BoardMessage[],
): Promise<void> {
  if (messages.length === 0) return;
  const pipeline = redis.pipeline();
  for (const m of messages)
    pipeline.xadd(boardEventStream(redisPrefix), 'MAXLEN', '~', STREAM_CAP, '*', 'm', JSON.stringify(m));
  const results = await pipeline.exec();
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0];
}

/** Appends one flush's readings as one entry. */
export async function publishReadingsToBoards(
  redis: Redis,
  redisPrefix: string,
  message: ReadingsMessage,
): Promise<void> {
  if (message.readings.length === 0) return;
  await redis.xadd(boardEventStream(redisPrefix), 'MAXLEN', '~', STREAM_CAP, '*', 'r', JSON.stringify(message));
}

/** Reads the stream from now on and hands every message to `deliver`, until closed. */
export function followBoardEvents(
  endpoint: RedisEndpoint,
  redisPrefix: string,
  log: Logger,
  deliver: (message: BoardMessage | ReadingsMessage) => void,
): { ready: Promise<void>; close(): Promise<void> } {
  // Blocking reads need their own connection, one that waits out a Redis restart.
  const reader = redisClient(endpoint, 'worker', log);
  const key = boardEventStream(redisPrefix);
  let closed = false;
  let lastId = '$';
  const ready = (async () => {
    // Start after the newest entry now, so a later XREAD with an id misses nothing in between.
    const newest = (await reader.xrevrange(key, '+', '-', 'COUNT', 1))[0];
    lastId = newest ? newest[0] : '0-0';
  })();
  const loop = (async () => {
    await ready.catch(() => undefined);
    while (!closed) {
      try {
        const answer = (await reader.xread('COUNT', 500, 'BLOCK', 1000, 'STREAMS', key, lastId)) as Array<
          [string, Array<[string, string[]]>]
        > | null;
        for (const [, entries] of answer ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            try {
              deliver(JSON.parse(fields[1]!) as BoardMessage | ReadingsMessage);
            } catch (err) {
              log.warn({ err: (err as Error).message }, 'board event could not be delivered');
            }
          }
        }
      } catch (err) {
        if (closed) break;
        log.warn({ err: (err as Error).message }, 'board event stream read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  })();
  return {
    ready,
    async close() {
      closed = true;
      await endRedisClient(reader);
      await loop;
    },
  };
}
