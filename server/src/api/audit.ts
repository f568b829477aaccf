import { accessReach } from '@glucoboard/core/domain';
import { accessLogQuery, auditSearchQuery, csvDocument, parseAuditCursor } from '@glucoboard/core/wire';
import { patientAccess, teamAccess } from '../access/policy.ts';
import { membershipsOf, patientAccessLog, searchAuditEvents } from '@glucoboard/core/storage';
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
      summary:
        'Audit events by patient (admin of its team), user, team (its admins) and period, newest first, paged by nextCursor',
      signedIn: true,
      query: auditSearchQuery,
      responses: { 200: { description: 'Audit events, newest first, and the cursor of the next page' } },
      async handle({ user, query, origin }) {
        let teamScope: string[] | null = null; // null: every team (sysadmin, or one patient's admin)
        let patientTeam: string | null = null;
        if (query.patientId) patientTeam = (await patientAccess(db, user, query.patientId, 'admin')).teamId;
        if (query.teamId) {
          await teamAccess(db, user, query.teamId, 'admin');
          teamScope = [query.teamId];
        } else if (!query.patientId && !user.sysadmin) {
          const mine = await membershipsOf(db, user.userId);
          teamScope = [...mine].filter(([, role]) => role === 'admin').map(([team]) => team);
          if (teamScope.length === 0) throw forbidden('only administrators read the audit trail');
        }
        const page = await searchAuditEvents(db, {
          patientId: query.patientId,
          userId: query.userId,
          from: query.from,
          to: query.to,
          teamIds: teamScope,
          limit: query.limit,
          before: query.cursor ? parseAuditCursor(query.cursor) : null,
        });
        await recordAudit(db, {
          action: 'audit.read',
          actor: userActor(user.userId),
          patientId: query.patientId ?? null,
          teamId: patientTeam ?? query.teamId ?? null,
          origin,
          detail: {
            userId: query.userId ?? null,
            teamId: query.teamId ?? null,
            count: page.events.length,
            nextPage: query.cursor !== undefined,
          },
        });
        return { status: 200, body: page };
      },
    }),
    route({
      method: 'get',
      path: '/api/patients/:id/access-log',
      tag: 'audit',
      summary: "Who accessed the patient's data in a period: the extract a patient may ask for (admin of its team)",
      signedIn: true,
      params: { id: 'uuid' },
      query: accessLogQuery,
      responses: { 200: { description: 'Accesses, oldest first (JSON, or CSV for the patient)' } },
      async handle({ user, params, query, origin }) {
        const access = await patientAccess(db, user, params.id!, 'admin');
        // How each user reached the patient, and from which of their teams: "from which team" of PDL 8:5.
        const rows = (await patientAccessLog(db, access.patientId, query.from, query.to)).map(
          ({ via, memberOfTeam, ...row }) => ({
            ...row,
            reach: memberOfTeam === null ? null : accessReach(via, memberOfTeam),
          }),
        );
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
          ['time', 'action', 'outcome', 'user', 'email', 'care unit', 'origin', 'reached via', "user's teams"],
          rows.map((r) => [
            r.at,
            r.action,
            r.outcome,
            r.userName,
            r.userEmail,
            r.teamName,
            r.origin,
            r.reach,
            r.userTeams,
          ]),
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
