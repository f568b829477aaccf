import type pg from 'pg';
import type { DeviceKind } from '../domain/reading.ts';
import type { DeviceStatus } from '../wire/device-status.ts';

/**
 * Paired meters and sensors (`devices`, keyed by serial): what the device socket, the devices
 * API and the demo read and write. Pairing itself is `pairDevice` (care.ts); loans and replacements
 * are device-assignments.ts.
 */

type Queryable = pg.Pool | pg.PoolClient;

/** An unrevoked device's token hash (argon2), kind and whom its readings belong to. */
export interface DeviceCredential {
  tokenHash: string;
  kind: DeviceKind;
  patientId: string;
  teamId: string;
  /**
   * Readings measured before this are not its patient's (the meter was with another patient
   * then: domain/meter-loans.ts); null when the meter was never with anyone else.
   */
  acceptsReadingsFrom: Date | null;
}

/**
 * The start of the device's open assignment if an earlier one exists (migration 016): a lent
 * meter's memory before the hand-over belongs to someone else.
 */
const ACCEPTS_READINGS_FROM = `(
  select a.started_at from device_assignments a
  where a.serial = d.serial and a.ended_at is null
    and exists (select 1 from device_assignments e where e.serial = d.serial and e.id <> a.id)
)`;

export async function deviceCredential(db: Queryable, serial: string): Promise<DeviceCredential | undefined> {
  const found = await db.query<DeviceCredential>(
    `select d.token_hash as "tokenHash", d.kind, d.patient_id as "patientId", p.team_id as "teamId",
            ${ACCEPTS_READINGS_FROM} as "acceptsReadingsFrom"
     from devices d join patients p on p.id = d.patient_id
     where d.serial = $1 and d.revoked_at is null`,
    [serial],
  );
  return found.rows[0];
}

/** When the device's current patient's readings begin (see DeviceCredential); null: all are theirs. */
export async function readingsAcceptedFrom(db: Queryable, serial: string): Promise<Date | null> {
  const found = await db.query<{ from: Date | null }>(
    `select ${ACCEPTS_READINGS_FROM} as "from" from devices d where d.serial = $1`,
    [serial],
  );
  return found.rows[0]?.from ?? null;
}

/** The device's patient, revoked or not; undefined for a serial never paired. */
export async function patientOfDevice(db: Queryable, serial: string): Promise<string | undefined> {
  const found = await db.query<{ patient_id: string }>('select patient_id from devices where serial = $1', [serial]);
  return found.rows[0]?.patient_id;
}

/** A device as the devices API lists it (never its token). */
export interface DeviceSummary {
  deviceId: string;
  kind: DeviceKind;
  lastSeenAt: Date | null;
  batteryPercent: number | null;
  firmware: string | null;
  tokenIssuedAt: Date;
  revokedAt: Date | null;
  pairedAt: Date;
  /** Set when the meter was replaced: it never sends again (migration 016). */
  retiredAt: Date | null;
}

/** The patient's devices, revoked ones too, in pairing order. */
export async function devicesOfPatient(db: Queryable, patientId: string): Promise<DeviceSummary[]> {
  const found = await db.query<DeviceSummary>(
    `select serial as "deviceId", kind, last_seen_at as "lastSeenAt", battery_percent as "batteryPercent", firmware,
            token_issued_at as "tokenIssuedAt", revoked_at as "revokedAt", created_at as "pairedAt",
            retired_at as "retiredAt"
     from devices where patient_id = $1 order by created_at`,
    [patientId],
  );
  return found.rows;
}

/**
 * A new token (its hash) for a device that is not revoked: the old one stops working. A revoked
 * device stays revoked (false, nothing changed): only an explicit reactivation or loan brings it
 * back, never a rotation.
 */
export async function rotateDeviceToken(db: Queryable, serial: string, tokenHash: string): Promise<boolean> {
  const rotated = await db.query(
    'update devices set token_hash = $2, token_issued_at = now() where serial = $1 and revoked_at is null',
    [serial, tokenHash],
  );
  return rotated.rowCount === 1;
}

/**
 * A revoked, not retired device live again with a new token (an explicit act of a team admin);
 * false if it is retired or not revoked.
 */
export async function reactivateDevice(
  db: Queryable,
  serial: string,
  tokenHash: string,
  nightscout?: { sha1: string; sha512: string },
): Promise<boolean> {
  const reactivated = await db.query(
    `update devices set token_hash = $2, token_issued_at = now(), revoked_at = null,
            nightscout_sha1_digest = $3, nightscout_sha512_digest = $4
     where serial = $1 and revoked_at is not null and retired_at is null`,
    [serial, tokenHash, nightscout?.sha1 ?? null, nightscout?.sha512 ?? null],
  );
  return reactivated.rowCount === 1;
}

/** Revokes the device's token (a second revoke keeps the first time); returns when it was revoked. */
export async function revokeDevice(db: Queryable, serial: string): Promise<Date> {
  const revoked = await db.query<{ revokedAt: Date }>(
    'update devices set revoked_at = coalesce(revoked_at, now()) where serial = $1 returning revoked_at as "revokedAt"',
    [serial],
  );
  return revoked.rows[0]!.revokedAt;
}

/** These devices connected (just now: the caller gathers a second's worth). */
export async function devicesConnected(db: Queryable, serials: readonly string[]): Promise<void> {
  if (serials.length === 0) return;
  // In one order, so two servers' updates of the same devices never deadlock.
  await db.query('update devices set last_seen_at = now() where serial = any($1::text[])', [[...serials].sort()]);
}

/** The device's own report of its battery and firmware; it was seen now. */
export async function recordDeviceStatus(db: Queryable, serial: string, status: DeviceStatus): Promise<void> {
  await db.query('update devices set battery_percent = $2, firmware = $3, last_seen_at = now() where serial = $1', [
    serial,
    status.batteryPercent,
    status.firmware,
  ]);
}

/** Sets when the device was last seen (the demo's history: its last reading's time, or never). */
export async function setDeviceLastSeen(db: Queryable, serial: string, at: Date | null): Promise<void> {
  await db.query('update devices set last_seen_at = $1 where serial = $2', [at, serial]);
}
