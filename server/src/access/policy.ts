import type pg from 'pg';
import { forbidden, notFound } from '../http/errors.ts';
import type { SignedInUser } from './sessions.ts';
import { membershipsOf, type TeamRole } from './teams.ts';

/**
 * Who may do what (Patientdatalagen 4:1: only those taking part in a patient's care read the
 * patient's data; here, membership of the responsible team or of a team granted read access).
 *
 *  - read:  members of the responsible team and of granted teams; while an alert of the patient is
 *           escalated and not resolved, members of the team it was escalated to; sysadmins
 *  - care:  members of the responsible team (thresholds, review, manual entry, alerts); sysadmins
 *  - admin: admins of the responsible team; sysadmins
 *
 * Anything the caller may not even read answers 404, exactly like something that does not exist;
 * a lack of role on a patient the caller can see answers 403.
 */
export type PatientNeed = 'read' | 'care' | 'admin';

export interface PatientAccess {
  patientId: string;
  teamId: string;
  /**
   * How the caller reaches the patient. `escalation`: a member of the team an unresolved alert of
   * the patient was escalated to may read the patient until that episode resolves, to act on it.
   */
  via: 'responsible' | 'granted' | 'escalation' | 'sysadmin';
  role: TeamRole | null;
}

export async function patientAccess(
  db: pg.Pool,
  user: SignedInUser,
  patientId: string,
  need: PatientNeed,
): Promise<PatientAccess> {
  const found = await db.query<{ team_id: string; role: TeamRole | null; granted: boolean; escalated: boolean }>(
    `select p.team_id,
            (select m.role from memberships m where m.team_id = p.team_id and m.user_id = $2) as role,
            exists (select 1 from patient_access_grants g join memberships m on m.team_id = g.team_id
                    where g.patient_id = p.id and m.user_id = $2) as granted,
            exists (select 1 from alerts a join teams t on t.id = a.team_id
                      join memberships m on m.team_id = t.escalation_team_id
                    where a.patient_id = p.id and a.escalated and a.state <> 'resolved' and m.user_id = $2) as escalated
     from patients p where p.id = $1`,
    [patientId, user.userId],
  );
  const row = found.rows[0];
  if (!row) throw notFound('patient');
  const via = row.role
    ? 'responsible'
    : user.sysadmin
      ? 'sysadmin'
      : row.granted
        ? 'granted'
        : row.escalated
          ? 'escalation'
          : null;
  if (via === null) throw notFound('patient');
  const access: PatientAccess = { patientId, teamId: row.team_id, via, role: row.role };
  if (user.sysadmin) return access;
  if (need === 'care' && via !== 'responsible')
    throw forbidden('read access only: this patient belongs to another team');
  if (need === 'admin' && row.role !== 'admin') throw forbidden("only the team's administrators may do this");
  return access;
}

export type TeamNeed = 'member' | 'admin';

/** The caller's role in a team; a team the caller is not in answers 404 (sysadmins see all). */
export async function teamAccess(
  db: pg.Pool,
  user: SignedInUser,
  teamId: string,
  need: TeamNeed,
): Promise<TeamRole | null> {
  const exists = await db.query('select 1 from teams where id = $1', [teamId]);
  if (exists.rowCount === 0) throw notFound('team');
  const role = (await membershipsOf(db, user.userId)).get(teamId) ?? null;
  if (user.sysadmin) return role;
  if (role === null) throw notFound('team');
  if (need === 'admin' && role !== 'admin') throw forbidden("only the team's administrators may do this");
  return role;
}

/** Admin of at least one team, or sysadmin: may create user accounts. */
export async function isAnyTeamAdmin(db: pg.Pool, user: SignedInUser): Promise<boolean> {
  if (user.sysadmin) return true;
  return [...(await membershipsOf(db, user.userId)).values()].includes('admin');
}

/** How far the caller may act on another person's account. */
export interface AccountReach {
  exists: boolean;
  /** May link its sign-in identity, or add it to a team. */
  administered: boolean;
  /** Belongs to at least one team the caller administers (a sysadmin: any existing account). */
  shared: boolean;
}

/**
 * Whether the caller may act on another person's account: a sysadmin on any; a team admin only on
 * an account that is no sysadmin and whose every membership is in teams that admin administers.
 * Anything looser lets the admin of one team take over (by linking their own OpenID subject to it)
 * the account of another team's member, or the sysadmin's.
 */
export async function accountReach(db: pg.Pool, caller: SignedInUser, userId: string): Promise<AccountReach> {
  const found = await db.query<{ sysadmin: boolean; teams: string[] }>(
    `select u.sysadmin, coalesce(array_agg(m.team_id) filter (where m.team_id is not null), '{}') as teams
     from users u left join memberships m on m.user_id = u.id where u.id = $1 group by u.id`,
    [userId],
  );
  const target = found.rows[0];
  if (!target) return { exists: false, administered: false, shared: false };
  if (caller.sysadmin) return { exists: true, administered: true, shared: true };
  const administered = new Set(
    [...(await membershipsOf(db, caller.userId))].filter(([, role]) => role === 'admin').map(([team]) => team),
  );
  return {
    exists: true,
    administered: administered.size > 0 && !target.sysadmin && target.teams.every((team) => administered.has(team)),
    shared: target.teams.some((team) => administered.has(team)),
  };
}
