import { assembleTeamReport, resolveReportPeriod } from '@glucoboard/core/domain';
import { teamReportFactsOf } from '@glucoboard/core/storage';
import { teamReportCsv, teamReportQuery, teamReportView } from '@glucoboard/core/wire';
import { teamAccess } from '../access/policy.ts';
import { recordAuditForPatients, userActor } from '../audit/trail.ts';
import { ApiError } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

/** `2026-03-01T00:00:00.000Z` -> `20260301T0000Z`, for a file name. */
const fileStamp = (iso: string) =>
  iso
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
    .replace(/(T\d{4})\d{2}Z$/, '$1Z');

/**
 * The team report (issue 15, section 1; docs/follow-up.md): members of the team (and a sysadmin)
 * only, another team's report answers 404 as `teamAccess` does. The report shows every patient of
 * the team by name with their period's statistics, so each read is an access to each patient's
 * data: one audit event per patient included (`report.read`, or `report.export` for the CSV), in
 * the team, naming the period, so that the patient's access extract and a log review by patient
 * find it like any other access.
 */
export function reportRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;
  return [
    route({
      method: 'get',
      path: '/api/teams/:teamId/report',
      tag: 'reports',
      summary:
        "A team's follow-up report over [from, to) (default the last 28 days, at most 366): patients with a responsible physician, by label, consensus targets met, alerts and response times, readings by source, the follow-up order; format=csv gives one row per patient",
      signedIn: true,
      params: { teamId: 'uuid' },
      query: teamReportQuery,
      responses: {
        200: { description: 'The report (JSON), or text/csv with format=csv', schema: teamReportView },
      },
      async handle({ user, params, query, origin }) {
        await teamAccess(db, user, params.teamId!, 'member');
        const period = resolveReportPeriod({ from: query.from, to: query.to }, new Date());
        if (!period.ok) throw new ApiError(400, period.error.code, period.error.message, period.error.field);
        const facts = await teamReportFactsOf(db, params.teamId!, period);
        const report = assembleTeamReport({ from: period.from, to: period.to, ...facts });
        await recordAuditForPatients(
          db,
          {
            action: query.format === 'csv' ? 'report.export' : 'report.read',
            actor: userActor(user.userId),
            origin,
            teamId: params.teamId!,
            detail: { from: report.period.from, to: report.period.to, format: query.format },
          },
          report.followUp.map((p) => p.id),
        );
        if (query.format === 'csv') {
          return {
            status: 200,
            text: {
              contentType: 'text/csv; charset=utf-8',
              content: teamReportCsv(report),
              filename: `team-report-${fileStamp(report.period.from)}-${fileStamp(report.period.to)}.csv`,
            },
          };
        }
        return { status: 200, body: report };
      },
    }),
  ];
}
