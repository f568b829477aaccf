import type { MeterFlag, ReadingKind, ReadingSource } from '../domain/reading.ts';
import type { AlertView } from './alerts.ts';
import type { PatientView } from './people.ts';

/**
 * The `/board` socket's events (SPEC section 4, a public contract): what the server emits and the
 * browser listens to, one map for both sides (Socket.IO's typed `Namespace` and `Socket`). A board
 * sends nothing: the server alone decides its rooms.
 */

/** A committed reading, to the boards of the patient's responsible team. */
export interface BoardReading {
  patientId: string;
  teamId: string;
  measuredAt: string;
  mmol: number | null;
  flag: MeterFlag | null;
  kind: ReadingKind;
  source: ReadingSource;
}

export interface BoardServerToClient {
  reading(reading: BoardReading): void;
  /** A new alert: the same object as the alerts list. */
  alert(alert: AlertView): void;
  /** Acknowledged, escalated, snoozed, resolved, or joined by a reading. */
  'alert:updated'(alert: AlertView): void;
  /** Reviewed, changed or given new thresholds: the patient as it is now. */
  'patient:updated'(patient: PatientView): void;
}

/** Nothing: no client event joins a room or changes anything. */
export type BoardClientToServer = Record<string, never>;

export type BoardEventName = keyof BoardServerToClient;

export const BOARD_EVENTS = {
  reading: 'reading',
  alert: 'alert',
  alertUpdated: 'alert:updated',
  patientUpdated: 'patient:updated',
} as const satisfies Record<string, BoardEventName>;

/** One event with its payload, as it travels between processes (the board events stream). */
export type BoardEvent = {
  [E in BoardEventName]: { event: E; payload: Parameters<BoardServerToClient[E]>[0] };
}[BoardEventName];
