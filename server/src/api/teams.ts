import { z } from 'zod';
import { hashSecret } from '@glucoboard/core/platform';
import {
  addMember,
  createTeam,
  createUser,
  membershipsOf,
  removeMember,
  teamDefaults,
  teamExists,
  teamMembers,
  teamRecord,
  teamsOf,
  updateTeam,
  updateTeamDefaults,
  usersByEmail,
} from '@glucoboard/core/storage';
import {
  newMembershipBody,
  newTeamBody,
  newUserBody,
  teamThresholdsBody,
  teamUpdateBody,
  teamView,
  userView,
} from '@glucoboard/core/wire';
import { accountReach, isAnyTeamAdmin, teamAccess } from '../access/policy.ts';
import type { SignedInUser } from '../access/sessions.ts';
import { recordAudit, userActor } from '../audit/trail.ts';
import { ApiError, forbidden, notFound, outsideTeams } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

const uniqueViolation = (err: unknown, constraint: string) =>
  (err as { code?: string; constraint?: string }).code === '23505' &&
  (err as { constraint?: string }).constraint === constraint;

export function teamRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;
  /**
   * A team takes another's escalations only by consent: a sysadmin sets any team, a team admin
   * only a team she administers too. An unknown team and another's answer alike, so the answer
   * does not tell which team ids exist.
   */
  const escalationTargetAllowed = async (user: SignedInUser, teamId: string | null | undefined) => {
    if (!teamId) return;
    const allowed = user.sysadmin
      ? await teamExists(db, teamId)
      : (await membershipsOf(db, user.userId)).get(teamId) === 'admin';
    if (!allowed) {
      throw new ApiError(
        400,
        'VALIDATION_FAILED',
        user.sysadmin
          ? 'escalationTeamId names no team'
          : 'escalationTeamId must be a team you administer too; a system administrator can set any other',
        'escalationTeamId',
      );
    }
  };
  return [
    route({
      method: 'get',
      path: '/api/teams',
      tag: 'teams',
      summary: "The caller's teams (every team for a sysadmin), with the caller's role",
      signedIn: true,
      responses: { 200: { description: 'Teams', schema: z.object({ teams: z.array(teamView) }) } },
      async handle({ user }) {
        return { status: 200, body: { teams: await teamsOf(db, user.userId, user.sysadmin) } };
      },
    }),
    route({
      method: 'post',
      path: '/api/teams',
      tag: 'teams',
      summary: 'Create a care team (sysadmin)',
      signedIn: true,
      body: newTeamBody,
      responses: {
        201: { description: 'Created', schema: teamView },
        409: { description: 'A team of that name exists' },
      },
      async handle({ user, body, origin }) {
        if (!user.sysadmin) throw forbidden('only a sysadmin creates teams');
        await escalationTargetAllowed(user, body.escalationTeamId);
        try {
          const team = await createTeam(db, body);
          await recordAudit(db, { action: 'team.create', actor: userActor(user.userId), teamId: team.id, origin });
          return { status: 201, body: await teamRecord(db, team.id, null) };
        } catch (err) {
          if (uniqueViolation(err, 'teams_name_key'))
            throw new ApiError(409, 'TEAM_EXISTS', 'a team of that name exists', 'name');
          throw err;
        }
      },
    }),
    route({
      method: 'patch',
      path: '/api/teams/:teamId',
      tag: 'teams',
      summary: "Change a team's name or escalation (team admin)",
      signedIn: true,
      params: { teamId: 'uuid' },
      body: teamUpdateBody,
      responses: { 200: { description: 'Changed', schema: teamView } },
      async handle({ user, body, params, origin }) {
        const role = await teamAccess(db, user, params.teamId!, 'admin');
        if (body.escalationTeamId === params.teamId) {
          throw new ApiError(400, 'VALIDATION_FAILED', 'a team cannot escalate to itself', 'escalationTeamId');
        }
        await escalationTargetAllowed(user, body.escalationTeamId);
        await updateTeam(db, params.teamId!, body);
        await recordAudit(db, {
          action: 'team.update',
          actor: userActor(user.userId),
          teamId: params.teamId,
          origin,
          detail: { fields: Object.keys(body) },
        });
        return { status: 200, body: await teamRecord(db, params.teamId!, role) };
      },
    }),
    route({
      method: 'get',
      path: '/api/teams/:teamId/members',
      tag: 'teams',
      summary: "A team's members and their roles",
      signedIn: true,
      params: { teamId: 'uuid' },
      responses: { 200: { description: 'Members' } },
      async handle({ user, params }) {
        await teamAccess(db, user, params.teamId!, 'member');
        return { status: 200, body: { members: await teamMembers(db, params.teamId!) } };
      },
    }),
    route({
      method: 'post',
      path: '/api/teams/:teamId/members',
      tag: 'teams',
      summary:
        "Add a user to a team with a role, or change a member's role (team admin: only users in no team they do not administer)",
      signedIn: true,
      params: { teamId: 'uuid' },
      body: newMembershipBody,
      responses: {
        201: { description: 'Member added' },
        403: { description: 'A sysadmin, or a member of teams the caller does not administer (ACCOUNT_BEYOND_TEAMS)' },
      },
      async handle({ user, params, body, origin }) {
        const teamId = params.teamId!;
        await teamAccess(db, user, teamId, 'admin');
        const reach = await accountReach(db, user, body.userId);
        if (!reach.exists) throw notFound('user');
        // A role change of one's own member is the team's affair; bringing in someone who also
        // works in other teams (or a sysadmin) is a system administrator's.
        const member = (await membershipsOf(db, body.userId)).has(teamId);
        if (!member && !reach.administered) {
          await recordAudit(db, {
            action: 'membership.add',
            outcome: 'failure',
            actor: userActor(user.userId),
            teamId,
            origin,
            detail: { userId: body.userId, reason: 'beyond_administered_teams' },
          });
          throw outsideTeams();
        }
        await addMember(db, teamId, body.userId, body.role);
        deps.live.membershipChanged(body.userId, teamId, true);
        await recordAudit(db, {
          action: 'membership.add',
          actor: userActor(user.userId),
          teamId,
          origin,
          detail: { userId: body.userId, role: body.role },
        });
        return { status: 201, body: { teamId, userId: body.userId, role: body.role } };
      },
    }),
    route({
      method: 'delete',
      path: '/api/teams/:teamId/members/:userId',
      tag: 'teams',
      summary: 'Remove a user from a team (team admin); takes effect on open boards at once',
      signedIn: true,
      params: { teamId: 'uuid', userId: 'uuid' },
      responses: { 204: { description: 'Removed' } },
      async handle({ user, params, origin }) {
        const teamId = params.teamId!;
        await teamAccess(db, user, teamId, 'admin');
        if (!(await removeMember(db, teamId, params.userId!))) throw notFound('member');
        deps.live.membershipChanged(params.userId!, teamId, false);
        await recordAudit(db, {
          action: 'membership.remove',
          actor: userActor(user.userId),
          teamId,
          origin,
          detail: { userId: params.userId },
        });
        return { status: 204 };
      },
    }),
    route({
      method: 'get',
      path: '/api/teams/:teamId/thresholds',
      tag: 'teams',
      summary: "The team's default alert thresholds (mmol/L)",
      signedIn: true,
      params: { teamId: 'uuid' },
      responses: { 200: { description: 'Team defaults' } },
      async handle({ user, params }) {
        await teamAccess(db, user, params.teamId!, 'member');
        return { status: 200, body: await teamDefaults(db, params.teamId!) };
      },
    }),
    route({
      method: 'put',
      path: '/api/teams/:teamId/thresholds',
      tag: 'teams',
      summary: "Change the team's default alert thresholds (team admin)",
      signedIn: true,
      params: { teamId: 'uuid' },
      body: teamThresholdsBody,
      responses: { 200: { description: 'New team defaults' } },
      async handle({ user, params, body, origin }) {
        await teamAccess(db, user, params.teamId!, 'admin');
        try {
          const defaults = await updateTeamDefaults(db, params.teamId!, body);
          await recordAudit(db, {
            action: 'thresholds.team.update',
            actor: userActor(user.userId),
            teamId: params.teamId,
            origin,
            detail: { fields: Object.keys(body) },
          });
          return { status: 200, body: defaults };
        } catch (err) {
          if ((err as { code?: string }).code === '23514') {
            throw new ApiError(400, 'VALIDATION_FAILED', 'thresholds must rise: urgentLow < low < high < urgentHigh');
          }
          throw err;
        }
      },
    }),
    route({
      method: 'post',
      path: '/api/users',
      tag: 'users',
      summary: 'Create a user account (sysadmin or a team admin; only a sysadmin creates sysadmins)',
      signedIn: true,
      body: newUserBody,
      responses: {
        201: { description: 'Created', schema: userView },
        409: { description: 'The e-mail address has an account' },
      },
      async handle({ user, body, origin }) {
        if (!(await isAnyTeamAdmin(db, user))) throw forbidden('only administrators create accounts');
        if (body.sysadmin && !user.sysadmin) throw forbidden('only a sysadmin creates sysadmins');
        try {
          const created = await createUser(db, {
            email: body.email,
            name: body.name,
            passwordHash: await hashSecret(body.password),
            sysadmin: body.sysadmin ?? false,
          });
          await recordAudit(db, {
            action: 'user.create',
            actor: userActor(user.userId),
            origin,
            detail: { userId: created.id, sysadmin: body.sysadmin ?? false },
          });
          return { status: 201, body: created };
        } catch (err) {
          if (uniqueViolation(err, 'users_email_key'))
            throw new ApiError(409, 'EMAIL_TAKEN', 'that e-mail address has an account', 'email');
          throw err;
        }
      },
    }),
    route({
      method: 'get',
      path: '/api/users',
      tag: 'users',
      summary: 'Find a user account by e-mail (administrators), e.g. to add it to a team',
      signedIn: true,
      query: z.strictObject({ email: z.string().min(3).max(254) }),
      responses: { 200: { description: 'Matching accounts (zero or one)' } },
      async handle({ user, query }) {
        if (!(await isAnyTeamAdmin(db, user))) throw forbidden('only administrators look up accounts');
        return { status: 200, body: { users: await usersByEmail(db, query.email) } };
      },
    }),
  ];
}
