import type http from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Server } from 'socket.io';
import {
  endRedisClient,
  followBoardEvents,
  publishReadingsToBoards,
  redisClient,
  type BoardMessage,
  type RedisEndpoint,
} from '@glucoboard/core/platform';
import type { Database } from '@glucoboard/core/storage';
import type { BoardReading } from '@glucoboard/core/wire';
import type { SessionPolicy } from '../access/sessions.ts';
import { createStreamsAdapter } from './adapter.ts';
import { BOARD_NAMESPACE, setupBoard, type BoardNamespace } from './board.ts';
import type { Redis } from 'ioredis';
import { DeviceAuthThrottle, RedisFailureCounter } from './auth-throttle.ts';
import type { DeviceCacheOptions } from './device-cache.ts';
import type { DeviceAdmission, DeviceAttempt } from './device-auth.ts';
import { DEVICES_NAMESPACE, setupDevices, type ReadingsHandler } from './devices.ts';
import { HandshakeError } from './errors.ts';
import { DEVICE_FRAME_LIMIT_BYTES } from './frame-limit.ts';
import { registerRealtimeMetrics } from './metrics.ts';

import { teamRoom } from './rooms.ts';

export { teamRoom, userRoom, deviceRoom } from './rooms.ts';
export type { VerifiedDevice } from './device-cache.ts';
export type { DeviceAdmission, DeviceAttempt, DeviceCredentials } from './device-auth.ts';
export { throttledMessage } from './devices.ts';
export { DEVICE_FRAME_LIMIT_BYTES } from './frame-limit.ts';
export type { ReadingsHandler } from './devices.ts';
export { BOARD_NAMESPACE, type BoardSocketData } from './board.ts';
export { DEVICES_NAMESPACE, type DeviceSocketData } from './devices.ts';
export { HandshakeError, type HandshakeErrorCode } from './errors.ts';

export interface RealtimeOptions {
  httpServer: http.Server;
  db: Database;
  redis: RedisEndpoint;
  /** Namespaces the adapter's Redis stream, so installations and test runs sharing a Redis never mix. */
  redisPrefix: string;
  log: Logger;
  metrics: Registry;
  sessionPolicy: SessionPolicy;
  /** How often open boards' sessions are checked again (idle, expired, disabled); default 30 s. */
  boardSessionCheckMs?: number;
  /** Verified-device cache; default 5 minutes, 50,000 entries. */
  deviceCache?: DeviceCacheOptions;
  /** The `readings` event of /devices: store, then answer the ack. */
  onReadings?: ReadingsHandler;
}

export interface Realtime {
  io: Server;
  /**
   * Call after a membership row was inserted (member = true) or deleted (false): that user's
   * board sockets on every server join or leave the team's room, without reconnecting. Takes
   * effect asynchronously (through Redis) on the other servers.
   */
  membershipChanged(userId: string, teamId: string, member: boolean): void;
  /** A session ended (sign-out): its open boards close on every server. */
  sessionEnded(sessionId: string): void;
  /** Gateways over HTTP authenticate like meters on /devices (same check, cache and throttle). */
  authenticateDevice(attempt: DeviceAttempt): Promise<DeviceAdmission>;
  /** Committed readings to the boards of their responsible team (`reading` events). */
  publishReadings(readings: readonly BoardReading[]): void;
  /**
   * Call after a device was revoked or its token replaced (committed): every server forgets its
   * cached verifications and drops the device's live sockets. Resolves when every known server
   * has confirmed forgetting (or after 5 s; then it logs a warning).
   */
  deviceCredentialsChanged(deviceId: string): Promise<void>;
  /**
   * Disconnects every client and closes the adapter's Redis connections. Socket.IO's own
   * io.close() also stops the HTTP server from listening (socket.io/dist/index.js, close()).
   */
  close(): Promise<void>;
}

