import type pg from 'pg';
import {
  DEFAULT_THRESHOLDS,
  effectiveThresholds,
  thresholdDeviceKind,
  type TeamThresholds,
  type ThresholdOverrides,
  type Thresholds,
} from '../domain/alert-rules.ts';
import type { DeviceKind } from '../domain/reading.ts';

type Queryable = pg.Pool | pg.PoolClient;

/** A patient's thresholds: the team's defaults, the patient's overrides, and what takes effect. */
export interface PatientThresholds {
  team: TeamThresholds;
  overrides: ThresholdOverrides;
  /** Which of the team's no-data defaults applies (`thresholdDeviceKind`). */
  kind: DeviceKind;
  effective: Thresholds;
  /**
   * The overrides cross the team's values (a team default changed under them): the team's values
   * take effect instead, so the rules still run for the patient (before, the patient's whole batch
   * failed to evaluate); the thresholds API says so.
   */
  conflict: boolean;
}

function effectiveOf(team: TeamThresholds, overrides: ThresholdOverrides, kind: DeviceKind) {
  try {
    return { effective: effectiveThresholds(team, overrides, kind), conflict: false };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const { noDataMinutes } = overrides;
    return { effective: effectiveThresholds(team, { noDataMinutes }, kind), conflict: true };
  }
}

/**
 * The one place the thresholds in effect are read: the board, the patients API, the alert worker
 * and the no-data scan all call this, so they cannot disagree (the rule itself is the domain's
 * `effectiveThresholds` and `thresholdDeviceKind`). Patients not found are absent from the map.
 */
export async function thresholdsOfPatients(
  db: Queryable,
  patientIds: readonly string[],
): Promise<Map<string, PatientThresholds>> {
  const result = new Map<string, PatientThresholds>();
  if (patientIds.length === 0) return result;
  const found = await db.query<{
    patient_id: string;
    urgent_low: number | null;
    low: number | null;
    high: number | null;
    urgent_high: number | null;
    no_data_minutes_bgm: number | null;
    no_data_minutes_cgm: number | null;
    rapid_change_mmol_per_min: number | null;
    p_urgent_low: number | null;
    p_low: number | null;
    p_high: number | null;
    p_urgent_high: number | null;
    p_no_data_minutes: number | null;
    cgm_paired: boolean;
  }>(
    `select p.id as patient_id, t.urgent_low, t.low, t.high, t.urgent_high, t.no_data_minutes_bgm,
            t.no_data_minutes_cgm, t.rapid_change_mmol_per_min,
            o.urgent_low as p_urgent_low, o.low as p_low, o.high as p_high, o.urgent_high as p_urgent_high,
            o.no_data_minutes as p_no_data_minutes, c.paired is not null as cgm_paired
     from patients p
     left join team_thresholds t on t.team_id = p.team_id
     left join patient_thresholds o on o.patient_id = p.id
     -- A lateral probe of the patient's devices, not exists (...): PostgreSQL planned that as a
     -- hashed subplan, a scan of every device of the installation for each evaluation job
     -- (10,030 rows for 41 patients; docs/benchmarks.md, 2026-12-04).
     left join lateral (
       select true as paired from devices d
       where d.patient_id = p.id and d.kind = 'cgm' and d.revoked_at is null
       limit 1
     ) c on true
     where p.id = any($1::uuid[])`,
    [patientIds],
  );
  for (const row of found.rows) {
    const team: TeamThresholds = {
      urgentLow: row.urgent_low ?? DEFAULT_THRESHOLDS.urgentLow,
      low: row.low ?? DEFAULT_THRESHOLDS.low,
      high: row.high ?? DEFAULT_THRESHOLDS.high,
      urgentHigh: row.urgent_high ?? DEFAULT_THRESHOLDS.urgentHigh,
      noDataMinutes: {
        bgm: row.no_data_minutes_bgm ?? DEFAULT_THRESHOLDS.noDataMinutes.bgm,
        cgm: row.no_data_minutes_cgm ?? DEFAULT_THRESHOLDS.noDataMinutes.cgm,
      },
      rapidChangeMmolPerMin: row.rapid_change_mmol_per_min ?? DEFAULT_THRESHOLDS.rapidChangeMmolPerMin,
    };
    const overrides: ThresholdOverrides = {
      urgentLow: row.p_urgent_low,
      low: row.p_low,
      high: row.p_high,
      urgentHigh: row.p_urgent_high,
      noDataMinutes: row.p_no_data_minutes,
    };
    const kind = thresholdDeviceKind(row.cgm_paired);
    result.set(row.patient_id, { team, overrides, kind, ...effectiveOf(team, overrides, kind) });
  }
  return result;
}
