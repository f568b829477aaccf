import { io } from 'socket.io-client';

/**
 * A meter's connection to the server, one per connection attempt. The meter owns reconnecting
 * (its own backoff), so each attempt is a fresh socket with Socket.IO's reconnection off: no hidden
 * send buffer replays a batch the meter did not decide to send, and no old ack outlives its socket.
 */
export interface UplinkEvents {
  connected(): void;
  /** The handshake failed: `code` is the server's `connect_error` data.code (DEVICE_AUTH, ...), if any. */
  refused(code: string | undefined, message: string): void;
  disconnected(reason: string): void;
}

export interface Uplink {
  /** Emits a `readings` batch; `onAck` gets the server's answer, unless the connection goes first. */
  sendReadings(payload: unknown, onAck: (ack: unknown) => void): void;
  /** Drops the connection. No event or ack is delivered after this. */
  close(): void;
}

export type UplinkFactory = (credentials: { deviceId: string; token: string }, events: UplinkEvents) => Uplink;

export interface SocketUplinkOptions {
  /** How long a handshake may take before it counts as failed (ms). */
  connectTimeoutMs: number;
}

/** Real connections: Socket.IO v4 to `<url>/devices`, WebSocket only, as meters in the field connect. */
export function socketUplinks(url: string, options: SocketUplinkOptions): UplinkFactory {
  const endpoint = `${url.replace(/\/+$/, '')}/devices`;
  return (credentials, events) => {
    const socket = io(endpoint, {
      auth: { deviceId: credentials.deviceId, token: credentials.token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: options.connectTimeoutMs,
    });
    let open = true;
    socket.on('connect', () => {
      if (open) events.connected();
    });
    socket.on('connect_error', (err: Error & { data?: { code?: unknown } }) => {
      if (!open) return;
      const code = err.data?.code;
      events.refused(typeof code === 'string' ? code : undefined, err.message);
    });
    socket.on('disconnect', (reason: string) => {
      if (open) events.disconnected(reason);
    });
    return {
      sendReadings(payload, onAck) {
        socket.emit('readings', payload, (ack: unknown) => {
          if (open) onAck(ack);
        });
      },
      close() {
        if (!open) return;
        open = false;
        socket.removeAllListeners();
        socket.disconnect();
      },
    };
  };
}
