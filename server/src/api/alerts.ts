import type pg from 'pg';
import { z } from 'zod';
import {
  allTeamIds,
  membershipsOf,
  acknowledgeAlert,
  acknowledgementsOf,
  activeSnoozes,
  alertView,
  cancelSnooze,
  createSnooze,
  inTransaction,
  listAlerts,
  liveAlertOf,
  resolveAlert,
  type AlertChangeOutcome,
} from '@glucoboard/core/storage';
import {
  acknowledgeBody,
  acknowledgementView,
  alertsQuery,
  alertView as alertSchema,
  BOARD_EVENTS,
  resolveBody,
  snoozeBody,
  snoozeView,
  type AlertView,
} from '@glucoboard/core/wire';
import { patientAccess, teamAccess } from '../access/policy.ts';
import type { SignedInUser } from '../access/sessions.ts';
import { recordAudit, recordAuditForPatients, recordPatientEvent, userActor } from '../audit/trail.ts';
import { notFound } from '../http/errors.ts';
import { route, type Reply, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';
import { tellBoards } from './tell-boards.ts';

/**
 * Alerts (SPEC section 4) and snoozes. An alert belongs to the patient's responsible team; once
 * escalated, its escalation target team sees it and may take it too. Teams with read access to the
 * patient do not get the patient's alerts: alerts go to those who must act. Acknowledging is
 * team-wide and a race exactly one nurse wins; the other learns who (409).
 */
export function alertRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;

  /** The alert if the caller's teams may see it; 404 otherwise, exactly as for a missing one. */
  async function visibleAlert(user: SignedInUser, id: string): Promise<AlertView> {
    const alert = await alertView(db, id);
    if (!alert) throw notFound('alert');
    if (user.sysadmin) return alert;
    const teams = await membershipsOf(db, user.userId);
    const reaches =
      teams.has(alert.teamId) || (alert.escalated && !!alert.escalationTeamId && teams.has(alert.escalationTeamId));
    if (!reaches) throw notFound('alert');
    return alert;
  }

  /** Every board that shows the alert gets the new state. */
  function announce(alert: AlertView): Promise<void> {
    const teamIds = alert.escalated && alert.escalationTeamId ? [alert.teamId, alert.escalationTeamId] : [alert.teamId];
    return tellBoards(deps, { teamIds, event: BOARD_EVENTS.alertUpdated, payload: alert });
  }

  /**
   * The 409 of an alert taken meanwhile: the error shape plus who took it and when, as fields, so
   * a client tells it in its user's language and time zone (the message is for developers).
   */
  function conflict(outcome: Exclude<AlertChangeOutcome, { ok: true }>): Reply {
    if (outcome.reason === 'not_found') throw notFound('alert');
    const { alert } = outcome;
    const error =
      outcome.reason === 'resolved'
        ? {
            code: 'ALREADY_RESOLVED',
            message: `already resolved${alert.resolvedBy ? ` by ${alert.resolvedBy.name}` : ''} at ${alert.resolvedAt}`,
            resolvedBy: alert.resolvedBy,
            resolvedAt: alert.resolvedAt,
          }
        : {
            code: 'ALREADY_ACKNOWLEDGED',
            message: `already acknowledged by ${alert.acknowledgedBy?.name ?? 'someone'} at ${alert.acknowledgedAt}`,
            acknowledgedBy: alert.acknowledgedBy,
            acknowledgedAt: alert.acknowledgedAt,
          };
    return { status: 409, body: { error } };
  }

  /**
   * Acknowledge or resolve: the conditional change and its audit event in one transaction, then
   * the pending escalation cancelled (taken in time, it is moot; its job would find the alert taken
   * anyway) and every board told.
   */
  async function takeAction(
    user: SignedInUser,
    alertId: string,
    origin: string,
    action: string,
    detail: Record<string, unknown>,
    change: (client: pg.PoolClient, alertId: string) => Promise<AlertChangeOutcome>,
  ) {
    const visible = await visibleAlert(user, alertId);
    const outcome = await inTransaction(db, async (client) => {
      const result = await change(client, visible.id);
      if (result.ok)
        await recordPatientEvent(client, action, user.userId, visible, origin, { alertId: visible.id, ...detail });
      return result;
    });
    if (!outcome.ok) return conflict(outcome);
    await deps.alerting?.cancelEscalation(outcome.alert.id);
    await announce(outcome.alert);
    return { status: 200, body: { alert: outcome.alert } };
  }

  const alertAnswer = { description: 'The alert', schema: z.object({ alert: alertSchema }) };

  return [
    route({
      method: 'get',
      path: '/api/alerts',
      tag: 'alerts',
      summary: "Alerts of the caller's teams (and escalated to them), newest first; default: open and acknowledged",
      signedIn: true,
      query: alertsQuery,
      responses: { 200: { description: 'Alerts', schema: z.object({ alerts: z.array(alertSchema) }) } },
      async handle({ user, query, origin }) {
        let teamIds: string[];
        if (query.teamId) {
          await teamAccess(db, user, query.teamId, 'member');
          teamIds = [query.teamId];
        } else if (user.sysadmin) {
          teamIds = await allTeamIds(db);
        } else {
          teamIds = [...(await membershipsOf(db, user.userId)).keys()];
        }
        if (query.patientId) await patientAccess(db, user, query.patientId, 'read');
        const alerts = await listAlerts(db, {
          teamIds,
          state: query.state,
          patientId: query.patientId,
          limit: query.limit,
        });
        const teamOf = new Map(alerts.map((a) => [a.patientId, a.teamId]));
        await recordAuditForPatients(
          db,
          { action: 'alert.list', actor: userActor(user.userId), origin, detail: { state: query.state } },
          [...teamOf.keys()],
          (id) => teamOf.get(id) ?? null,
        );
        return { status: 200, body: { alerts } };
      },
    }),
    route({
      method: 'get',
      path: '/api/alerts/:id',
      tag: 'alerts',
      summary: 'One alert with its acknowledgement history',
      signedIn: true,
      params: { id: 'uuid' },
      responses: {
        200: {
          description: 'The alert',
          schema: z.object({ alert: alertSchema, acknowledgements: z.array(acknowledgementView) }),
        },
      },
      async handle({ user, params, origin }) {
        const alert = await visibleAlert(user, params.id!);
        const acknowledgements = await acknowledgementsOf(db, alert.id);
        await recordPatientEvent(db, 'alert.read', user.userId, alert, origin, { alertId: alert.id });
        return { status: 200, body: { alert, acknowledgements } };
      },
    }),
    route({
      method: 'post',
      path: '/api/alerts/:id/ack',
      tag: 'alerts',
      summary: 'Take an open alert for the whole team, saying what was done',
      signedIn: true,
      params: { id: 'uuid' },
      body: acknowledgeBody,
      responses: {
        200: alertAnswer,
        409: {
          description:
            'ALREADY_ACKNOWLEDGED, with acknowledgedBy { id, name } and acknowledgedAt; or ALREADY_RESOLVED, with resolvedBy and resolvedAt',
        },
      },
      async handle({ user, params, body, origin }) {
        return takeAction(user, params.id!, origin, 'alert.acknowledge', { action: body.action }, (client, id) =>
          acknowledgeAlert(client, id, user.userId, body),
        );
      },
    }),
    route({
      method: 'post',
      path: '/api/alerts/:id/resolve',
      tag: 'alerts',
      summary: 'Resolve an alert by hand (readings resolve level alerts by themselves)',
      signedIn: true,
      params: { id: 'uuid' },
      body: resolveBody,
      responses: {
        200: alertAnswer,
        409: { description: 'ALREADY_RESOLVED, with resolvedBy { id, name } (null: by readings) and resolvedAt' },
      },
      async handle({ user, params, body, origin }) {
        return takeAction(user, params.id!, origin, 'alert.resolve', {}, (client, id) =>
          resolveAlert(client, id, user.userId, body.note ?? null),
        );
      },
    }),
    route({
      method: 'get',
      path: '/api/patients/:id/snoozes',
      tag: 'alerts',
      summary: "The patient's snoozes in force",
      signedIn: true,
      params: { id: 'uuid' },
      responses: { 200: { description: 'Snoozes', schema: z.object({ snoozes: z.array(snoozeView) }) } },
      async handle({ user, params, origin }) {
        const access = await patientAccess(db, user, params.id!, 'read');
        const snoozes = await activeSnoozes(db, access.patientId);
        await recordPatientEvent(db, 'snooze.list', user.userId, access, origin);
        return { status: 200, body: { snoozes } };
      },
    }),
    route({
      method: 'post',
      path: '/api/patients/:id/snoozes',
      tag: 'alerts',
      summary: 'Snooze one rule for one patient for a set time (members of the responsible team)',
      signedIn: true,
      params: { id: 'uuid' },
      body: snoozeBody,
      responses: { 201: { description: 'Snoozed', schema: z.object({ snooze: snoozeView }) } },
      async handle({ user, params, body, origin }) {
        const access = await patientAccess(db, user, params.id!, 'care');
        const snooze = await inTransaction(db, async (client) => {
          const made = await createSnooze(client, {
            patientId: access.patientId,
            rule: body.rule,
            minutes: body.minutes,
            note: body.note ?? null,
            userId: user.userId,
          });
          await recordPatientEvent(client, 'snooze.create', user.userId, access, origin, {
            snoozeId: made.id,
            rule: made.rule,
            until: made.until,
          });
          return made;
        });
        const live = await liveAlertOf(db, access.patientId, body.rule);
        if (live) await announce(live);
        return { status: 201, body: { snooze } };
      },
    }),
    route({
      method: 'delete',
      path: '/api/patients/:id/snoozes/:snoozeId',
      tag: 'alerts',
      summary: 'End a snooze early',
      signedIn: true,
      params: { id: 'uuid', snoozeId: 'uuid' },
      responses: { 200: { description: 'Ended', schema: z.object({ snooze: snoozeView }) } },
      async handle({ user, params, origin }) {
        const access = await patientAccess(db, user, params.id!, 'care');
        const snooze = await cancelSnooze(db, access.patientId, params.snoozeId!, user.userId);
        if (!snooze) throw notFound('snooze');
        await recordAudit(db, {
          action: 'snooze.cancel',
          actor: userActor(user.userId),
          patientId: access.patientId,
          teamId: access.teamId,
          origin,
          detail: { snoozeId: snooze.id, rule: snooze.rule },
        });
        const live = await liveAlertOf(db, access.patientId, snooze.rule);
        if (live) await announce(live);
        return { status: 200, body: { snooze } };
      },
    }),
  ];
}
