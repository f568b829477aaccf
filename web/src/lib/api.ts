/**
 * The People API as the app uses it: typed answers, errors as `ApiError` with the server's code,
 * message and field. Answer types come from the server's own schemas (`@glucoboard/core/wire`,
 * imported as types only, so nothing of zod reaches the bundle); the routes without a shared schema
 * are declared here as far as the app reads them.
 */
import type {
  AcknowledgementView,
  AlertView,
  AmbulatoryProfileView,
  BoardPatientView,
  BoardReading,
  BoardView,
  GlucoseSummaryView,
  SnoozeView,
  TeamRole,
} from '@glucoboard/core/wire';

export type {
  AcknowledgementView,
  AlertView,
  AmbulatoryProfileView,
  BoardPatientView,
  BoardView,
  GlucoseSummaryView,
  SnoozeView,
};

export type TargetProfile = BoardPatientView['targetProfile'];
export type Role = TeamRole;
export type AckAction = 'phone' | 'video' | 'visit' | 'none';
export type AlertRule = AlertView['rule'];
export type MeterFlag = 'LO' | 'HI';

export interface Me {
  id: string;
  email: string;
  name: string;
  sysadmin: boolean;
  teams: Array<{ id: string; name: string; role: Role }>;
}

export interface Team {
  id: string;
  name: string;
  escalationTeamId: string | null;
  escalateAfterMinutes: number;
  role: Role | null;
}

export interface Patient {
  id: string;
  name: string;
  teamId: string;
  labels: string[];
  identityNumber: string | null;
  responsiblePhysicianId: string | null;
  targetProfile: BoardPatientView['targetProfile'];
  lastReviewedAt: string | null;
  lastReviewedBy: string | null;
  access: 'responsible' | 'granted' | 'escalation' | 'sysadmin';
}

export interface Reading {
  measuredAt: string;
  mmol: number | null;
  flag: MeterFlag | null;
  kind: 'bgm' | 'cgm' | 'control';
  source: 'device' | 'manual' | 'import';
  seq: number | null;
}

/** What the `/board` socket's `reading` event carries. */
export type LiveReading = BoardReading;

export const THRESHOLD_KEYS = ['urgentLow', 'low', 'high', 'urgentHigh'] as const;
export type ThresholdKey = (typeof THRESHOLD_KEYS)[number];

export interface ThresholdSet {
  urgentLow: number;
  low: number;
  high: number;
  urgentHigh: number;
  noDataMinutes: number;
}

export interface PatientThresholds {
  patientId: string;
  overrides: { [K in keyof ThresholdSet]: number | null };
  effective: ThresholdSet;
}

export interface TeamThresholds {
  urgentLow: number;
  low: number;
  high: number;
  urgentHigh: number;
  noDataMinutesBgm: number;
  noDataMinutesCgm: number;
  rapidChangeMmolPerMin: number;
}

export interface Device {
  deviceId: string;
  kind: 'bgm' | 'cgm';
  lastSeenAt: string | null;
  batteryPercent: number | null;
  firmware: string | null;
  tokenIssuedAt: string;
  revokedAt: string | null;
  pairedAt: string;
}

export interface DeviceCredentials {
  deviceId: string;
  token: string;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
}

export interface ManualEntry {
  measuredAt: string;
  mmol: number | null;
  flag?: MeterFlag | null;
  meal?: 'before' | 'after' | null;
  note?: string | null;
}

/**
 * A refusal from the server (`{ error: { code, message, field } }`), or `NETWORK` when none came.
 * `details` is the whole error object: some answers add fields (a 409 on acknowledge names who).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Fetch = typeof fetch;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The error in a failed answer's body, or a generic one for the status. */