/** Socket.IO on the HTTP server: /devices for meters, /board for browsers, Redis streams between servers. */
export async function attachRealtime(options: RealtimeOptions): Promise<Realtime> {
  const streams = await createStreamsAdapter(options);
  // A frame above the limit closes the connection unanswered (see frame-limit.ts).
  const io = new Server(options.httpServer, {
    adapter: streams.adapter,
    serveClient: false,
    maxHttpBufferSize: DEVICE_FRAME_LIMIT_BYTES,
  });
  // Live readings are best effort (boards resync), and the device throttle falls back to memory:
  // a client that fails fast, so a Redis outage never queues either in memory.
  const publisher = redisClient(options.redis, 'producer', options.log);
  let wired;
  try {
    wired = wire(io, options, publisher);
  } catch (err) {
    // e.g. the metrics are already registered on this registry: leave nothing running.
    publisher.disconnect();
    await io.close();
    await streams.close();
    throw err;
  }
  const { devices, board, unregisterMetrics } = wired;
  // Alert events from the workers (any process) to this server's own board sockets.
  const boardNamespace = io.of(BOARD_NAMESPACE) as BoardNamespace;
  const boards = boardNamespace.local;
  const boardEvents = followBoardEvents(options.redis, options.redisPrefix, options.log, (message) => {
    if ('readings' in message) {
      // Only to teams with a board open here: Socket.IO encodes an event before it looks for
      // sockets, and in a storm nearly every reading is of a team nobody is watching right now.
      const watched = boardNamespace.adapter.rooms;
      for (const reading of message.readings) {
        const room = teamRoom(reading.teamId);
        if (watched.has(room)) boards.to(room).emit('reading', reading);
      }
    } else {
      emitToTeams(boards, message);
    }
  });
  try {
    await boardEvents.ready;
  } catch (err) {
    board.close();
    await boardEvents.close();
    publisher.disconnect();
    unregisterMetrics();
    await io.close();
    await streams.close();
    throw err;
  }

  // The batches of one flush are acked in one turn of the event loop: their readings go out as one
  // stream entry, not one per device batch.
  let unpublished: BoardReading[] = [];
  let publishing: NodeJS.Immediate | undefined;
  const publishUnpublished = () => {
    publishing = undefined;
    const readings = unpublished;
    unpublished = [];
    publishReadingsToBoards(publisher, options.redisPrefix, { readings }).catch((err: Error) =>
      options.log.warn({ err: err.message }, 'readings not shown live; boards resync'),
    );
  };

  let closed: Promise<void> | undefined;
  return {
    io,
    membershipChanged: (userId, teamId, member) => board.membershipChanged(userId, teamId, member),
    sessionEnded: (sessionId) => board.sessionEnded(sessionId),
    authenticateDevice: (attempt) => devices.authenticate(attempt),
    publishReadings(readings) {
      // One stream entry per commit, not one adapter broadcast per reading: at storm rates the
      // per-reading XADD and its encoding on every server were a large share of the work.
      if (closed || readings.length === 0) return;
      for (const reading of readings) unpublished.push(reading);
      publishing ??= setImmediate(publishUnpublished);
    },
    deviceCredentialsChanged: (deviceId) => devices.deviceCredentialsChanged(deviceId),
    close() {
      closed ??= (async () => {
        if (publishing) {
          clearImmediate(publishing);
          publishUnpublished(); // sent before the publisher's connection ends below
        }
        board.close();
        unregisterMetrics();
        await devices.close();
        await boardEvents.close();
        await endRedisClient(publisher);
        await io.close();
        await streams.close();
      })();
      return closed;
    },
  };
}

/**
 * One board event to its teams' rooms. TypeScript cannot tie a union's event to its own payload
 * in one emit() call; BoardMessage pairs them (core/src/wire/board-events.ts), so this is sound.
 */
function emitToTeams(boards: BoardNamespace['local'], message: BoardMessage): void {
  const { event, payload } = message as Extract<BoardMessage, { event: 'alert' }>;
  boards.to(message.teamIds.map(teamRoom)).emit(event, payload);
}

function wire(io: Server, options: RealtimeOptions, redis: Redis) {
  const { db, log } = options;
  const metrics = registerRealtimeMetrics(options.metrics, io);
  // The main namespace always exists in Socket.IO; nothing is served there.
  io.of('/').use((_socket, next) => next(new HandshakeError('NOT_FOUND', 'connect to /devices or /board')));
  const devices = setupDevices(io.of(DEVICES_NAMESPACE), {
    db,
    log,
    cache: options.deviceCache,
    onReadings: options.onReadings,
    throttle: new DeviceAuthThrottle({
      shared: new RedisFailureCounter(redis, options.redisPrefix),
      log,
      onFallback: metrics.devices.throttleFallback,
    }),
    metrics: metrics.devices,
  });
  const board = setupBoard(io.of(BOARD_NAMESPACE) as BoardNamespace, {
    db,
    sessionPolicy: options.sessionPolicy,
    sessionCheckMs: options.boardSessionCheckMs ?? 30_000,
    log,
  });
  return { devices, board, unregisterMetrics: metrics.unregister };
}
