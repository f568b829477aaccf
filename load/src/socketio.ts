/**
 * Engine.IO v4 / Socket.IO v5 framing over a plain WebSocket, by hand: just what a meter needs
 * (connect to a namespace with an auth payload, emit with an ack id, read acks, answer pings).
 *
 * Pure (no k6 or Node imports) so that it can be unit-tested anywhere (load/test/socketio.test.ts).
 *
 * Over the websocket transport every text frame carries exactly one Engine.IO packet (no \x1e
 * batching, which only long-polling uses); the first character is the Engine.IO type:
 *
 *   0{"sid":..,"upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}  open
 *   1  close     2  ping (the server pings; the client must answer)     3  pong     6  noop
 *   4<socket.io packet>  message
 *
 * A Socket.IO packet is `<type>[<nsp>,][<ack id>][<JSON>]`, the namespace omitted for `/`:
 *
 *   40/devices,{"deviceId":"..","token":".."}            CONNECT with auth (client -> server)
 *   40/devices,{"sid":".."}                              CONNECT answered (server -> client)
 *   44/devices,{"message":"..","data":{"code":"DEVICE_AUTH"}}   CONNECT_ERROR
 *   42/devices,7["readings",{"readings":[..]}]           EVENT asking for ack 7
 *   43/devices,7[{"ok":true,"accepted":1,..}]            ACK 7 (the ack callback's arguments)
 *   41/devices,                                          DISCONNECT
 *
 * Binary packets (types 5 and 6, with attachments in separate frames) are not supported: nothing
 * in the device contract sends binary data.
 */

export const ENGINE_PROTOCOL = 4;

/** Engine.IO packet types, as the first character of a frame. */
export const EngineType = {
  OPEN: '0',
  CLOSE: '1',
  PING: '2',
  PONG: '3',
  MESSAGE: '4',
  UPGRADE: '5',
  NOOP: '6',
} as const;

/** Socket.IO packet types, as the first character after the Engine.IO MESSAGE type. */
export const SocketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

/** The frame a client answers a server ping with. */
export const PONG_FRAME = EngineType.PONG;

/** The payload of the Engine.IO open packet. */
export interface EngineHandshake {
  sid: string;
  upgrades: string[];
  /** How often the server pings, in ms. */
  pingInterval: number;
  /** How long the server waits for the pong (and the client should wait past pingInterval), in ms. */
  pingTimeout: number;
  /** The largest frame the server accepts, in bytes. */
  maxPayload: number;
}

/** One decoded WebSocket text frame. */
export type Frame =
  | { kind: 'open'; handshake: EngineHandshake }
  | { kind: 'ping' }
  | { kind: 'pong' }
  | { kind: 'close' }
  | { kind: 'noop' }
  | { kind: 'connect'; nsp: string; sid: string }
  | { kind: 'connect_error'; nsp: string; message: string; data: unknown }
  | { kind: 'disconnect'; nsp: string }
  | { kind: 'event'; nsp: string; id: number | null; name: string; args: unknown[] }
  | { kind: 'ack'; nsp: string; id: number; args: unknown[] }
  | { kind: 'invalid'; reason: string };

/**
 * The WebSocket URL of a Socket.IO server at an HTTP base URL:
 * `http://host:3000` -> `ws://host:3000/socket.io/?EIO=4&transport=websocket`.
 */
