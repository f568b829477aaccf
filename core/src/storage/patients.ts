import type pg from 'pg';
import type { TargetProfile } from '../domain/targets.ts';
import type { TeamRole } from './care.ts';

type Queryable = pg.Pool | pg.PoolClient;

/** A patient as the People API shows it (before masking the identity number by access). */
export interface PatientRecord {
  id: string;
  name: string;
  teamId: string;
  labels: string[];
  identityNumber: string | null;
  responsiblePhysicianId: string | null;
  /** The responsible physician's name, for the patient header. */
  responsiblePhysicianName: string | null;
  targetProfile: TargetProfile;
  lastReviewedAt: Date | null;
  lastReviewedBy: string | null;
}

/** How a user reaches a patient (policy decides what each allows). */
export type PatientReach = 'responsible' | 'granted' | 'escalation' | 'sysadmin';

const PATIENT_COLUMNS = `p.id, p.display_name as name, p.team_id as "teamId", p.labels, p.identity_number as "identityNumber",
  p.responsible_physician_id as "responsiblePhysicianId",
  (select u.name from users u where u.id = p.responsible_physician_id) as "responsiblePhysicianName",
  p.target_profile as "targetProfile", p.last_reviewed_at as "lastReviewedAt", p.last_reviewed_by as "lastReviewedBy"`;

export async function patientRecord(db: Queryable, id: string): Promise<PatientRecord | undefined> {
  return (await db.query<PatientRecord>(`select ${PATIENT_COLUMNS} from patients p where p.id = $1`, [id])).rows[0];
}

/**
 * Patients a user may list: the responsible team's and those granted to one of the user's teams
 * (a sysadmin: all), optionally of one team (responsible or granted), by name.
 */
export async function listablePatients(
  db: Queryable,
  viewer: { userId: string; sysadmin: boolean },
  teamId: string | undefined,
): Promise<Array<PatientRecord & { via: Exclude<PatientReach, 'escalation'> }>> {
  const rows = await db.query<PatientRecord & { via: Exclude<PatientReach, 'escalation'> }>(
    `select ${PATIENT_COLUMNS},
            case when exists (select 1 from memberships m where m.team_id = p.team_id and m.user_id = $1) then 'responsible'
                 when exists (select 1 from patient_access_grants g join memberships m on m.team_id = g.team_id
                              where g.patient_id = p.id and m.user_id = $1) then 'granted'
                 else 'sysadmin' end as via
     from patients p
     where ($3::uuid is null or p.team_id = $3 or exists (select 1 from patient_access_grants g where g.patient_id = p.id and g.team_id = $3))
       and ($2 or exists (select 1 from memberships m where m.team_id = p.team_id and m.user_id = $1)
               or exists (select 1 from patient_access_grants g join memberships m on m.team_id = g.team_id
                          where g.patient_id = p.id and m.user_id = $1))
     order by p.display_name`,
    [viewer.userId, viewer.sysadmin, teamId ?? null],
  );
  return rows.rows;
}

/** What the access policy weighs for one user and one patient; undefined when there is no such patient. */
export interface PatientAccessFacts {
  teamId: string;
  /** The user's role in the responsible team, if a member. */
  role: TeamRole | null;
  /** A team of the user was granted read access. */
  granted: boolean;
  /** An unresolved, escalated alert of the patient is escalated to a team of the user. */
  escalated: boolean;
}

export async function patientAccessFacts(
  db: Queryable,
  patientId: string,
  userId: string,
): Promise<PatientAccessFacts | undefined> {
  const found = await db.query<PatientAccessFacts>(
    `select p.team_id as "teamId",
            (select m.role from memberships m where m.team_id = p.team_id and m.user_id = $2) as role,
            exists (select 1 from patient_access_grants g join memberships m on m.team_id = g.team_id
                    where g.patient_id = p.id and m.user_id = $2) as granted,
            exists (select 1 from alerts a join teams t on t.id = a.team_id
                      join memberships m on m.team_id = t.escalation_team_id
                    where a.patient_id = p.id and a.escalated and a.state <> 'resolved' and m.user_id = $2) as escalated
     from patients p where p.id = $1`,
    [patientId, userId],
  );
  return found.rows[0];
}

