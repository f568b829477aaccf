import { io, type Socket } from 'socket.io-client';
import type { TeamFixture } from './clinic.ts';

/** Real Socket.IO clients for tests: a board tab (session cookie) and a meter (device token). */
export class Sockets {
  readonly #open: Socket[] = [];

  constructor(readonly url: () => string) {}

  /** A board connected with a signed-in client's cookie; every event it hears is kept by name. */
  async board(cookie: string): Promise<{ socket: Socket; heard: Map<string, unknown[]> }> {
    const socket = this.#track(
      io(`${this.url()}/board`, { extraHeaders: { cookie }, transports: ['websocket'], forceNew: true }),
    );
    const heard = new Map<string, unknown[]>();
    socket.onAny((event: string, payload: unknown) => {
      if (!heard.has(event)) heard.set(event, []);
      heard.get(event)!.push(payload);
    });
    await connected(socket);
    return { socket, heard };
  }

  async meter(team: Pick<TeamFixture, 'deviceId' | 'deviceToken'>): Promise<Socket> {
    const socket = this.#track(
      io(`${this.url()}/devices`, {
        auth: { deviceId: team.deviceId, token: team.deviceToken },
        transports: ['websocket'],
        forceNew: true,
      }),
    );
    await connected(socket);
    return socket;
  }

  closeAll(): void {
    for (const s of this.#open.splice(0)) s.disconnect();
  }

  #track(socket: Socket): Socket {
    this.#open.push(socket);
    return socket;
  }
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

export interface ReadingsAck {
  ok: boolean;
  accepted?: number;
  duplicates?: number;
  rejected?: Array<{ index: number; seq: number | null; code: string; message: string; field?: string }>;
  code?: string;
  message?: string;
  retryAfterMs?: number;
}

export const sendReadings = (socket: Socket, payload: unknown) =>
  socket.timeout(30_000).emitWithAck('readings', payload) as Promise<ReadingsAck>;