export function errorOf(status: number, body: unknown): ApiError {
  const error = isRecord(body) && isRecord(body.error) ? body.error : null;
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`;
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
  const field = typeof error?.field === 'string' ? error.field : undefined;
  return new ApiError(status, code, message, field, error ?? {});
}

/** Called when a request answers 401 (the session ended): the app goes to the sign-in page. */
let onUnauthenticated: (() => void) | undefined;
export function setUnauthenticatedHandler(handler: (() => void) | undefined): void {
  onUnauthenticated = handler;
}

export interface RequestOptions {
  fetcher?: Fetch;
  headers?: Record<string, string>;
  /** Whether a 401 should send the app to the sign-in page (not for sign-in itself, nor /api/me). */
  redirectOn401?: boolean;
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const fetcher = options.fetcher ?? fetch;
  let response: Response;
  try {
    response = await fetcher(path, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : 'network error');
  }
  const text = await response.text().catch(() => '');
  let json: unknown = undefined;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && options.redirectOn401 !== false) onUnauthenticated?.();
    throw errorOf(response.status, json);
  }
  return json as T;
}

const get = <T>(path: string, options?: RequestOptions) => request<T>('GET', path, undefined, options);
const post = <T>(path: string, body: unknown = {}, options?: RequestOptions) => request<T>('POST', path, body, options);
const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, body);
const del = <T>(path: string) => request<T>('DELETE', path);

/** A query string of the defined values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null) search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

const id = encodeURIComponent;

export type AlertStateFilter = 'open' | 'acknowledged' | 'resolved' | 'live' | 'all';

export const api = {
  me: (fetcher?: Fetch) => get<Me>('/api/me', { fetcher, redirectOn401: false }),
  login: (email: string, password: string) =>
    post<Me>('/api/auth/login', { email, password }, { redirectOn401: false }),
  logout: () => post<void>('/api/auth/logout', {}, { redirectOn401: false }),

  teams: () => get<{ teams: Team[] }>('/api/teams').then((a) => a.teams),
  createTeam: (body: { name: string; escalationTeamId?: string | null; escalateAfterMinutes?: number }) =>
    post<Team>('/api/teams', body),
  updateTeam: (
    teamId: string,
    body: { name?: string; escalationTeamId?: string | null; escalateAfterMinutes?: number },
  ) => patch<Team>(`/api/teams/${id(teamId)}`, body),
  members: (teamId: string) => get<{ members: Member[] }>(`/api/teams/${id(teamId)}/members`).then((a) => a.members),
  addMember: (teamId: string, userId: string, role: Role) =>
    post<unknown>(`/api/teams/${id(teamId)}/members`, { userId, role }),
  removeMember: (teamId: string, userId: string) => del<void>(`/api/teams/${id(teamId)}/members/${id(userId)}`),
  createUser: (body: { email: string; name: string; password: string }) =>
    post<{ id: string; email: string; name: string }>('/api/users', body),
  findUser: (email: string) =>
    get<{ users: Array<{ id: string; email: string; name: string }> }>(`/api/users${query({ email })}`).then(
      (a) => a.users,
    ),
  teamThresholds: (teamId: string) => get<TeamThresholds>(`/api/teams/${id(teamId)}/thresholds`),
  setTeamThresholds: (teamId: string, body: Partial<TeamThresholds>) =>
    put<TeamThresholds>(`/api/teams/${id(teamId)}/thresholds`, body),

  board: (teamId: string) => get<BoardView>(`/api/board${query({ teamId })}`),
  alerts: (filter: { teamId?: string; patientId?: string; state?: AlertStateFilter; limit?: number }) =>
    get<{ alerts: AlertView[] }>(`/api/alerts${query(filter)}`).then((a) => a.alerts),
  alert: (alertId: string) =>
    get<{ alert: AlertView; acknowledgements: AcknowledgementView[] }>(`/api/alerts/${id(alertId)}`),
  acknowledge: (alertId: string, body: { action: AckAction; note?: string | null }) =>
    post<{ alert: AlertView }>(`/api/alerts/${id(alertId)}/ack`, body).then((a) => a.alert),
  resolve: (alertId: string, body: { note?: string | null }) =>
    post<{ alert: AlertView }>(`/api/alerts/${id(alertId)}/resolve`, body).then((a) => a.alert),

  patients: (teamId: string) =>
    get<{ patients: Patient[] }>(`/api/patients${query({ teamId })}`).then((a) => a.patients),
  patient: (patientId: string) => get<Patient>(`/api/patients/${id(patientId)}`),
  createPatient: (body: { name: string; teamId: string; identityNumber?: string | null; labels?: string[] }) =>
    post<Patient>('/api/patients', body),
  readings: (patientId: string, from: Date, to: Date) =>
    get<{ readings: Reading[] }>(
      `/api/patients/${id(patientId)}/readings${query({ from: from.toISOString(), to: to.toISOString() })}`,
    ).then((a) => a.readings),
  addReading: (patientId: string, body: ManualEntry, idempotencyKey: string) =>
    request<unknown>('POST', `/api/patients/${id(patientId)}/readings`, body, {
      headers: { 'idempotency-key': idempotencyKey },
    }),
  summary: (patientId: string, days = 14) =>
    get<GlucoseSummaryView>(`/api/patients/${id(patientId)}/summary${query({ days })}`),
  agp: (patientId: string, days = 14) =>
    get<AmbulatoryProfileView>(`/api/patients/${id(patientId)}/agp${query({ days })}`),
  thresholds: (patientId: string) => get<PatientThresholds>(`/api/patients/${id(patientId)}/thresholds`),
  setThresholds: (patientId: string, body: Partial<PatientThresholds['overrides']>) =>
    put<PatientThresholds>(`/api/patients/${id(patientId)}/thresholds`, body),
  updatePatient: (patientId: string, body: { targetProfile?: TargetProfile }) =>
    patch<Patient>(`/api/patients/${id(patientId)}`, body),
  review: (patientId: string) => post<Patient>(`/api/patients/${id(patientId)}/review`),
  devices: (patientId: string) =>
    get<{ devices: Device[] }>(`/api/patients/${id(patientId)}/devices`).then((a) => a.devices),
  pairDevice: (body: { serial: string; kind: 'bgm' | 'cgm'; patientId: string }) =>
    post<DeviceCredentials>('/api/devices', body),
  rotateDevice: (deviceId: string) => post<DeviceCredentials>(`/api/devices/${id(deviceId)}/rotate`),
  revokeDevice: (deviceId: string) => post<{ deviceId: string }>(`/api/devices/${id(deviceId)}/revoke`),
  snoozes: (patientId: string) =>
    get<{ snoozes: SnoozeView[] }>(`/api/patients/${id(patientId)}/snoozes`).then((a) => a.snoozes),
  snooze: (patientId: string, body: { rule: AlertRule; minutes: number; note?: string | null }) =>
    post<{ snooze: SnoozeView }>(`/api/patients/${id(patientId)}/snoozes`, body).then((a) => a.snooze),
  cancelSnooze: (patientId: string, snoozeId: string) =>
    del<{ snooze: SnoozeView }>(`/api/patients/${id(patientId)}/snoozes/${id(snoozeId)}`),
};