export function socketIoUrl(baseUrl: string, path = '/socket.io/'): string {
  const match = /^(http|ws)(s?):\/\/([^/?#]+)/i.exec(baseUrl.trim());
  if (!match) throw new Error(`not an http(s) or ws(s) URL: ${baseUrl}`);
  const secure = match[2]!.toLowerCase() === 's';
  return `${secure ? 'wss' : 'ws'}://${match[3]}${path}?EIO=${ENGINE_PROTOCOL}&transport=websocket`;
}

const nspPrefix = (nsp: string) => (nsp === '/' ? '' : `${nsp},`);

function checkNamespace(nsp: string): void {
  if (!nsp.startsWith('/') || nsp.includes(',')) throw new Error(`not a namespace: ${nsp}`);
}

/** CONNECT to a namespace, with the handshake's `auth` payload if any: `40/devices,{..}`. */
export function encodeConnect(nsp: string, auth?: Record<string, unknown>): string {
  checkNamespace(nsp);
  return `${EngineType.MESSAGE}${SocketType.CONNECT}${nspPrefix(nsp)}${auth === undefined ? '' : JSON.stringify(auth)}`;
}

/** DISCONNECT from a namespace: `41/devices,`. */
export function encodeDisconnect(nsp: string): string {
  checkNamespace(nsp);
  return `${EngineType.MESSAGE}${SocketType.DISCONNECT}${nspPrefix(nsp)}`;
}

/** EVENT `name` with its arguments, asking for an ack when ackId is given: `42/devices,7["readings",{..}]`. */
export function encodeEvent(nsp: string, name: string, args: readonly unknown[], ackId?: number): string {
  checkNamespace(nsp);
  if (ackId !== undefined && (!Number.isSafeInteger(ackId) || ackId < 0)) throw new Error(`not an ack id: ${ackId}`);
  return `${EngineType.MESSAGE}${SocketType.EVENT}${nspPrefix(nsp)}${ackId ?? ''}${JSON.stringify([name, ...args])}`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function decodeHandshake(json: string): Frame {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return { kind: 'invalid', reason: 'open packet is not JSON' };
  }
  if (!isObject(data) || typeof data['sid'] !== 'string' || typeof data['pingInterval'] !== 'number') {
    return { kind: 'invalid', reason: 'open packet lacks sid or pingInterval' };
  }
  return {
    kind: 'open',
    handshake: {
      sid: data['sid'],
      upgrades: Array.isArray(data['upgrades']) ? data['upgrades'].filter((u) => typeof u === 'string') : [],
      pingInterval: data['pingInterval'],
      pingTimeout: typeof data['pingTimeout'] === 'number' ? data['pingTimeout'] : 20_000,
      maxPayload: typeof data['maxPayload'] === 'number' ? data['maxPayload'] : 1_000_000,
    },
  };
}

/** Decodes a Socket.IO packet (the frame without its leading Engine.IO `4`). */
export function decodeSocketPacket(text: string): Frame {
  const type = Number(text.charAt(0));
  let i = 1;
  if (type === SocketType.BINARY_EVENT || type === SocketType.BINARY_ACK) {
    return { kind: 'invalid', reason: 'binary packets are not supported' };
  }
  let nsp = '/';
  if (text.charAt(i) === '/') {
    const comma = text.indexOf(',', i);
    nsp = comma === -1 ? text.slice(i) : text.slice(i, comma);
    i = comma === -1 ? text.length : comma + 1;
  }
  let id: number | null = null;
  const digits = /^\d+/.exec(text.slice(i));
  if (digits) {
    id = Number(digits[0]);
    i += digits[0].length;
  }
  let payload: unknown = undefined;
  if (i < text.length) {
    try {
      payload = JSON.parse(text.slice(i));
    } catch {
      return { kind: 'invalid', reason: `payload of a type ${type} packet is not JSON` };
    }
  }
  switch (type) {
    case SocketType.CONNECT:
      if (!isObject(payload) || typeof payload['sid'] !== 'string') {
        return { kind: 'invalid', reason: 'CONNECT answer lacks sid' };
      }
      return { kind: 'connect', nsp, sid: payload['sid'] };
    case SocketType.DISCONNECT:
      return { kind: 'disconnect', nsp };
    case SocketType.CONNECT_ERROR:
      // Socket.IO v4 servers send { message, data? }; v2-era servers sent a bare string.
      if (typeof payload === 'string') return { kind: 'connect_error', nsp, message: payload, data: undefined };
      if (isObject(payload)) {
        return { kind: 'connect_error', nsp, message: String(payload['message'] ?? ''), data: payload['data'] };
      }
      return { kind: 'invalid', reason: 'CONNECT_ERROR without a message' };
    case SocketType.EVENT:
      if (!Array.isArray(payload) || typeof payload[0] !== 'string') {
        return { kind: 'invalid', reason: 'EVENT payload is not ["name", ...args]' };
      }
      return { kind: 'event', nsp, id, name: payload[0], args: payload.slice(1) };
    case SocketType.ACK:
      if (id === null || !Array.isArray(payload)) return { kind: 'invalid', reason: 'ACK without an id or arguments' };
      return { kind: 'ack', nsp, id, args: payload };
    default:
      return { kind: 'invalid', reason: `unknown Socket.IO packet type ${text.charAt(0) || '(none)'}` };
  }
}

/** Decodes one WebSocket text frame of an Engine.IO v4 websocket connection. */
export function decodeFrame(frame: string): Frame {
  switch (frame.charAt(0)) {
    case EngineType.OPEN:
      return decodeHandshake(frame.slice(1));
    case EngineType.CLOSE:
      return { kind: 'close' };
    case EngineType.PING:
      return { kind: 'ping' };
    case EngineType.PONG:
      return { kind: 'pong' };
    case EngineType.NOOP:
      return { kind: 'noop' };
    case EngineType.MESSAGE:
      return decodeSocketPacket(frame.slice(1));
    default:
      return { kind: 'invalid', reason: `unknown Engine.IO packet type ${frame.charAt(0) || '(empty frame)'}` };
  }
}
