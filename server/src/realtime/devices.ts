import type { Namespace } from 'socket.io';
import type { Logger } from 'pino';
import type { Database } from '@glucoboard/core/storage';
import { validateDeviceStatus } from '@glucoboard/core/wire';
import { createDeviceAuthenticator, parseDeviceAuth, type DeviceCredentials } from './device-auth.ts';
import type { DeviceCacheOptions, VerifiedDevice } from './device-cache.ts';
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

/** Told to every other server: forget this device's cached verifications. */
const CREDENTIALS_CHANGED = 'glucoboard:device-credentials-changed';

/** Handles a `readings` batch of an authenticated device and answers its ack. */
export type ReadingsHandler = (device: VerifiedDevice, payload: unknown) => Promise<unknown>;

export interface Devices {
  deviceCredentialsChanged(deviceId: string): Promise<void>;
  /** For gateways over HTTP: the same check, and the same cache, as the handshake. */
  authenticate(credentials: DeviceCredentials): Promise<VerifiedDevice | null>;
  readonly cacheSize: number;
}

/**
 * /devices: meters and gateways, authenticated by `auth: { deviceId, token }` against
 * devices.token_hash (argon2id) of a device that is not revoked. A connected socket is in
 * `device:<deviceId>` and carries { deviceId, patientId, teamId } in socket.data.
 */
export function setupDevices(
  nsp: Namespace,
  deps: { db: Database; log: Logger; cache?: DeviceCacheOptions; onReadings?: ReadingsHandler },
): Devices {
  const { db, log } = deps;
  const authenticator = createDeviceAuthenticator(db.pool, deps.cache);

  nsp.use((socket, next) => {
    const credentials = parseDeviceAuth(socket.handshake.auth);
    if (!credentials) {
      return next(
        new HandshakeError('DEVICE_AUTH', 'auth must be { deviceId: string, token: string }, both non-empty'),
      );
    }
    authenticator.authenticate(credentials).then(
      (device) => {
        if (!device) {
          log.info({ deviceId: credentials.deviceId }, 'device refused: unknown, revoked or wrong token');
          return next(new HandshakeError('DEVICE_AUTH', 'unknown or revoked device, or wrong token'));
        }
        socket.data = device satisfies DeviceSocketData;
        next();
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
    // Not awaited: a reconnect storm must not wait for 10,000 single-row updates.
    db.pool
      .query('update devices set last_seen_at = now() where serial = $1', [device.deviceId])
      .catch((err: Error) => log.warn({ err: err.message }, 'could not record device last_seen_at'));
    socket.on('disconnect', (reason) => log.debug({ deviceId: device.deviceId, reason }, 'device disconnected'));
    socket.on('status', (payload: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (answer: unknown) => void) : () => undefined;
      const verdict = validateDeviceStatus(payload);
      if (!verdict.ok) return reply(verdict);
      db.pool
        .query('update devices set battery_percent = $2, firmware = $3, last_seen_at = now() where serial = $1', [
          device.deviceId,
          verdict.status.batteryPercent,
          verdict.status.firmware,
        ])
        .then(
          () => reply({ ok: true }),
          (err: Error) => {
            log.warn({ deviceId: device.deviceId, err: err.message }, 'could not record device status');
            reply(UNAVAILABLE_ACK);
          },
        );
    });
    socket.on('readings', (payload: unknown, ack?: unknown) => {
      // Without an ack callback the device cannot learn what was stored; the batch is still
      // processed (resends are idempotent), the answer just has nowhere to go.
      const reply = typeof ack === 'function' ? (ack as (answer: unknown) => void) : () => undefined;
      if (!deps.onReadings) return reply(UNAVAILABLE_ACK);
      deps.onReadings(device, payload).then(reply, (err: unknown) => {
        log.error({ deviceId: device.deviceId, err: (err as Error).message }, 'readings batch failed');
        reply(UNAVAILABLE_ACK);
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
    authenticate: (credentials) => authenticator.authenticate(credentials),
    get cacheSize() {
      return authenticator.cacheSize;
    },
  };
}
