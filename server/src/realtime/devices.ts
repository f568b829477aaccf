import type { Namespace } from 'socket.io';
import type { Logger } from 'pino';
import { devicesConnected, recordDeviceStatus, type Database } from '@glucoboard/core/storage';
import { validateDeviceStatus } from '@glucoboard/core/wire';
import type { FailureCounter } from './auth-throttle.ts';
import {
  createDeviceAuthenticator,
  parseDeviceAuth,
  type DeviceAdmission,
  type DeviceAttempt,
  type DeviceAuthMetrics,
} from './device-auth.ts';
import type { DeviceCacheOptions, VerifiedDevice } from './device-cache.ts';
import { DeviceConnections } from './device-connections.ts';
import { HandshakeError, unavailable } from './errors.ts';
import { deviceRoom } from './rooms.ts';

export const DEVICES_NAMESPACE = '/devices';

/** What a device socket carries after its handshake: `socket.data`. */
export type DeviceSocketData = VerifiedDevice;

const UNAVAILABLE_ACK = {
  ok: false,
  code: 'UNAVAILABLE',
  message: 'the readings could not be handled now; send them again later',
  retryAfterMs: 1000,
};

/** The emit shape the contract names: `emit('readings', { readings }, ack)`, the ack last. */
const NO_PAYLOAD_ACK = {
  ok: false,
  code: 'INVALID_PAYLOAD',
  message: "send the batch as emit('readings', { readings: [...] }, ack): one payload, then the ack function",
};

/** Device events that carried no ack function at all: nobody can be told anything. */
export interface DeviceEventMetrics {
  withoutAck(event: string): void;
}

/** Told to every other server: forget this device's cached verifications. */
const CREDENTIALS_CHANGED = 'glucoboard:device-credentials-changed';

/** Handles a `readings` batch of an authenticated device and answers its ack. */
export type ReadingsHandler = (device: VerifiedDevice, payload: unknown) => Promise<unknown>;

export interface Devices {
  deviceCredentialsChanged(deviceId: string): Promise<void>;
  /** For gateways over HTTP: the same check, cache and throttle as the handshake. */
  authenticate(attempt: DeviceAttempt): Promise<DeviceAdmission>;
  readonly cacheSize: number;
  /** Writes the connections not yet recorded (before the database closes). */
  close(): Promise<void>;
}

/**
 * /devices: meters and gateways, authenticated by `auth: { deviceId, token }` against
 * devices.token_hash (argon2id) of a device that is not revoked. A connected socket is in
 * `device:<deviceId>` and carries { deviceId, patientId, teamId } in socket.data.
 */
