/** Vocabulary of a glucose reading (SPEC section 3). Values are mmol/L. */

export const READING_KINDS = ['bgm', 'cgm', 'control'] as const;
export type ReadingKind = (typeof READING_KINDS)[number];

export const DEVICE_KINDS = ['bgm', 'cgm'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** What the meter displays instead of a number when the value is beyond its measuring range. */
export const METER_FLAGS = ['LO', 'HI'] as const;
export type MeterFlag = (typeof METER_FLAGS)[number];

export const MEAL_MARKERS = ['before', 'after'] as const;
export type MealMarker = (typeof MEAL_MARKERS)[number];

export const READING_SOURCES = ['device', 'manual', 'import'] as const;
export type ReadingSource = (typeof READING_SOURCES)[number];

/** A reading as a device sent it, once validated. */
export interface DeviceReading {
  seq: number;
  measuredAt: Date;
  mmol: number | null;
  flag: MeterFlag | null;
  kind: ReadingKind;
  meal: MealMarker | null;
}

/**
 * What makes two readings under one (deviceId, seq) "the same": a resend must match it exactly to
 * count as a duplicate; anything else is a SEQ_CONFLICT. The instant is compared, not its text,
 * so a resend with another UTC offset is still the same reading.
 */
export function readingFingerprint(r: Omit<DeviceReading, 'seq'>): string {
  return `${r.measuredAt.getTime()}|${r.mmol ?? ''}|${r.flag ?? ''}|${r.kind}|${r.meal ?? ''}`;
}
