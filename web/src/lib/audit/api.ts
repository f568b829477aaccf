/**
 * The audit page's requests (issue 15, section 4). Kept beside the page rather than in the shared
 * `$lib/api`, so the feature's calls change with it; the answer types are the server's own.
 */
import type {
  AccessExtractAnswer,
  AuditReviewRunAnswer,
  AuditReviewView,
  AuditSearchAnswer,
} from '@glucoboard/core/wire';
import { query, request } from '$lib/api/http';

export interface Period {
  from: string;
  to: string;
}

export interface AuditSearch extends Period {
  teamId?: string;
  patientId?: string;
  userId?: string;
  cursor?: string;
  limit?: number;
}

const id = (value: string) => encodeURIComponent(value);

export const auditApi = {
  search: (search: AuditSearch) => request<AuditSearchAnswer>('GET', `/api/audit${query({ limit: 100, ...search })}`),
  extract: (patientId: string, period: Period) =>
    request<AccessExtractAnswer>('GET', `/api/patients/${id(patientId)}/access-log${query({ ...period })}`),
  /** The extract as CSV: a plain link, so the browser downloads it with the server's file name. */
  extractCsvHref: (patientId: string, period: Period) =>
    `/api/patients/${id(patientId)}/access-log${query({ ...period, format: 'csv' })}`,
  runReview: (teamId: string, period: Period) =>
    request<AuditReviewRunAnswer>('GET', `/api/teams/${id(teamId)}/audit-review${query({ ...period })}`),
  recordReview: (teamId: string, period: Period, conclusion: string) =>
    request<{ review: AuditReviewView }>('POST', `/api/teams/${id(teamId)}/audit-reviews`, {
      ...period,
      ...(conclusion.trim() ? { conclusion } : {}),
    }),
  reviews: (teamId: string) =>
    request<{ reviews: AuditReviewView[] }>('GET', `/api/teams/${id(teamId)}/audit-reviews`).then((a) => a.reviews),
};
