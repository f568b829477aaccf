import type pg from 'pg';
import type { TeamRole } from './care.ts';

type Queryable = pg.Pool | pg.PoolClient;

/** Care teams, their memberships and their default thresholds. */

export interface TeamRecord {
  id: string;
  name: string;
  escalationTeamId: string | null;
  escalateAfterMinutes: number;
  /** The viewer's role in the team; null when not a member. */
  role: TeamRole | null;
}

const TEAM_COLUMNS = `t.id, t.name, t.escalation_team_id as "escalationTeamId", t.escalate_after_minutes as "escalateAfterMinutes"`;

export async function teamExists(db: Queryable, teamId: string): Promise<boolean> {
  return ((await db.query('select 1 from teams where id = $1', [teamId])).rowCount ?? 0) > 0;
}

export async function allTeamIds(db: Queryable): Promise<string[]> {
  return (await db.query<{ id: string }>('select id from teams')).rows.map((r) => r.id);
}

/** The viewer's teams with the viewer's role, by name; every team when `all` (a sysadmin). */
export async function teamsOf(db: Queryable, userId: string, all: boolean): Promise<TeamRecord[]> {
  const teams = await db.query<TeamRecord>(
    `select ${TEAM_COLUMNS}, m.role from teams t
     left join memberships m on m.team_id = t.id and m.user_id = $1
     where m.user_id is not null or $2 order by t.name`,
    [userId, all],
  );
  return teams.rows;
}

export async function teamRecord(db: Queryable, teamId: string, role: TeamRole | null): Promise<TeamRecord> {
  const team = await db.query<TeamRecord>(`select ${TEAM_COLUMNS}, $2::text as role from teams t where t.id = $1`, [
    teamId,
    role,
  ]);
  return team.rows[0]!;
}

export interface TeamChanges {
  name?: string;
  /** Present (null included) to change it. */
  escalationTeamId?: string | null;
  escalateAfterMinutes?: number;
}

export async function updateTeam(db: Queryable, teamId: string, changes: TeamChanges): Promise<void> {
  await db.query(
    `update teams set name = coalesce($2, name),
       escalation_team_id = case when $3 then $4::uuid else escalation_team_id end,
       escalate_after_minutes = coalesce($5, escalate_after_minutes)
     where id = $1`,
    [
      teamId,
      changes.name ?? null,
      'escalationTeamId' in changes,
      changes.escalationTeamId ?? null,
      changes.escalateAfterMinutes ?? null,
    ],
  );
}

// --- Memberships ---------------------------------------------------------------------------------

/** The teams a user belongs to, with the role in each: the basis of every access decision. */
export async function membershipsOf(db: Queryable, userId: string): Promise<Map<string, TeamRole>> {
  const rows = await db.query<{ team_id: string; role: TeamRole }>(
    'select team_id, role from memberships where user_id = $1',
    [userId],
  );
  return new Map(rows.rows.map((r) => [r.team_id, r.role]));
}

export async function teamMembers(
  db: Queryable,
  teamId: string,
): Promise<Array<{ userId: string; email: string; name: string; role: TeamRole }>> {
  const members = await db.query<{ userId: string; email: string; name: string; role: TeamRole }>(
    `select u.id as "userId", u.email, u.name, m.role from memberships m join users u on u.id = m.user_id
     where m.team_id = $1 order by u.name`,
    [teamId],
  );
  return members.rows;
}

/** Answers whether there was such a membership. */
export async function removeMember(db: Queryable, teamId: string, userId: string): Promise<boolean> {
  const removed = await db.query('delete from memberships where team_id = $1 and user_id = $2', [teamId, userId]);
  return (removed.rowCount ?? 0) > 0;
}

export async function hasRole(db: Queryable, userId: string, teamId: string, role: TeamRole): Promise<boolean> {
  const found = await db.query('select 1 from memberships where user_id = $1 and team_id = $2 and role = $3', [
    userId,
    teamId,
    role,
  ]);
  return (found.rowCount ?? 0) > 0;
}

// --- Team defaults -------------------------------------------------------------------------------

export interface TeamDefaults {
  urgentLow: number;
  low: number;
  high: number;
  urgentHigh: number;
  noDataMinutesBgm: number;
  noDataMinutesCgm: number;
  rapidChangeMmolPerMin: number;
}

const TEAM_THRESHOLD_COLUMNS = `urgent_low as "urgentLow", low, high, urgent_high as "urgentHigh",
  no_data_minutes_bgm as "noDataMinutesBgm", no_data_minutes_cgm as "noDataMinutesCgm",
  rapid_change_mmol_per_min as "rapidChangeMmolPerMin"`;

export async function teamDefaults(db: Queryable, teamId: string): Promise<TeamDefaults | undefined> {
  const row = await db.query<TeamDefaults>(`select ${TEAM_THRESHOLD_COLUMNS} from team_thresholds where team_id = $1`, [
    teamId,
  ]);
  return row.rows[0];
}

/** Changes some defaults; the table's check refuses an order that does not rise (SQLSTATE 23514). */
export async function updateTeamDefaults(
  db: Queryable,
  teamId: string,
  changes: Partial<TeamDefaults>,
): Promise<TeamDefaults | undefined> {
  const row = await db.query<TeamDefaults>(
    `update team_thresholds set
       urgent_low = coalesce($2, urgent_low), low = coalesce($3, low), high = coalesce($4, high),
       urgent_high = coalesce($5, urgent_high), no_data_minutes_bgm = coalesce($6, no_data_minutes_bgm),
       no_data_minutes_cgm = coalesce($7, no_data_minutes_cgm),
       rapid_change_mmol_per_min = coalesce($8, rapid_change_mmol_per_min)
     where team_id = $1 returning ${TEAM_THRESHOLD_COLUMNS}`,
    [
      teamId,
      changes.urgentLow ?? null,
      changes.low ?? null,
      changes.high ?? null,
      changes.urgentHigh ?? null,
      changes.noDataMinutesBgm ?? null,
      changes.noDataMinutesCgm ?? null,
      changes.rapidChangeMmolPerMin ?? null,
    ],
  );
  return row.rows[0];
}
