import type pg from 'pg';
import type { ReplacementReason } from '../domain/meter-loans.ts';
import type { DeviceKind } from '../domain/reading.ts';
import { inTransaction } from './database.ts';

/**
 * Meters lent from patient to patient and replaced (migration 016, docs/follow-up.md "Meters"):
 * device_assignments says which serial was with which patient from when to when and who did it;
 * device_replacements why a meter was replaced. Pairing (care.ts `pairDevice`) opens the first
 * assignment; a loan and a replacement close one and open the next in one transaction, together
 * with the devices row, so the history and the credential never disagree.
 */

type Queryable = pg.Pool | pg.PoolClient;

/** Why a loan or a replacement cannot be done; the API turns each into a 409 (404 for missing). */
export class DeviceChangeRefused extends Error {
  constructor(readonly reason: 'missing' | 'retired' | 'same_patient' | 'serial_exists') {
    super(`device change refused: ${reason}`);
    this.name = 'DeviceChangeRefused';
  }
}

/** Where a device stands: whom it is with, and whether it is revoked or retired. */
export interface DeviceStanding {
  deviceId: string;
  kind: DeviceKind;
  patientId: string;
  revokedAt: Date | null;
  retiredAt: Date | null;
}

export async function deviceStanding(db: Queryable, serial: string): Promise<DeviceStanding | undefined> {
  const found = await db.query<DeviceStanding>(
    `select serial as "deviceId", kind, patient_id as "patientId", revoked_at as "revokedAt", retired_at as "retiredAt"
     from devices where serial = $1`,
    [serial],
  );
  return found.rows[0];
}

/** A new token for the device, with its Nightscout lookup digests. */
export interface NewDeviceToken {
  tokenHash: string;
  nightscout?: { sha1: string; sha512: string };
}

export interface DeviceLoan extends NewDeviceToken {
  serial: string;
  /** The patient who gets the meter now. */
  patientId: string;
  /** The user who handed it over. */
  by: string;
}

/**
 * Lends the meter on: its open assignment ends, one with the new patient begins, and the device
 * gets the new patient and a new token (the previous patient's phone is cut off). A revoked meter
 * may be lent (the loan is an explicit new pairing); a retired one may not.
 */
export async function lendDevice(
  pool: pg.Pool,
  loan: DeviceLoan,
): Promise<{ previousPatientId: string; startedAt: Date; kind: DeviceKind }> {
  return inTransaction(pool, async (client) => {
    const device = (
      await client.query<DeviceStanding>(
        `select kind, patient_id as "patientId", retired_at as "retiredAt" from devices where serial = $1 for update`,
        [loan.serial],
      )
    ).rows[0];
    if (!device) throw new DeviceChangeRefused('missing');
    if (device.retiredAt) throw new DeviceChangeRefused('retired');
    if (device.patientId === loan.patientId) throw new DeviceChangeRefused('same_patient');
    // The clock, not now(): now() is when this transaction began, which may be before a loan
    // that held the lock ahead of us started its assignment, and an assignment cannot end
    // before it began. The handover is one instant: the old one ends as the new one starts.
    const handover = (await client.query<{ at: Date }>('select clock_timestamp() as at')).rows[0]!.at;
    await client.query(
      `update device_assignments set ended_at = $3, ended_by = $2, end_reason = 'loan'
       where serial = $1 and ended_at is null`,
      [loan.serial, loan.by, handover],
    );
    const started = await client.query<{ startedAt: Date }>(
      `insert into device_assignments (serial, patient_id, team_id, started_at, started_by, start_reason)
       select $1::text, p.id, p.team_id, $4, $3::uuid, 'loan' from patients p where p.id = $2
       returning started_at as "startedAt"`,
      [loan.serial, loan.patientId, loan.by, handover],
    );
    await client.query(
      `update devices set patient_id = $2, token_hash = $3, token_issued_at = now(), revoked_at = null,
              nightscout_sha1_digest = $4, nightscout_sha512_digest = $5
       where serial = $1`,
      [loan.serial, loan.patientId, loan.tokenHash, loan.nightscout?.sha1 ?? null, loan.nightscout?.sha512 ?? null],
    );
    return { previousPatientId: device.patientId, startedAt: started.rows[0]!.startedAt, kind: device.kind };
  });
}

export interface DeviceReplacement extends NewDeviceToken {
  oldSerial: string;
  newSerial: string;
  reason: ReplacementReason;
  cause: string | null;
  by: string;
}

export interface ReplacementDone {
  patientId: string;
  teamId: string;
  kind: DeviceKind;
  retiredAt: Date;
}

/**
 * Replaces a meter: the new one (a serial never paired, of the same kind) takes over the patient
 * with its own token, and the old one is revoked and retired for good, with the reason.
 */
