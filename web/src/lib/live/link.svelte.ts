import { io, type Socket } from 'socket.io-client';
import type {
  AlertView,
  BoardClientToServer,
  BoardReading,
  BoardServerToClient,
  PatientView,
} from '@glucoboard/core/wire';
import { connectionState, type ConnectionState } from './connection';

export interface LiveHandlers {
  /** After every (re)connect: the board asks for everything again, so nothing is missed. */
  onConnect(): void;
  onReading(reading: BoardReading): void;
  onAlert(alert: AlertView): void;
  onPatientUpdated(patient: PatientView): void;
  /** The server refused or dropped the socket: the session may have ended. */
  onRefused(): void;
}

const RETRY_AFTER_REFUSAL_MS = 5_000;

/**
 * The board's socket (`/board`, WebSocket only; the session cookie goes with it on the same
 * origin). Socket.IO reconnects by itself after network trouble; after a refusal (no session) or a
 * disconnect by the server (signed out elsewhere, session expired) it does not, so the owner is
 * told (`onRefused`) and, if the session still holds, the link tries again itself.
 */
export class LiveLink {
  connected = $state(false);
  everConnected = $state(false);
  online = $state(typeof navigator === 'undefined' ? true : navigator.onLine);
  downSince = $state<number | null>(Date.now());
  now = $state(Date.now());

  readonly state: ConnectionState = $derived(
    connectionState({
      connected: this.connected,
      everConnected: this.everConnected,
      online: this.online,
      downSince: this.downSince,
      now: this.now,
    }),
  );

  readonly #socket: Socket<BoardServerToClient, BoardClientToServer>;
  readonly #cleanup: Array<() => void> = [];
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(handlers: LiveHandlers) {
    const socket: Socket<BoardServerToClient, BoardClientToServer> = io('/board', {
      transports: ['websocket'],
      reconnectionDelayMax: 10_000,
    });
    this.#socket = socket;
    socket.on('connect', () => {
      this.connected = true;
      this.everConnected = true;
      this.downSince = null;
      handlers.onConnect();
    });
    socket.on('disconnect', (reason) => {
      this.connected = false;
      this.downSince = Date.now();
      if (reason === 'io server disconnect') this.#refused(handlers);
    });
    socket.on('connect_error', () => {
      this.downSince ??= Date.now();
      if (!socket.active) this.#refused(handlers);
    });
    socket.on('reading', (reading) => handlers.onReading(reading));
    socket.on('alert', (alert) => handlers.onAlert(alert));
    socket.on('alert:updated', (alert) => handlers.onAlert(alert));
    socket.on('patient:updated', (patient) => handlers.onPatientUpdated(patient));

    const online = () => (this.online = true);
    const offline = () => (this.online = false);
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    const tick = setInterval(() => (this.now = Date.now()), 1_000);
    this.#cleanup.push(() => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      clearInterval(tick);
    });
  }

  #refused(handlers: LiveHandlers): void {
    handlers.onRefused();
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      if (!this.#closed && !this.#socket.connected) this.#socket.connect();
    }, RETRY_AFTER_REFUSAL_MS);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    for (const undo of this.#cleanup.splice(0)) undo();
    this.#socket.removeAllListeners();
    this.#socket.disconnect();
  }
}
