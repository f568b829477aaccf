/** The team report's calls (GET /api/teams/:teamId/report), apart from the app's shared API list. */
import type { TeamReportView } from '@glucoboard/core/wire';
import { request } from '$lib/api/http';
import { reportQuery } from './model';

type Period = { from: string; to: string } | null;

export const teamReport = (teamId: string, period: Period) =>
  request<TeamReportView>('GET', `/api/teams/${encodeURIComponent(teamId)}/report${reportQuery(period)}`);

/** Where the browser downloads the CSV (the session cookie goes with a plain link). */
export const teamReportCsvHref = (teamId: string, period: Period) =>
  `/api/teams/${encodeURIComponent(teamId)}/report${reportQuery(period, 'csv')}`;
