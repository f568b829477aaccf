/**
 * Lent meters' requests (issue 15, section 5), kept beside the feature rather than in the shared
 * `$lib/api`, so they change with it; the answer types are the server's own.
 */
import type {
  DeviceCredentialsView,
  DeviceHistoryView,
  DeviceReplacementsReportView,
  LentDeviceView,
  ReplaceDevice,
  ReplacedDeviceView,
} from '@glucoboard/core/wire';
import { query, request } from '$lib/api/http';

export interface Period {
  from: string;
  to: string;
}

const id = (value: string) => encodeURIComponent(value);

export const meterLoansApi = {
  lend: (deviceId: string, patientId: string) =>
    request<LentDeviceView>('POST', `/api/devices/${id(deviceId)}/lend`, { patientId }),
  replace: (deviceId: string, body: ReplaceDevice) =>
    request<ReplacedDeviceView>('POST', `/api/devices/${id(deviceId)}/replace`, body),
  reactivate: (deviceId: string) => request<DeviceCredentialsView>('POST', `/api/devices/${id(deviceId)}/reactivate`),
  patientHistory: (patientId: string) =>
    request<DeviceHistoryView>('GET', `/api/patients/${id(patientId)}/device-history`).then((a) => a.assignments),
  serialHistory: (deviceId: string) =>
    request<DeviceHistoryView>('GET', `/api/devices/${id(deviceId)}/history`).then((a) => a.assignments),
  replacements: (teamId: string, period: Period) =>
    request<DeviceReplacementsReportView>('GET', `/api/teams/${id(teamId)}/device-replacements${query({ ...period })}`),
  /** The report as CSV: a plain link, so the browser downloads it with the server's file name. */
  replacementsCsvHref: (teamId: string, period: Period) =>
    `/api/teams/${id(teamId)}/device-replacements${query({ ...period, format: 'csv' })}`,
};
