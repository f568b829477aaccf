import type pg from 'pg';
import type { TeamRole } from './care.ts';

type Queryable = pg.Pool | pg.PoolClient;

/** People's accounts: profile, password sign-in, the link to an OpenID Connect identity. */

export interface UserProfile {
  id: string;
  email: string;
  name: string;
  sysadmin: boolean;
  teams: Array<{ id: string; name: string; role: TeamRole }>;
}

export async function userProfile(db: Queryable, userId: string): Promise<UserProfile | undefined> {
  const user = await db.query<Omit<UserProfile, 'teams'>>('select id, email, name, sysadmin from users where id = $1', [
    userId,
  ]);
  if (!user.rows[0]) return undefined;
  const teams = await db.query<UserProfile['teams'][number]>(
    'select t.id, t.name, m.role from memberships m join teams t on t.id = m.team_id where m.user_id = $1 order by t.name',
    [userId],
  );
  return { ...user.rows[0], teams: teams.rows };
}

/** What a password sign-in checks; the e-mail matches case-insensitively. */
export interface PasswordAccount {
  id: string;
  passwordHash: string | null;
  disabled: boolean;
}

export async function passwordAccount(db: Queryable, email: string): Promise<PasswordAccount | undefined> {
  const found = await db.query<PasswordAccount>(
    `select id, password_hash as "passwordHash", disabled_at is not null as disabled from users where lower(email) = lower($1)`,
    [email],
  );
  return found.rows[0];
}

export async function usersByEmail(
  db: Queryable,
  email: string,
): Promise<Array<{ id: string; email: string; name: string }>> {
  return (await db.query('select id, email, name from users where lower(email) = lower($1)', [email])).rows;
}

/** Whether the account is a sysadmin, and the teams it belongs to (for who may act on it). */
export async function accountStanding(
  db: Queryable,
  userId: string,
): Promise<{ sysadmin: boolean; teams: string[] } | undefined> {
  const found = await db.query<{ sysadmin: boolean; teams: string[] }>(
    `select u.sysadmin, coalesce(array_agg(m.team_id) filter (where m.team_id is not null), '{}') as teams
     from users u left join memberships m on m.user_id = u.id where u.id = $1 group by u.id`,
    [userId],
  );
  return found.rows[0];
}

/** The account linked to (issuer, subject) at an OpenID Connect provider. */
export async function accountOfIdentity(
  db: Queryable,
  issuer: string,
  subject: string,
): Promise<{ id: string; disabled: boolean } | undefined> {
  const found = await db.query<{ id: string; disabled: boolean }>(
    `select id, disabled_at is not null as disabled from users where auth_provider = $1 and external_subject = $2`,
    [issuer, subject],
  );
  return found.rows[0];
}

/**
 * Links an account to (issuer, subject). Answers undefined for no such account, else whether it
 * replaced an earlier link; another account holding the identity fails with SQLSTATE 23505.
 */
export async function setAccountIdentity(
  db: Queryable,
  userId: string,
  issuer: string,
  subject: string,
): Promise<{ replaced: boolean } | undefined> {
  const linked = await db.query<{ replaced: boolean }>(
    `update users u set auth_provider = $2, external_subject = $3 from users before
     where u.id = $1 and before.id = u.id returning before.external_subject is not null as replaced`,
    [userId, issuer, subject],
  );
  return linked.rows[0];
}