export interface PatientChanges {
  name?: string;
  /** Present (null included) to change it. */
  identityNumber?: string | null;
  labels?: string[];
  responsiblePhysicianId?: string | null;
  targetProfile?: TargetProfile;
}

export async function updatePatient(db: Queryable, id: string, changes: PatientChanges): Promise<void> {
  await db.query(
    `update patients set display_name = coalesce($2, display_name),
       identity_number = case when $3 then $4 else identity_number end,
       labels = coalesce($5, labels),
       responsible_physician_id = case when $6 then $7::uuid else responsible_physician_id end,
       target_profile = coalesce($8, target_profile)
     where id = $1`,
    [
      id,
      changes.name ?? null,
      'identityNumber' in changes,
      changes.identityNumber ?? null,
      changes.labels ?? null,
      'responsiblePhysicianId' in changes,
      changes.responsiblePhysicianId ?? null,
      changes.targetProfile ?? null,
    ],
  );
}

export async function markReviewed(db: Queryable, patientId: string, userId: string): Promise<void> {
  await db.query('update patients set last_reviewed_at = now(), last_reviewed_by = $2 where id = $1', [
    patientId,
    userId,
  ]);
}

/** The patient-side columns of the threshold overrides (null: the team's default). */
export const OVERRIDE_COLUMNS = {
  urgentLow: 'urgent_low',
  low: 'low',
  high: 'high',
  urgentHigh: 'urgent_high',
  noDataMinutes: 'no_data_minutes',
} as const;
export type OverrideField = keyof typeof OVERRIDE_COLUMNS;

/**
 * Sets some overrides, in the caller's transaction; answers whether the thresholds that then take
 * effect (overrides merged with the team's defaults) still rise urgentLow < low < high < urgentHigh.
 * The caller rolls back when they do not.
 */
export async function setThresholdOverrides(
  client: pg.PoolClient,
  patientId: string,
  changes: ReadonlyArray<[OverrideField, number | null]>,
  userId: string,
): Promise<boolean> {
  await client.query('insert into patient_thresholds (patient_id) values ($1) on conflict (patient_id) do nothing', [
    patientId,
  ]);
  for (const [field, value] of changes) {
    await client.query(
      `update patient_thresholds set ${OVERRIDE_COLUMNS[field]} = $2, updated_by = $3, updated_at = now() where patient_id = $1`,
      [patientId, value, userId],
    );
  }
  const check = await client.query<{ ok: boolean }>(
    `select coalesce(pt.urgent_low, tt.urgent_low) < coalesce(pt.low, tt.low)
        and coalesce(pt.low, tt.low) < coalesce(pt.high, tt.high)
        and coalesce(pt.high, tt.high) < coalesce(pt.urgent_high, tt.urgent_high) as ok
     from patients p join team_thresholds tt on tt.team_id = p.team_id
     join patient_thresholds pt on pt.patient_id = p.id where p.id = $1`,
    [patientId],
  );
  return check.rows[0]?.ok === true;
}

/** Grants a team read access (idempotent). */
export async function grantPatientAccess(
  db: Queryable,
  grant: { patientId: string; teamId: string; grantedBy: string },
): Promise<void> {
  await db.query(
    'insert into patient_access_grants (patient_id, team_id, granted_by) values ($1, $2, $3) on conflict do nothing',
    [grant.patientId, grant.teamId, grant.grantedBy],
  );
}

/** Withdraws a grant; answers whether there was one. */
export async function withdrawPatientAccess(db: Queryable, patientId: string, teamId: string): Promise<boolean> {
  const removed = await db.query('delete from patient_access_grants where patient_id = $1 and team_id = $2', [
    patientId,
    teamId,
  ]);
  return (removed.rowCount ?? 0) > 0;
}
