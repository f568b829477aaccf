import { ambulatoryProfile, summarize } from '@glucoboard/core/domain';
import { statisticsInputOf } from '@glucoboard/core/storage';
import { agpQuery, ambulatoryProfileView, glucoseSummaryView, summaryQuery } from '@glucoboard/core/wire';
import { patientAccess } from '../access/policy.ts';
import { recordPatientEvent } from '../audit/trail.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

const DAY_MS = 24 * 60 * 60_000;

/**
 * A patient's glucose statistics and ambulatory glucose profile over the last `days` days (SPEC
 * section 3, "Statistics"). Reading them is reading the patient's data: the same access as the
 * readings (responsible or granted team; anyone else 404) and an audit event for every read.
 */
export function summaryRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;

  /** The period ends at the request, like the readings API's default `to`. */
  const periodOf = (days: number) => {
    const to = new Date();
    return { days, from: new Date(to.getTime() - days * DAY_MS), to };
  };

  return [
    route({
      method: 'get',
      path: '/api/patients/:id/summary',
      tag: 'statistics',
      summary:
        "The patient's glucose statistics over the last `days` days (default 14): mean, SD, CV, GMI, GRI, ranges",
      signedIn: true,
      params: { id: 'uuid' },
      query: summaryQuery,
      responses: { 200: { description: 'Statistics', schema: glucoseSummaryView } },
      async handle({ user, params, query, origin }) {
        const access = await patientAccess(db, user, params.id!, 'read');
        const period = periodOf(query.days);
        const input = await statisticsInputOf(db, access.patientId, period.from, period.to);
        const summary = summarize(input.readings, {
          now: period.to,
          days: period.days,
          deviceKind: input.monitoring,
          targetProfile: input.targetProfile,
        });
        await recordPatientEvent(db, 'summary.read', user.userId, access, origin, {
          from: period.from.toISOString(),
          to: period.to.toISOString(),
          count: summary.count,
        });
        return {
          status: 200,
          body: {
            ...summary,
            monitoring: input.monitoring,
            days: period.days,
            from: period.from.toISOString(),
            to: period.to.toISOString(),
          },
        };
      },
    }),
    route({
      method: 'get',
      path: '/api/patients/:id/agp',
      tag: 'statistics',
      summary:
        "The patient's ambulatory glucose profile: 5/25/50/75/95th percentiles by Swedish local time of day over the last `days` days",
      signedIn: true,
      params: { id: 'uuid' },
      query: agpQuery,
      responses: { 200: { description: 'Ambulatory glucose profile', schema: ambulatoryProfileView } },
      async handle({ user, params, query, origin }) {
        const access = await patientAccess(db, user, params.id!, 'read');
        const period = periodOf(query.days);
        const input = await statisticsInputOf(db, access.patientId, period.from, period.to);
        const profile = ambulatoryProfile(input.readings, {
          now: period.to,
          days: period.days,
          binMinutes: query.binMinutes,
        });
        await recordPatientEvent(db, 'agp.read', user.userId, access, origin, {
          from: period.from.toISOString(),
          to: period.to.toISOString(),
          count: input.readings.length,
        });
        return {
          status: 200,
          body: {
            ...profile,
            days: period.days,
            from: period.from.toISOString(),
            to: period.to.toISOString(),
          },
        };
      },
    }),
  ];
}
