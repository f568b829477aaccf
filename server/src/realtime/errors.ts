/**
 * Why a handshake was refused. The codes are part of the public wire contract (SPEC section 4):
 * clients read them from `connect_error`'s `err.data.code`.
 * - UNAUTHORIZED: /board without a valid session cookie.
 * - DEVICE_AUTH: /devices with malformed auth, an unknown or revoked device, or a wrong token.
 * - UNAVAILABLE: the server could not decide (e.g. the database did not answer); try again later.
 * - NOT_FOUND: a namespace that serves nothing (the main namespace `/`).
 */
export type HandshakeErrorCode = 'UNAUTHORIZED' | 'DEVICE_AUTH' | 'UNAVAILABLE' | 'NOT_FOUND';

/**
 * Passed to a Socket.IO middleware's next(): Socket.IO sends `{ message, data }` in the
 * CONNECT_ERROR packet, and socket.io-client exposes them as `err.message` and `err.data`.
 */
export class HandshakeError extends Error {
  readonly data: { code: HandshakeErrorCode; message: string };

  constructor(code: HandshakeErrorCode, message: string) {
    super(message);
    this.name = 'HandshakeError';
    this.data = { code, message };
  }
}

export const unavailable = (): HandshakeError =>
  new HandshakeError('UNAVAILABLE', 'the server cannot check credentials right now; try again shortly');