export async function replaceDevice(pool: pg.Pool, replacement: DeviceReplacement): Promise<ReplacementDone> {
  return inTransaction(pool, async (client) => {
    const old = (
      await client.query<DeviceStanding & { teamId: string }>(
        `select d.kind, d.patient_id as "patientId", d.retired_at as "retiredAt", p.team_id as "teamId"
         from devices d join patients p on p.id = d.patient_id where d.serial = $1 for update of d`,
        [replacement.oldSerial],
      )
    ).rows[0];
    if (!old) throw new DeviceChangeRefused('missing');
    if (old.retiredAt) throw new DeviceChangeRefused('retired');
    const inserted = await client.query(
      `insert into devices (serial, kind, patient_id, token_hash, nightscout_sha1_digest, nightscout_sha512_digest)
       values ($1, $2, $3, $4, $5, $6) on conflict (serial) do nothing returning serial`,
      [
        replacement.newSerial,
        old.kind,
        old.patientId,
        replacement.tokenHash,
        replacement.nightscout?.sha1 ?? null,
        replacement.nightscout?.sha512 ?? null,
      ],
    );
    if (inserted.rowCount === 0) throw new DeviceChangeRefused('serial_exists');
    // The clock after the lock, for the same reason as in a loan.
    const handover = (await client.query<{ at: Date }>('select clock_timestamp() as at')).rows[0]!.at;
    const retired = await client.query<{ retiredAt: Date }>(
      `update devices set revoked_at = coalesce(revoked_at, $2), retired_at = $2 where serial = $1
       returning retired_at as "retiredAt"`,
      [replacement.oldSerial, handover],
    );
    await client.query(
      `update device_assignments set ended_at = $3, ended_by = $2, end_reason = 'retired'
       where serial = $1 and ended_at is null`,
      [replacement.oldSerial, replacement.by, handover],
    );
    await client.query(
      `insert into device_assignments (serial, patient_id, team_id, started_at, started_by, start_reason)
       values ($1, $2, $3, $5, $4, 'replacement')`,
      [replacement.newSerial, old.patientId, old.teamId, replacement.by, handover],
    );
    await client.query(
      `insert into device_replacements (old_serial, new_serial, kind, reason, cause, patient_id, team_id, replaced_by)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        replacement.oldSerial,
        replacement.newSerial,
        old.kind,
        replacement.reason,
        replacement.cause,
        old.patientId,
        old.teamId,
        replacement.by,
      ],
    );
    return { patientId: old.patientId, teamId: old.teamId, kind: old.kind, retiredAt: retired.rows[0]!.retiredAt };
  });
}

/** One period of a meter with a patient, as the histories list it. */
export interface AssignmentRecord {
  deviceId: string;
  kind: DeviceKind;
  patientId: string;
  patientName: string;
  /** The patient's responsible team now (who may see the patient). */
  patientTeamId: string;
  /** The patient's responsible team at the hand-over. */
  teamId: string;
  startedAt: Date;
  startedBy: { id: string; name: string } | null;
  startReason: 'paired' | 'loan' | 'replacement' | 'existing';
  endedAt: Date | null;
  endedBy: { id: string; name: string } | null;
  endReason: 'loan' | 'retired' | null;
  /** For a meter that took over from a replaced one: that one's serial, and why. */
  replaced: { deviceId: string; reason: ReplacementReason; cause: string | null } | null;
  /** For a meter retired by a replacement: the one that took over, and why. */
  replacedBy: { deviceId: string; reason: ReplacementReason; cause: string | null } | null;
}

const ASSIGNMENTS = `
select a.serial as "deviceId", d.kind, a.patient_id as "patientId", p.display_name as "patientName",
       p.team_id as "patientTeamId", a.team_id as "teamId",
       a.started_at as "startedAt", a.start_reason as "startReason",
       case when su.id is null then null else json_build_object('id', su.id, 'name', su.name) end as "startedBy",
       a.ended_at as "endedAt", a.end_reason as "endReason",
       case when eu.id is null then null else json_build_object('id', eu.id, 'name', eu.name) end as "endedBy",
       case when r_in.id is null then null
            else json_build_object('deviceId', r_in.old_serial, 'reason', r_in.reason, 'cause', r_in.cause) end as "replaced",
       case when r_out.id is null then null
            else json_build_object('deviceId', r_out.new_serial, 'reason', r_out.reason, 'cause', r_out.cause) end as "replacedBy"
from device_assignments a
join devices d on d.serial = a.serial
join patients p on p.id = a.patient_id
left join users su on su.id = a.started_by
left join users eu on eu.id = a.ended_by
left join device_replacements r_in on a.start_reason = 'replacement' and r_in.new_serial = a.serial
left join device_replacements r_out on a.end_reason = 'retired' and r_out.old_serial = a.serial`;

/** Every meter the patient had, oldest first. */
export async function assignmentsOfPatient(db: Queryable, patientId: string): Promise<AssignmentRecord[]> {
  const found = await db.query<AssignmentRecord>(`${ASSIGNMENTS} where a.patient_id = $1 order by a.started_at, a.id`, [
    patientId,
  ]);
  return found.rows;
}

/** Every patient the meter was with, oldest first (empty for a serial never paired). */
export async function assignmentsOfSerial(db: Queryable, serial: string): Promise<AssignmentRecord[]> {
  const found = await db.query<AssignmentRecord>(`${ASSIGNMENTS} where a.serial = $1 order by a.started_at, a.id`, [
    serial,
  ]);
  return found.rows;
}

/** One replacement as the replacements report lists it. */
export interface ReplacementRecord {
  replacedAt: Date;
  oldDeviceId: string;
  newDeviceId: string;
  kind: DeviceKind;
  reason: ReplacementReason;
  cause: string | null;
  patientId: string;
  patientName: string;
  replacedBy: { id: string; name: string } | null;
}

/** The team's replacements in [from, to), oldest first. */
export async function replacementsOfTeam(
  db: Queryable,
  teamId: string,
  from: Date,
  to: Date,
): Promise<ReplacementRecord[]> {
  const found = await db.query<ReplacementRecord>(
    `select r.replaced_at as "replacedAt", r.old_serial as "oldDeviceId", r.new_serial as "newDeviceId", r.kind,
            r.reason, r.cause, r.patient_id as "patientId", p.display_name as "patientName",
            case when u.id is null then null else json_build_object('id', u.id, 'name', u.name) end as "replacedBy"
     from device_replacements r
     join patients p on p.id = r.patient_id
     left join users u on u.id = r.replaced_by
     where r.team_id = $1 and r.replaced_at >= $2 and r.replaced_at < $3
     order by r.replaced_at, r.id`,
    [teamId, from, to],
  );
  return found.rows;
}
