import type pg from 'pg';
import type { TeamRole } from '../domain/care-team.ts';
import type { DeviceKind } from '../domain/reading.ts';
import type { TargetProfile } from '../domain/targets.ts';

/**
 * Writes of the care structure (teams, people, patients, devices) that bootstrap and the demo
 * need. Authorization is the caller's business; these only write.
 */

export interface NewTeam {
  name: string;
  escalationTeamId?: string | null;
  escalateAfterMinutes?: number;
}

export async function createTeam(db: pg.Pool | pg.PoolClient, team: NewTeam): Promise<{ id: string; name: string }> {
  const created = await db.query<{ id: string; name: string }>(
    `with team as (
       insert into teams (name, escalation_team_id, escalate_after_minutes)
       values ($1, $2, coalesce($3, 15)) returning id, name
     ), defaults as (insert into team_thresholds (team_id) select id from team)
     select id, name from team`,
    [team.name, team.escalationTeamId ?? null, team.escalateAfterMinutes ?? null],
  );
  return created.rows[0]!;
}

/** The team whose members an unanswered critical alert escalates to. */
export async function setEscalationTeam(
  db: pg.Pool | pg.PoolClient,
  teamId: string,
  escalationTeamId: string | null,
): Promise<void> {
  await db.query('update teams set escalation_team_id = $1 where id = $2', [escalationTeamId, teamId]);
}

export interface NewUser {
  email: string;
  name: string;
  passwordHash: string | null;
  sysadmin?: boolean;
}

export async function createUser(
  db: pg.Pool | pg.PoolClient,
  user: NewUser,
): Promise<{ id: string; email: string; name: string }> {
  const created = await db.query<{ id: string; email: string; name: string }>(
    'insert into users (email, name, password_hash, sysadmin) values ($1, $2, $3, $4) returning id, email, name',
    [user.email, user.name, user.passwordHash, user.sysadmin ?? false],
  );
  return created.rows[0]!;
}

export async function countUsers(db: pg.Pool): Promise<number> {
  return (await db.query<{ n: number }>('select count(*)::int as n from users')).rows[0]!.n;
}

export type { TeamRole };

export async function addMember(
  db: pg.Pool | pg.PoolClient,
  teamId: string,
  userId: string,
  role: TeamRole,
): Promise<void> {
  await db.query(
    `insert into memberships (team_id, user_id, role) values ($1, $2, $3)
     on conflict (team_id, user_id) do update set role = excluded.role`,
    [teamId, userId, role],
  );
}

export interface NewPatient {
  teamId: string;
  name: string;
  identityNumber?: string | null;
  labels?: string[];
  responsiblePhysicianId?: string | null;
  targetProfile?: TargetProfile;
}

export async function createPatient(db: pg.Pool | pg.PoolClient, patient: NewPatient): Promise<{ id: string }> {
  const created = await db.query<{ id: string }>(
    `insert into patients (team_id, display_name, identity_number, labels, responsible_physician_id, target_profile)
     values ($1, $2, $3, $4, $5, coalesce($6, 'standard')) returning id`,
    [
      patient.teamId,
      patient.name,
      patient.identityNumber ?? null,
      patient.labels ?? [],
      patient.responsiblePhysicianId ?? null,
      patient.targetProfile ?? null,
    ],
  );
  return created.rows[0]!;
}

export interface NewDevice {
  serial: string;
  kind: DeviceKind;
  patientId: string;
  tokenHash: string;
  /** Lookup digests of the token as a Nightscout API secret (storage/nightscout.ts). */
  nightscout?: { sha1: string; sha512: string };
  /** The user who paired it, for the meter's history (device_assignments); null for the demo. */
  pairedBy?: string | null;
}

/**
 * Pairs a new serial with a patient, and opens its first assignment in the meter's history
 * (migration 016) in the same statement, so every way of pairing records it. A serial paired
 * before (even retired) fails with 23505.
 */
export async function pairDevice(db: pg.Pool | pg.PoolClient, device: NewDevice): Promise<void> {
  await db.query(
    `with paired as (
       insert into devices (serial, kind, patient_id, token_hash, nightscout_sha1_digest, nightscout_sha512_digest)
       values ($1, $2, $3, $4, $5, $6) returning serial, patient_id, created_at
     )
     insert into device_assignments (serial, patient_id, team_id, started_at, started_by, start_reason)
     select paired.serial, paired.patient_id, p.team_id, paired.created_at, $7::uuid, 'paired'
     from paired join patients p on p.id = paired.patient_id`,
    [
      device.serial,
      device.kind,
      device.patientId,
      device.tokenHash,
      device.nightscout?.sha1 ?? null,
      device.nightscout?.sha512 ?? null,
      device.pairedBy ?? null,
    ],
  );
}

/** A small fact about this installation (e.g. that the demo clinic was seeded). */
export async function readState<T>(db: pg.Pool | pg.PoolClient, key: string): Promise<T | undefined> {
  const row = await db.query<{ value: T }>('select value from storage_state where key = $1', [key]);
  return row.rows[0]?.value;
}

export async function writeState(db: pg.Pool | pg.PoolClient, key: string, value: unknown): Promise<void> {
  await db.query(
    `insert into storage_state (key, value) values ($1, $2::jsonb)
     on conflict (key) do update set value = excluded.value, updated_at = now()`,
    [key, JSON.stringify(value)],
  );
}

/** The database's own identity (migration 006), for names that must not repeat across databases. */
export async function installationId(db: pg.Pool | pg.PoolClient): Promise<string> {
  const id = await readState<string>(db, 'installation_id');
  if (!id) throw new Error('storage_state has no installation_id: is the database migrated?');
  return id;
}
