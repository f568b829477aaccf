/**
 * The People API as the app uses it. Request and answer types are the server's own
 * (`@glucoboard/core/wire`, imported as types only, so nothing of zod reaches the bundle); the few
 * answers the server declares no schema for are typed here, below, as far as the app reads them.
 */
import type {
  AcknowledgementView,
  Acknowledgement,
  AlertsQuery,
  AlertView,
  AmbulatoryProfileView,
  BoardView,
  DeviceCredentialsView,
  GlucoseSummaryView,
  ManualReading,
  MeView,
  NewDevice,
  NewPatient,
  NewTeam,
  NewUser,
  PatientUpdate,
  PatientView,
  ReadingView,
  Resolution,
  SnoozeRequest,
  SnoozeView,
  TeamRole,
  TeamThresholds as TeamThresholdsChange,
  TeamUpdate,
  TeamView,
  Thresholds,
  UserView,
} from '@glucoboard/core/wire';
import { request, query, type RequestOptions } from './http';

export { ApiError, setUnauthenticatedHandler } from './http';

export type AckAction = Acknowledgement['action'];
export type AlertStateFilter = AlertsQuery['state'];

// --- Answers without a schema in the server (typed from the storage rows they come from) --------

/** A member of a team (GET /api/teams/:teamId/members). */
export interface Member {
  userId: string;
  email: string;
  name: string;
  role: TeamRole;
}

/** A team's default thresholds (GET and PUT /api/teams/:teamId/thresholds): every field set. */
export type TeamThresholds = Required<TeamThresholdsChange>;

/** Thresholds in effect for a patient: every field of a thresholds change, set. */
export type ThresholdSet = { [K in keyof Thresholds]-?: number };

/** GET and PUT /api/patients/:id/thresholds. */
export interface PatientThresholds {
  patientId: string;
  overrides: { [K in keyof ThresholdSet]: number | null };
  effective: ThresholdSet;
}

/** A paired meter or sensor (GET /api/patients/:id/devices). */
export interface Device {
  deviceId: string;
  kind: NewDevice['kind'];
  lastSeenAt: string | null;
  batteryPercent: number | null;
  firmware: string | null;
  tokenIssuedAt: string;
  revokedAt: string | null;
  pairedAt: string;
  /** Set when the meter was replaced: it never sends again. */
  retiredAt?: string | null;
}

// --- Routes -------------------------------------------------------------------------------------

const get = <T>(path: string, options?: RequestOptions) => request<T>('GET', path, undefined, options);
const post = <T>(path: string, body: unknown = {}, options?: RequestOptions) => request<T>('POST', path, body, options);
const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, body);
const del = <T>(path: string) => request<T>('DELETE', path);

const id = encodeURIComponent;

