/**
 * The board connection's state as the nurse sees it. Socket.IO reconnects by itself; what matters
 * on a ward is whether the board is live. Reconnecting for a short while is normal (a server
 * restart, a Wi-Fi hand-over); after OFFLINE_AFTER_MS, or when the browser knows it has no network,
 * the board says plainly that it is offline and its values may be old.
 */

export const CONNECTION_STATES = ['connecting', 'connected', 'reconnecting', 'offline'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export const OFFLINE_AFTER_MS = 30_000;

export interface ConnectionFacts {
  connected: boolean;
  /** Whether the socket was ever connected in this page. */
  everConnected: boolean;
  /** navigator.onLine */
  online: boolean;
  /** When the socket was last connected or first tried to connect; null while connected. */
  downSince: number | null;
  now: number;
}

export function connectionState(facts: ConnectionFacts): ConnectionState {
  if (facts.connected) return 'connected';
  if (!facts.online) return 'offline';
  if (facts.downSince !== null && facts.now - facts.downSince >= OFFLINE_AFTER_MS) return 'offline';
  return facts.everConnected ? 'reconnecting' : 'connecting';
}
