import type pg from 'pg';
import { forbidden, notFound } from '../http/errors.ts';
import type { SignedInUser } from './sessions.ts';
import {
  accountStanding,
  membershipsOf,
  patientAccessFacts,
  teamExists,
  type PatientReach,
  type TeamRole,
} from '@glucoboard/core/storage';

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
  via: PatientReach;
  role: TeamRole | null;
}

export async function patientAccess(
  db: pg.Pool,
  user: SignedInUser,
  patientId: string,
  need: PatientNeed,
): Promise<PatientAccess> {
  const row = await patientAccessFacts(db, patientId, user.userId);
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
  const access: PatientAccess = { patientId, teamId: row.teamId, via, role: row.role };
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
  if (!(await teamExists(db, teamId))) throw notFound('team');
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
  const target = await accountStanding(db, userId);
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
