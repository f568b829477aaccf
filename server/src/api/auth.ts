import { z } from 'zod';
import { hashSecret, verifySecret } from '@glucoboard/core/platform';
import { loginBody } from '@glucoboard/core/wire';
import { closeSession, SESSION_COOKIE, startSession } from '../access/sessions.ts';
import { recordAudit, userActor } from '../audit/trail.ts';
import { ApiError } from '../http/errors.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

/** Failed sign-ins in a row that lock an account, and for how long. */
export const LOCKOUT = { failures: 5, minutes: 15 } as const;
/** Sign-in attempts one address may make in a window, whatever the accounts. */
export const LOGIN_RATE = { attempts: 30, windowSeconds: 900 } as const;

const meSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  sysadmin: z.boolean(),
  teams: z.array(z.object({ id: z.string(), name: z.string(), role: z.enum(['nurse', 'physician', 'admin']) })),
});

// Unknown accounts are checked against this hash too, so a reply's timing does not tell whether
// an e-mail address has an account.
let dummyHash: Promise<string> | undefined;
const dummy = () => (dummyHash ??= hashSecret('no such account: timing decoy'));

export async function describeUser(deps: ApiDependencies, userId: string) {
  const user = await deps.db.pool.query<{ id: string; email: string; name: string; sysadmin: boolean }>(
    'select id, email, name, sysadmin from users where id = $1',
    [userId],
  );
  const teams = await deps.db.pool.query<{ id: string; name: string; role: 'nurse' | 'physician' | 'admin' }>(
    'select t.id, t.name, m.role from memberships m join teams t on t.id = m.team_id where m.user_id = $1 order by t.name',
    [userId],
  );
  return { ...user.rows[0]!, teams: teams.rows };
}

async function rateLimit(deps: ApiDependencies, origin: string): Promise<void> {
  const key = `${deps.redisPrefix}:login-attempts:${origin}`;
  const [[, count], [, ttl]] = (await deps.redis.multi().incr(key).ttl(key).exec()) as [[null, number], [null, number]];
  if (ttl < 0) await deps.redis.expire(key, LOGIN_RATE.windowSeconds);
  if (count > LOGIN_RATE.attempts) {
    const retryAfter = ttl > 0 ? ttl : LOGIN_RATE.windowSeconds;
    throw new ApiError(
      429,
      'RATE_LIMITED',
      'too many sign-in attempts from this address; wait and try again',
      undefined,
      {
        'retry-after': String(retryAfter),
      },
    );
  }
}

export function authRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;
  return [
    route({
      method: 'post',
      path: '/api/auth/login',
      tag: 'auth',
      summary: 'Sign in with e-mail and password; sets the httpOnly session cookie',
      signedIn: false,
      body: loginBody,
      responses: {
        200: { description: 'Signed in', schema: meSchema },
        401: { description: 'Wrong e-mail or password, or account locked' },
      },
      async handle({ body, req, res, origin }) {
        if (deps.localLogin === false) {
          throw new ApiError(
            403,
            'LOCAL_LOGIN_DISABLED',
            'password sign-in is switched off here; sign in with SITHS eID',
          );
        }
        await rateLimit(deps, origin);
        const found = await db.query<{ id: string; password_hash: string | null; locked: boolean; disabled: boolean }>(
          `select id, password_hash, coalesce(locked_until > now(), false) as locked, disabled_at is not null as disabled
           from users where lower(email) = lower($1)`,
          [body.email],
        );
        const user = found.rows[0];
        const failure = async (reason: string, code = 'INVALID_CREDENTIALS', message = 'wrong e-mail or password') => {
          await recordAudit(db, {
            action: 'auth.login',
            outcome: 'failure',
            actor: user ? userActor(user.id) : { kind: 'system' },
            origin,
            detail: { reason },
          });
          return new ApiError(401, code, message);
        };
        if (!user || user.password_hash === null) {
          await verifySecret(await dummy(), body.password);
          throw await failure(user ? 'no_local_password' : 'unknown_account');
        }
        if (user.locked) {
          throw await failure(
            'locked',
            'ACCOUNT_LOCKED',
            'this account is locked for a while after repeated failed sign-ins',
          );
        }
        if (!(await verifySecret(user.password_hash, body.password)) || user.disabled) {
          const counted = await db.query<{ locked: boolean }>(
            `update users set
               failed_logins = case when failed_logins + 1 >= $2 then 0 else failed_logins + 1 end,
               locked_until = case when failed_logins + 1 >= $2 then now() + make_interval(mins => $3) else locked_until end
             where id = $1 returning locked_until > now() as locked`,
            [user.id, LOCKOUT.failures, LOCKOUT.minutes],
          );
          if (counted.rows[0]?.locked) {
            throw await failure(
              'locked_now',
              'ACCOUNT_LOCKED',
              'this account is now locked for a while after repeated failed sign-ins',
            );
          }
          throw await failure(user.disabled ? 'disabled' : 'wrong_password');
        }
        await db.query('update users set failed_logins = 0, locked_until = null where id = $1', [user.id]);
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
      responses: { 200: { description: 'The signed-in user', schema: meSchema } },
      async handle({ user }) {
        return { status: 200, body: await describeUser(deps, user.userId) };
      },
    }),
  ];
}
