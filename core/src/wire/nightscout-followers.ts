import { z } from 'zod';

/**
 * Nightscout followers in the People API (docs/nightscout.md): a read-only Nightscout credential
 * of one patient, for a follower app. Fields may be added, never renamed (SPEC section 4).
 */

/** Make a follower (POST /api/patients/:id/followers). */
export const newFollowerBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).describe('Who follows, e.g. "Parent\'s phone"; the JWT\'s sub'),
  })
  .meta({ id: 'NewFollower', description: 'A read-only Nightscout credential for one patient' });
export type NewFollower = z.infer<typeof newFollowerBody>;

/** A follower as listed (never its token). */
export const followerView = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type FollowerView = z.infer<typeof followerView>;

/** A new follower with its token (POST /api/patients/:id/followers). */
export const followerCredentialsView = followerView.extend({
  token: z
    .string()
    .describe('Shown once: only lookup digests are stored. Used as ?token=, as API secret, or for a JWT'),
});
export type FollowerCredentialsView = z.infer<typeof followerCredentialsView>;
