import { z } from 'zod';
import { newSecret } from '@glucoboard/core/platform';
import { createFollower, followersOfPatient, revokeFollower } from '@glucoboard/core/storage';
import { followerCredentialsView, followerView, newFollowerBody } from '@glucoboard/core/wire';
import { patientAccess } from '../access/policy.ts';
import type { ApiDependencies } from '../api/context.ts';
import { recordPatientEvent } from '../audit/trail.ts';
import { notFound } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import { nightscoutDigests } from './credential.ts';

/**
 * Nightscout followers (docs/nightscout.md): read-only credentials of one patient for follower
 * apps (a parent's Nightscout follower, xDrip+ in follower mode, LoopFollow). Handing a patient's
 * data out of the care team is the team's decision, like pairing a device: a team admin of the
 * responsible team makes and revokes them; the responsible team's members see the list. The
 * token is shown once and kept only as lookup digests; revoking cuts the follower off at once.
 */
export function followerRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;
  return [
    route({
      method: 'post',
      path: '/api/patients/:id/followers',
      tag: 'devices',
      summary: 'Make a read-only Nightscout credential for the patient (team admin); the token is shown once',
      signedIn: true,
      params: { id: 'uuid' },
      body: newFollowerBody,
      responses: { 201: { description: 'Made', schema: followerCredentialsView } },
      async handle({ user, params, body, origin }) {
        const access = await patientAccess(db, user, params.id!, 'admin');
        const token = newSecret();
        const follower = await createFollower(db, {
          patientId: access.patientId,
          name: body.name,
          digests: await nightscoutDigests(db, token),
          createdBy: user.userId,
        });
        await recordPatientEvent(db, 'follower.create', user.userId, access, origin, { followerId: follower.id });
        return { status: 201, body: { ...follower, token } };
      },
    }),
    route({
      method: 'get',
      path: '/api/patients/:id/followers',
      tag: 'devices',
      summary: "The patient's Nightscout followers, revoked ones too (the responsible team; no tokens)",
      signedIn: true,
      params: { id: 'uuid' },
      responses: { 200: { description: 'Followers', schema: z.object({ followers: z.array(followerView) }) } },
      async handle({ user, params, origin }) {
        const access = await patientAccess(db, user, params.id!, 'care');
        const followers = await followersOfPatient(db, access.patientId);
        await recordPatientEvent(db, 'follower.list', user.userId, access, origin, { count: followers.length });
        return { status: 200, body: { followers } };
      },
    }),
    route({
      method: 'delete',
      path: '/api/patients/:id/followers/:followerId',
      tag: 'devices',
      summary: "Revoke a follower's credential (team admin): its token and JWTs stop working at once",
      signedIn: true,
      params: { id: 'uuid', followerId: 'uuid' },
      responses: { 204: { description: 'Revoked' } },
      async handle({ user, params, origin }) {
        const access = await patientAccess(db, user, params.id!, 'admin');
        const revoked = await revokeFollower(db, access.patientId, params.followerId!, user.userId);
        if (!revoked) throw notFound('follower');
        await recordPatientEvent(db, 'follower.revoke', user.userId, access, origin, { followerId: revoked.id });
        return { status: 204 };
      },
    }),
  ];
}