export function setupDevices(
  nsp: Namespace,
  deps: {
    db: Database;
    log: Logger;
    cache?: DeviceCacheOptions;
    onReadings?: ReadingsHandler;
    /** Failed verifications per device id and source address; default: this process's memory. */
    throttle?: FailureCounter;
    metrics?: DeviceAuthMetrics & DeviceEventMetrics;
  },
): Devices {
  const { db, log } = deps;
  const authenticator = createDeviceAuthenticator(db.pool, {
    cache: deps.cache,
    throttle: deps.throttle,
    metrics: deps.metrics,
  });

  const connections = new DeviceConnections((serials) => devicesConnected(db.pool, serials), log);

  nsp.use((socket, next) => {
    const credentials = parseDeviceAuth(socket.handshake.auth);
    if (!credentials) {
      return next(
        new HandshakeError('DEVICE_AUTH', 'auth must be { deviceId: string, token: string }, both non-empty'),
      );
    }
    // The peer's address: behind a proxy that is the proxy's (see docs/ingest.md, Throttling).
    authenticator.authenticate({ ...credentials, source: socket.handshake.address }).then(
      (admission) => {
        if (admission.admitted) {
          socket.data = admission.device satisfies DeviceSocketData;
          return next();
        }
        if (admission.reason === 'throttled') {
          log.debug({ deviceId: credentials.deviceId, scope: admission.scope }, 'device throttled after failures');
          return next(throttledHandshake(admission.retryAfterMs));
        }
        log.info({ deviceId: credentials.deviceId }, 'device refused: unknown, revoked or wrong token');
        next(new HandshakeError('DEVICE_AUTH', 'unknown or revoked device, or wrong token'));
      },
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'device handshake failed');
        next(unavailable());
      },
    );
  });

  nsp.on('connection', (socket) => {
    const device = socket.data as DeviceSocketData;
    void socket.join(deviceRoom(device.deviceId));
    log.debug({ deviceId: device.deviceId }, 'device connected');
    // Gathered: a reconnect storm must not wait for, nor commit, 10,000 single-row updates.
    connections.connected(device.deviceId);
    socket.on('disconnect', (reason) => log.debug({ deviceId: device.deviceId, reason }, 'device disconnected'));
    socket.on('status', (payload: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (answer: unknown) => void) : () => undefined;
      const verdict = validateDeviceStatus(payload);
      if (!verdict.ok) return reply(verdict);
      recordDeviceStatus(db.pool, device.deviceId, verdict.status).then(
        () => reply({ ok: true }),
        (err: Error) => {
          log.warn({ deviceId: device.deviceId, err: err.message }, 'could not record device status');
          reply(UNAVAILABLE_ACK);
        },
      );
    });
    socket.on('readings', (...args: unknown[]) => {
      // Socket.IO hands the ack over as the last argument; anywhere else it is still the only
      // way to answer. With no ack at all the device could never learn what was stored, and must
      // resend anyway: the batch is dropped unstored, and counted.
      const ack = args.findLast((arg) => typeof arg === 'function') as ((answer: unknown) => void) | undefined;
      if (!ack) {
        deps.metrics?.withoutAck('readings');
        return;
      }
      if (args.length !== 2 || args[1] !== ack) return ack(NO_PAYLOAD_ACK);
      if (!deps.onReadings) return ack(UNAVAILABLE_ACK);
      deps.onReadings(device, args[0]).then(ack, (err: unknown) => {
        log.error({ deviceId: device.deviceId, err: (err as Error).message }, 'readings batch failed');
        ack(UNAVAILABLE_ACK);
      });
    });
  });

  nsp.on(CREDENTIALS_CHANGED, (deviceId: unknown, ack?: (ok: boolean) => void) => {
    if (typeof deviceId === 'string') authenticator.forget(deviceId);
    ack?.(true);
  });

  return {
    async deviceCredentialsChanged(deviceId) {
      authenticator.forget(deviceId);
      // Published before the disconnect on the same connection, so every server forgets the
      // device before it drops the socket (whose client will reconnect at once).
      // The adapter waits 5 s (fixed) for the servers it knows of.
      const confirmed = nsp.serverSideEmitWithAck(CREDENTIALS_CHANGED, deviceId);
      nsp.in(deviceRoom(deviceId)).disconnectSockets(true);
      try {
        await confirmed;
      } catch (err) {
        // A server that died recently is still counted until its heartbeat times out; one that
        // is alive but slow keeps a cached verification until it answers or the TTL ends.
        log.warn({ deviceId, err: (err as Error).message }, 'not every server confirmed forgetting a device');
      }
      log.info({ deviceId }, 'device credentials changed: cache dropped, sockets disconnected');
    },
    authenticate: (attempt) => authenticator.authenticate(attempt),
    get cacheSize() {
      return authenticator.cacheSize;
    },
    close: () => connections.close(),
  };
}

/** Refused unchecked: wait, do not give up (DEVICE_AUTH would make a meter stop for good). */
export function throttledHandshake(retryAfterMs: number): HandshakeError {
  return new HandshakeError('OVERLOADED', throttledMessage(retryAfterMs), retryAfterMs);
}

export const throttledMessage = (retryAfterMs: number): string =>
  `too many failed authentications for this device or from this address; try again in ${Math.ceil(retryAfterMs / 1000)} s`;
