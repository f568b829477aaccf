import type { MeterFlag } from './reading.ts';

/**
 * Glucose ranges of the International Consensus on Time in Range (2019), mmol/L:
 * very low < 3.0, low 3.0-3.8, in range 3.9-10.0, high 10.1-13.9, very high > 13.9.
 * Values between the one-decimal steps (CGM) fall on the side their bound implies.
 * The rollups in storage migration 003 count with the same bounds.
 */
export const RANGE_BOUNDS = {
  veryLowBelow: 3.0,
  lowBelow: 3.9,
  inRangeUpTo: 10.0,
  highUpTo: 13.9,
} as const;

export const GLUCOSE_RANGES = ['veryLow', 'low', 'inRange', 'high', 'veryHigh'] as const;
export type GlucoseRange = (typeof GLUCOSE_RANGES)[number];

/** The range of one reading; a meter's LO counts as very low and HI as very high. */
export function glucoseRange(mmol: number | null, flag: MeterFlag | null = null): GlucoseRange {
  if (mmol === null) {
    if (flag === 'LO') return 'veryLow';
    if (flag === 'HI') return 'veryHigh';
    throw new RangeError('a reading without a value must carry the flag LO or HI');
  }
  if (mmol < RANGE_BOUNDS.veryLowBelow) return 'veryLow';
  if (mmol < RANGE_BOUNDS.lowBelow) return 'low';
  if (mmol <= RANGE_BOUNDS.inRangeUpTo) return 'inRange';
  if (mmol <= RANGE_BOUNDS.highUpTo) return 'high';
  return 'veryHigh';
}

/** mg/dL = mmol/L x 18.0156 (SPEC), for the optional mg/dL view and Nightscout's sgv. */
export const MGDL_PER_MMOL = 18.0156;
export const mmolToMgdl = (mmol: number): number => mmol * MGDL_PER_MMOL;
export const mgdlToMmol = (mgdl: number): number => mgdl / MGDL_PER_MMOL;