export const api = {
  me: (fetcher?: typeof fetch) => get<MeView>('/api/me', { fetcher, redirectOn401: false }),
  login: (email: string, password: string) =>
    post<MeView>('/api/auth/login', { email, password }, { redirectOn401: false }),
  logout: () => post<void>('/api/auth/logout', {}, { redirectOn401: false }),

  teams: () => get<{ teams: TeamView[] }>('/api/teams').then((a) => a.teams),
  createTeam: (body: NewTeam) => post<TeamView>('/api/teams', body),
  updateTeam: (teamId: string, body: TeamUpdate) => patch<TeamView>(`/api/teams/${id(teamId)}`, body),
  members: (teamId: string) => get<{ members: Member[] }>(`/api/teams/${id(teamId)}/members`).then((a) => a.members),
  addMember: (teamId: string, userId: string, role: TeamRole) =>
    post<unknown>(`/api/teams/${id(teamId)}/members`, { userId, role }),
  removeMember: (teamId: string, userId: string) => del<void>(`/api/teams/${id(teamId)}/members/${id(userId)}`),
  createUser: (body: NewUser) => post<UserView>('/api/users', body),
  findUser: (email: string) => get<{ users: UserView[] }>(`/api/users${query({ email })}`).then((a) => a.users),
  teamThresholds: (teamId: string) => get<TeamThresholds>(`/api/teams/${id(teamId)}/thresholds`),
  setTeamThresholds: (teamId: string, body: TeamThresholdsChange) =>
    put<TeamThresholds>(`/api/teams/${id(teamId)}/thresholds`, body),

  board: (teamId: string) => get<BoardView>(`/api/board${query({ teamId })}`),
  alerts: (filter: { teamId?: string; patientId?: string; state?: AlertStateFilter; limit?: number }) =>
    get<{ alerts: AlertView[] }>(`/api/alerts${query(filter)}`).then((a) => a.alerts),
  alert: (alertId: string) =>
    get<{ alert: AlertView; acknowledgements: AcknowledgementView[] }>(`/api/alerts/${id(alertId)}`),
  acknowledge: (alertId: string, body: Acknowledgement) =>
    post<{ alert: AlertView }>(`/api/alerts/${id(alertId)}/ack`, body).then((a) => a.alert),
  resolve: (alertId: string, body: Resolution) =>
    post<{ alert: AlertView }>(`/api/alerts/${id(alertId)}/resolve`, body).then((a) => a.alert),

  patients: (teamId: string) =>
    get<{ patients: PatientView[] }>(`/api/patients${query({ teamId })}`).then((a) => a.patients),
  patient: (patientId: string) => get<PatientView>(`/api/patients/${id(patientId)}`),
  createPatient: (body: NewPatient) => post<PatientView>('/api/patients', body),
  readings: (patientId: string, from: Date, to: Date) =>
    get<{ readings: ReadingView[] }>(
      `/api/patients/${id(patientId)}/readings${query({ from: from.toISOString(), to: to.toISOString() })}`,
    ).then((a) => a.readings),
  addReading: (patientId: string, body: ManualReading, idempotencyKey: string) =>
    request<unknown>('POST', `/api/patients/${id(patientId)}/readings`, body, {
      headers: { 'idempotency-key': idempotencyKey },
    }),
  summary: (patientId: string, days = 14) =>
    get<GlucoseSummaryView>(`/api/patients/${id(patientId)}/summary${query({ days })}`),
  agp: (patientId: string, days = 14) =>
    get<AmbulatoryProfileView>(`/api/patients/${id(patientId)}/agp${query({ days })}`),
  thresholds: (patientId: string) => get<PatientThresholds>(`/api/patients/${id(patientId)}/thresholds`),
  setThresholds: (patientId: string, body: Thresholds) =>
    put<PatientThresholds>(`/api/patients/${id(patientId)}/thresholds`, body),
  updatePatient: (patientId: string, body: PatientUpdate) => patch<PatientView>(`/api/patients/${id(patientId)}`, body),
  review: (patientId: string) => post<PatientView>(`/api/patients/${id(patientId)}/review`),
  devices: (patientId: string) =>
    get<{ devices: Device[] }>(`/api/patients/${id(patientId)}/devices`).then((a) => a.devices),
  pairDevice: (body: NewDevice) => post<DeviceCredentialsView>('/api/devices', body),
  rotateDevice: (deviceId: string) => post<DeviceCredentialsView>(`/api/devices/${id(deviceId)}/rotate`),
  revokeDevice: (deviceId: string) => post<{ deviceId: string }>(`/api/devices/${id(deviceId)}/revoke`),
  snoozes: (patientId: string) =>
    get<{ snoozes: SnoozeView[] }>(`/api/patients/${id(patientId)}/snoozes`).then((a) => a.snoozes),
  snooze: (patientId: string, body: SnoozeRequest) =>
    post<{ snooze: SnoozeView }>(`/api/patients/${id(patientId)}/snoozes`, body).then((a) => a.snooze),
  cancelSnooze: (patientId: string, snoozeId: string) =>
    del<{ snooze: SnoozeView }>(`/api/patients/${id(patientId)}/snoozes/${id(snoozeId)}`),
};
