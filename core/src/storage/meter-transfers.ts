import type pg from 'pg';

/**
 * The meter page's reads (migration 014): who read which meter for which patient, and the counts
 * of what was stored. The readings go the device ingest path; this is only the record of the read.
 */

type Db = pg.Pool | pg.PoolClient;

export interface MeterTransferToRecord {
  deviceSerial: string;
  patientId: string;
  teamId: string;
  readBy: string;
  seqFrom: number | null;
  seqTo: number | null;
  readings: number;
  accepted: number;
  duplicates: number;
  rejected: number;
}

export interface MeterTransfer extends MeterTransferToRecord {
  id: number;
  at: Date;
  readByName: string | null;
}

export async function recordMeterTransfer(db: Db, transfer: MeterTransferToRecord): Promise<number> {
  const made = await db.query<{ id: string }>(
    `insert into meter_transfers (device_serial, patient_id, team_id, read_by, seq_from, seq_to, readings, accepted,
                                  duplicates, rejected)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id`,
    [
      transfer.deviceSerial,
      transfer.patientId,
      transfer.teamId,
      transfer.readBy,
      transfer.seqFrom,
      transfer.seqTo,
      transfer.readings,
      transfer.accepted,
      transfer.duplicates,
      transfer.rejected,
    ],
  );
  return Number(made.rows[0]!.id);
}

/** The patient's meter reads, newest first (at most `limit`). */
export async function meterTransfersOfPatient(db: Db, patientId: string, limit = 50): Promise<MeterTransfer[]> {
  const found = await db.query<
    Omit<MeterTransfer, 'id' | 'seqFrom' | 'seqTo'> & { id: string; seqFrom: string | null; seqTo: string | null }
  >(
    `select t.id, t.at, t.device_serial as "deviceSerial", t.patient_id as "patientId", t.team_id as "teamId",
            t.read_by as "readBy", u.name as "readByName", t.seq_from as "seqFrom", t.seq_to as "seqTo",
            t.readings, t.accepted, t.duplicates, t.rejected
     from meter_transfers t left join users u on u.id = t.read_by
     where t.patient_id = $1 order by t.at desc, t.id desc limit $2`,
    [patientId, limit],
  );
  return found.rows.map((row) => ({
    ...row,
    id: Number(row.id),
    seqFrom: row.seqFrom === null ? null : Number(row.seqFrom),
    seqTo: row.seqTo === null ? null : Number(row.seqTo),
  }));
}

/**
 * The highest sequence number Glucoboard holds for the meter ("since the last one Glucoboard
 * has"): the next read asks the meter for records from the one after it. Null: none yet.
 */
export async function highestStoredSeq(db: Db, deviceSerial: string): Promise<number | null> {
  const found = await db.query<{ seq: string | null }>(
    'select max(seq) as seq from reading_keys where device_serial = $1',
    [deviceSerial],
  );
  const seq = found.rows[0]?.seq ?? null;
  return seq === null ? null : Number(seq);
}
