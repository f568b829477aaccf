import type { Request } from 'express';
import { accountOfIdentity } from '@glucoboard/core/storage';
import { externalIdentityBody } from '@glucoboard/core/wire';
import {
  OIDC_COOKIE_PATH,
  OIDC_STATE_COOKIE,
  OIDC_STATE_MINUTES,
  linkExternalIdentity,
  OidcFailure,
  type OidcLogin,
} from '../access/oidc.ts';
import { accountReach } from '../access/policy.ts';
import { cookieValue, startSession } from '../access/sessions.ts';
import { recordAudit, userActor } from '../audit/trail.ts';
import { ApiError, notFound, outsideTeams } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

const stateCookie = (req: Request) => ({
  httpOnly: true,
  sameSite: 'lax' as const,
  secure: req.secure,
  path: OIDC_COOKIE_PATH,
});

/**
 * Sign-in through the configured OpenID Connect provider (none configured: no routes). Accounts
 * are provisioned by administrators and linked by (issuer, subject); nobody is created here.
 */
export function oidcRoutes(deps: ApiDependencies, oidc: OidcLogin | undefined): RouteSpec[] {
  if (!oidc) return [];
  const db = deps.db.pool;
  const logged = async <T>(step: Promise<T>): Promise<T> => {
    try {
      return await step;
    } catch (err) {
      if (err instanceof OidcFailure) deps.log.warn({ reason: err.reason, code: err.code }, 'OIDC sign-in refused');
      throw err;
    }
  };
  return [
    route({
      method: 'get',
      path: '/api/auth/oidc/start',
      tag: 'auth',
      summary: 'Sign in with the OpenID Connect provider (SITHS eID): redirects the browser there',
      signedIn: false,
      responses: {
        302: { description: "To the provider's sign-in, with state, nonce and a PKCE challenge" },
        503: { description: 'The provider cannot be reached (OIDC_UNAVAILABLE)' },
      },
      async handle({ req, res }) {
        const { url, sealed } = await logged(oidc.begin());
        res.cookie(OIDC_STATE_COOKIE, sealed, { ...stateCookie(req), maxAge: OIDC_STATE_MINUTES * 60_000 });
        res.set('cache-control', 'no-store');
        return { status: 302, redirect: url };
      },
    }),
    route({
      method: 'get',
      path: '/api/auth/oidc/callback',
      tag: 'auth',
      summary: 'Where the provider sends the browser back: signs in the linked account and redirects to /',
      signedIn: false,
      responses: {
        302: { description: 'Signed in: the session cookie is set and the browser goes to /' },
        400: { description: 'The provider refused, or the state did not match (OIDC_FAILED)' },
        403: { description: 'No account is linked to this identity (OIDC_UNKNOWN_ACCOUNT), or it is disabled' },
        503: { description: 'The provider cannot be reached (OIDC_UNAVAILABLE)' },
      },
      async handle({ req, res, origin }) {
        res.set('cache-control', 'no-store');
        // One use only, whatever the outcome.
        res.clearCookie(OIDC_STATE_COOKIE, stateCookie(req));
        const query = new URL(req.originalUrl, 'http://callback.invalid').search;
        const identity = await logged(oidc.complete(query, cookieValue(req.get('cookie'), OIDC_STATE_COOKIE)));

        const user = await accountOfIdentity(db, identity.issuer, identity.subject);
        if (!user) {
          // The subject (often an HSA-id) stays out of the trail and the log.
          await recordAudit(db, {
            action: 'auth.login',
            outcome: 'failure',
            actor: { kind: 'system' },
            origin,
            detail: { reason: 'unknown_subject' },
          });
          throw new ApiError(
            403,
            'OIDC_UNKNOWN_ACCOUNT',
            'no account is linked to this identity; ask your team administrator to set one up',
          );
        }
        if (user.disabled) {
          await recordAudit(db, {
            action: 'auth.login',
            outcome: 'failure',
            actor: userActor(user.id),
            origin,
            detail: { reason: 'disabled' },
          });
          throw new ApiError(403, 'ACCOUNT_DISABLED', 'this account is disabled');
        }

        await startSession(db, user.id, deps.sessionPolicy, req, res, origin);
        await recordAudit(db, { action: 'auth.login', actor: userActor(user.id), origin, detail: { method: 'oidc' } });
        return { status: 302, redirect: '/' };
      },
    }),
    route({
      method: 'put',
      path: '/api/users/:userId/identity',
      tag: 'users',
      summary:
        "Link an account to the person's identity at the OpenID Connect provider (sysadmin, or an admin of every one of the account's teams; never a sysadmin's account)",
      signedIn: true,
      params: { userId: 'uuid' },
      body: externalIdentityBody,
      responses: {
        200: { description: 'Linked' },
        403: {
          description:
            "The account is a sysadmin's or is in teams the caller does not administer (ACCOUNT_BEYOND_TEAMS)",
        },
        409: { description: 'Another account has that identity (IDENTITY_TAKEN)' },
      },
      async handle({ user, params, body, origin }) {
        const userId = params.userId!;
        const reach = await accountReach(db, user, userId);
        const refused = !reach.shared ? notFound('user') : !reach.administered ? outsideTeams() : undefined;
        if (refused) {
          await recordAudit(db, {
            action: 'user.link_identity',
            outcome: 'failure',
            actor: userActor(user.userId),
            origin,
            detail: { userId, reason: reach.shared ? 'beyond_administered_teams' : 'not_visible' },
          });
          throw refused;
        }
        const replaced = await linkExternalIdentity(db, userId, oidc.issuer, body.subject);
        // The subject (often an HSA-id) stays out of the trail, as at sign-in.
        await recordAudit(db, {
          action: 'user.link_identity',
          actor: userActor(user.userId),
          origin,
          detail: { userId, replaced },
        });
        return { status: 200, body: { userId, issuer: oidc.issuer, subject: body.subject } };
      },
    }),
  ];
}
