import type pg from 'pg';
import type { NightscoutDigests } from './nightscout.ts';

/**
 * Nightscout followers (migration 011): read-only credentials of one patient, kept as the lookup
 * digests of their token (like a device's Nightscout secret). Revoked ones stay for the record.
 */

type Db = pg.Pool | pg.PoolClient;

/** A follower as the People API lists it (never its token). */
export interface FollowerSummary {
  id: string;
  name: string;
  createdAt: Date;
  createdBy: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const SUMMARY = `id, name, created_at as "createdAt", created_by as "createdBy", last_used_at as "lastUsedAt",
  revoked_at as "revokedAt"`;

export async function createFollower(
  db: Db,
  follower: { patientId: string; name: string; digests: NightscoutDigests; createdBy: string },
): Promise<FollowerSummary> {
  const made = await db.query<FollowerSummary>(
    `insert into nightscout_followers (patient_id, name, sha1_digest, sha512_digest, created_by)
     values ($1, $2, $3, $4, $5) returning ${SUMMARY}`,
    [follower.patientId, follower.name, follower.digests.sha1, follower.digests.sha512, follower.createdBy],
  );
  return made.rows[0]!;
}

/** The patient's followers, revoked ones too, oldest first. */
export async function followersOfPatient(db: Db, patientId: string): Promise<FollowerSummary[]> {
  const found = await db.query<FollowerSummary>(
    `select ${SUMMARY} from nightscout_followers where patient_id = $1 order by created_at, id`,
    [patientId],
  );
  return found.rows;
}

/** Revokes the patient's follower (a second revoke keeps the first); undefined if it is not the patient's. */
export async function revokeFollower(
  db: Db,
  patientId: string,
  followerId: string,
  revokedBy: string,
): Promise<FollowerSummary | undefined> {
  const revoked = await db.query<FollowerSummary>(
    `update nightscout_followers
     set revoked_by = case when revoked_at is null then $3::uuid else revoked_by end,
         revoked_at = coalesce(revoked_at, now())
     where id = $2 and patient_id = $1 returning ${SUMMARY}`,
    [patientId, followerId, revokedBy],
  );
  return revoked.rows[0];
}

/** What a follower credential names: whose data it may read. */
export interface NightscoutFollower {
  followerId: string;
  name: string;
  patientId: string;
  teamId: string;
}

const FOLLOWER_COLUMNS = `f.id as "followerId", f.name, f.patient_id as "patientId", p.team_id as "teamId"`;

/** The unrevoked follower whose SHA-1 or SHA-512 lookup digest this is. */
export async function followerByNightscoutDigest(
  db: Db,
  hash: 'sha1' | 'sha512',
  digest: string,
): Promise<NightscoutFollower | undefined> {
  const column = hash === 'sha1' ? 'sha1_digest' : 'sha512_digest';
  const found = await db.query<NightscoutFollower>(
    `select ${FOLLOWER_COLUMNS} from nightscout_followers f join patients p on p.id = f.patient_id
     where f.${column} = $1 and f.revoked_at is null`,
    [digest],
  );
  return found.rows[0];
}

/** The unrevoked follower a JWT names. */
export async function followerById(db: Db, followerId: string): Promise<NightscoutFollower | undefined> {
  const found = await db.query<NightscoutFollower>(
    `select ${FOLLOWER_COLUMNS} from nightscout_followers f join patients p on p.id = f.patient_id
     where f.id = $1 and f.revoked_at is null`,
    [followerId],
  );
  return found.rows[0];
}

/** The follower read now; at most once a minute a write, so polling apps cost no write each. */
export async function followerUsed(db: Db, followerId: string): Promise<void> {
  await db.query(
    `update nightscout_followers set last_used_at = now()
     where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')`,
    [followerId],
  );
}
