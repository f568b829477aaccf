import { SignInThrottle } from '../access/sign-in-throttle.ts';
import { hashSecret, verifySecret } from '@glucoboard/core/platform';
import { passwordAccount, userProfile, type PasswordAccount, type UserProfile } from '@glucoboard/core/storage';
import { loginBody, meView } from '@glucoboard/core/wire';
import { closeSession, SESSION_COOKIE, startSession } from '../access/sessions.ts';
import { recordAudit, userActor } from '../audit/trail.ts';
import { ApiError } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

// Unknown accounts are checked against this hash too, so a reply's timing does not tell whether
// an e-mail address has an account.
let dummyHash: Promise<string> | undefined;
const dummy = () => (dummyHash ??= hashSecret('no such account: timing decoy'));

export async function describeUser(deps: ApiDependencies, userId: string): Promise<UserProfile> {
  return (await userProfile(deps.db.pool, userId))!;
}

/** Why a password sign-in is refused (for the audit trail only: the answer is the same), or null. */
function refusalOf(user: PasswordAccount | undefined, verified: boolean) {
  if (!user) return 'unknown_account';
  if (user.passwordHash === null) return 'no_local_password';
  if (!verified) return 'wrong_password';
  return user.disabled ? 'disabled' : null;
}

export function authRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;
  const throttle = new SignInThrottle(deps.redis, deps.redisPrefix);
  return [
    route({
      method: 'post',
      path: '/api/auth/login',
      tag: 'auth',
      summary: 'Sign in with e-mail and password; sets the httpOnly session cookie',
      signedIn: false,
      body: loginBody,
      responses: {
        200: { description: 'Signed in', schema: meView },
        401: { description: 'Wrong e-mail or password (INVALID_CREDENTIALS), alike for unknown accounts' },
        429: {
          description: 'Too many failed sign-ins for this account or from this address: wait Retry-After seconds',
        },
      },
      async handle({ body, req, res, origin }) {
        if (deps.localLogin === false) {
          throw new ApiError(
            403,
            'LOCAL_LOGIN_DISABLED',
            'password sign-in is switched off here; sign in with SITHS eID',
          );
        }
        // Without Redis the throttle is off, not sign-in: argon2 still makes each guess slow.
        const reservation = await throttle.reserve(body.email, origin).catch((err: Error) => {
          deps.log.warn({ err: err.message }, 'sign-in throttle unavailable; attempt not counted');
          return { allowed: true } as const;
        });
        if (!reservation.allowed) {
          await recordAudit(db, {
            action: 'auth.login',
            outcome: 'failure',
            actor: { kind: 'system' },
            origin,
            detail: { reason: 'throttled' },
          });
          throw new ApiError(
            429,
            'RATE_LIMITED',
            `too many failed sign-ins; wait ${reservation.retryAfterSeconds} s and try again`,
            undefined,
            { 'retry-after': String(reservation.retryAfterSeconds) },
          );
        }
        const user = await passwordAccount(db, body.email);
        // Unknown, passwordless, disabled and wrong answer alike, after the same argon2 work.
        const verified = await verifySecret(user?.passwordHash ?? (await dummy()), body.password);
        const refusal = refusalOf(user, verified);
        if (!user || refusal) {
          await recordAudit(db, {
            action: 'auth.login',
            outcome: 'failure',
            actor: user ? userActor(user.id) : { kind: 'system' },
            origin,
            detail: { reason: refusal ?? 'unknown_account' },
          });
          throw new ApiError(401, 'INVALID_CREDENTIALS', 'wrong e-mail or password');
        }
        await throttle.succeeded(body.email, origin).catch(() => undefined);
        await startSession(db, user.id, deps.sessionPolicy, req, res, origin);
        await recordAudit(db, { action: 'auth.login', actor: userActor(user.id), origin });
        return { status: 200, body: await describeUser(deps, user.id) };
      },
    }),
    route({
      method: 'post',
      path: '/api/auth/logout',
      tag: 'auth',
      summary: 'Sign out: ends the session',
      signedIn: true,
      responses: { 204: { description: 'Signed out' } },
      async handle({ user, res, origin }) {
        await closeSession(db, user.sessionId);
        deps.live.sessionEnded(user.sessionId);
        res.clearCookie(SESSION_COOKIE, { path: '/' });
        await recordAudit(db, { action: 'auth.logout', actor: userActor(user.userId), origin });
        return { status: 204 };
      },
    }),
    route({
      method: 'get',
      path: '/api/me',
      tag: 'auth',
      summary: 'The signed-in user and their teams with roles',
      signedIn: true,
      responses: { 200: { description: 'The signed-in user', schema: meView } },
      async handle({ user }) {
        return { status: 200, body: await describeUser(deps, user.userId) };
      },
    }),
  ];
}
