import type pg from 'pg';

export type TeamRole = 'nurse' | 'physician' | 'admin';

/** The teams a user belongs to, with the role in each: the basis of every access decision. */
export async function membershipsOf(db: pg.Pool, userId: string): Promise<Map<string, TeamRole>> {
  const rows = await db.query<{ team_id: string; role: TeamRole }>(
    'select team_id, role from memberships where user_id = $1',
    [userId],
  );
  return new Map(rows.rows.map((r) => [r.team_id, r.role]));
}
