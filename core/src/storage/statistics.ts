import type pg from 'pg';
import { epochMs } from './database.ts';
import type { DeviceKind } from '../domain/reading.ts';
import type { GlucoseReading } from '../domain/statistics.ts';
import type { TargetProfile } from '../domain/targets.ts';

/**
 * What the glucose statistics (core/src/domain/statistics.ts) are computed from: a patient's
 * readings in [from, to) and how the patient is monitored. The arithmetic stays in the domain, so
 * the same numbers come out on both backends; 90 days of CGM is about 26,000 narrow rows.
 */
export interface StatisticsInput {
  /** Oldest first; control-solution readings are left out here already. */
  readings: GlucoseReading[];
  /**
   * 'cgm' when the patient has a CGM paired (not revoked) or any CGM reading in the period, so a
   * sensor that was just revoked still gets its data sufficiency; otherwise 'bgm'.
   */
  monitoring: DeviceKind;
  targetProfile: TargetProfile;
}

export async function statisticsInputOf(
  db: pg.Pool | pg.PoolClient,
  patientId: string,
  from: Date,
  to: Date,
): Promise<StatisticsInput> {
  // Epoch milliseconds made a Date here: pg's timestamptz parse was half of a 90-day summary's time.
  const rows = await db.query<Omit<GlucoseReading, 'measuredAt'> & { ms: number }>(
    `select ${epochMs('measured_at')} as ms, mmol, flag, kind
     from readings
     where patient_id = $1 and measured_at >= $2 and measured_at < $3 and kind <> 'control'
     order by measured_at`,
    [patientId, from, to],
  );
  const readings = rows.rows.map(({ ms, mmol, flag, kind }) => ({ measuredAt: new Date(ms), mmol, flag, kind }));
  const patient = await db.query<{ targetProfile: TargetProfile; cgmPaired: boolean }>(
    `select p.target_profile as "targetProfile",
            exists (select 1 from devices d where d.patient_id = p.id and d.kind = 'cgm' and d.revoked_at is null)
              as "cgmPaired"
     from patients p where p.id = $1`,
    [patientId],
  );
  const { targetProfile = 'standard', cgmPaired = false } = patient.rows[0] ?? {};
  const hasCgm = readings.some((r) => r.kind === 'cgm');
  return { readings, monitoring: hasCgm || cgmPaired ? 'cgm' : 'bgm', targetProfile };
}
