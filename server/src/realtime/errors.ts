/**
 * Why a handshake was refused. The codes are part of the public wire contract (SPEC section 4):
 * clients read them from `connect_error`'s `err.data.code`.
 * - UNAUTHORIZED: /board without a valid session cookie.
 * - DEVICE_AUTH: /devices with malformed auth, an unknown or revoked device, or a wrong token.
 * - OVERLOADED: /devices after too many failed verifications for this device id or from this
 *   address; the token was not checked. `data.retryAfterMs` says when to try again. Not
 *   DEVICE_AUTH, which tells a meter to give up: a meter with the right token, whose id an
 *   attacker floods, must only wait.
 * - UNAVAILABLE: the server could not decide (e.g. the database did not answer); try again later.
 * - NOT_FOUND: a namespace that serves nothing (the main namespace `/`).
 * - TOO_MANY_CONNECTIONS: /board with a session that already has as many open boards as allowed.
 */
export type HandshakeErrorCode =
  | 'UNAUTHORIZED'
  | 'DEVICE_AUTH'
  | 'OVERLOADED'
  | 'UNAVAILABLE'
  | 'NOT_FOUND'
  | 'TOO_MANY_CONNECTIONS';

/**
 * Passed to a Socket.IO middleware's next(): Socket.IO sends `{ message, data }` in the
 * CONNECT_ERROR packet, and socket.io-client exposes them as `err.message` and `err.data`.
 */
export class HandshakeError extends Error {
  readonly data: { code: HandshakeErrorCode; message: string; retryAfterMs?: number };

  constructor(code: HandshakeErrorCode, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'HandshakeError';
    this.data = retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs };
  }
}

export const unavailable = (): HandshakeError =>
  new HandshakeError('UNAVAILABLE', 'the server cannot check credentials right now; try again shortly');
