import { z } from 'zod';
import { auditQuery, csvDocument } from '@glucoboard/core/wire';
import { patientAccess } from '../access/policy.ts';
import { auditEvents, membershipsOf, patientAccessLog } from '@glucoboard/core/storage';
import { recordAudit, recordPatientEvent, userActor } from '../audit/trail.ts';
import { forbidden } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

export function auditRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;
  return [
    route({
      method: 'get',
      path: '/api/audit',
      tag: 'audit',
      summary: 'Audit events for a patient (admin of its team) or a user (their team admins), in a period',
      signedIn: true,
      query: auditQuery,
      responses: { 200: { description: 'Audit events, newest first' } },
      async handle({ user, query, origin }) {
        if (!query.patientId && !query.userId) throw forbidden('name a patientId or a userId');
        let teamScope: string[] | null = null; // null: every team (sysadmin)
        let patientTeam: string | null = null;
        if (query.patientId) {
          patientTeam = (await patientAccess(db, user, query.patientId, 'admin')).teamId;
        } else if (!user.sysadmin) {
          const mine = await membershipsOf(db, user.userId);
          teamScope = [...mine].filter(([, role]) => role === 'admin').map(([team]) => team);
          if (teamScope.length === 0) throw forbidden('only administrators read the audit trail');
        }
        const events = await auditEvents(db, {
          patientId: query.patientId,
          userId: query.userId,
          from: query.from,
          to: query.to,
          teamIds: teamScope,
          limit: query.limit,
        });
        await recordAudit(db, {
          action: 'audit.read',
          actor: userActor(user.userId),
          patientId: query.patientId ?? null,
          teamId: patientTeam,
          origin,
          detail: { userId: query.userId ?? null, count: events.length },
        });
        return { status: 200, body: { events } };
      },
    }),
    route({
      method: 'get',
      path: '/api/patients/:id/access-log',
      tag: 'audit',
      summary: "Who accessed the patient's data in a period: the extract a patient may ask for (admin of its team)",
      signedIn: true,
      params: { id: 'uuid' },
      query: auditQuery.pick({ from: true, to: true }).extend({ format: z.enum(['json', 'csv']).default('json') }),
      responses: { 200: { description: 'Accesses, oldest first (JSON, or CSV for the patient)' } },
      async handle({ user, params, query, origin }) {
        const access = await patientAccess(db, user, params.id!, 'admin');
        const rows = await patientAccessLog(db, access.patientId, query.from, query.to);
        await recordPatientEvent(db, 'audit.extract', user.userId, access, origin, {
          format: query.format,
          count: rows.length,
        });
        if (query.format === 'json')
          return {
            status: 200,
            body: { patientId: access.patientId, from: query.from, to: query.to, accesses: rows },
          };
        const content = csvDocument(
          ['time', 'action', 'outcome', 'user', 'email', 'care unit', 'origin'],
          rows.map((r) => [r.at, r.action, r.outcome, r.userName, r.userEmail, r.teamName, r.origin]),
        );
        return {
          status: 200,
          text: {
            contentType: 'text/csv; charset=utf-8',
            content,
            filename: `access-log-${access.patientId}.csv`,
          },
        };
      },
    }),
  ];
}
