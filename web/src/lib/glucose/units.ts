/**
 * Glucose values for display: the consensus range of a value (the domain's own `glucoseRange`), the
 * unit the user chose (mmol/L, or mg/dL = mmol/L x MGDL_PER_MMOL), and reading typed-in values.
 */
import { MGDL_PER_MMOL, glucoseRange, mgdlToMmol, type GlucoseRange, type MeterFlag } from '@glucoboard/core/domain';

export const UNITS = ['mmol', 'mgdl'] as const;
export type GlucoseUnit = (typeof UNITS)[number];
export const UNIT_LABELS: Record<GlucoseUnit, string> = { mmol: 'mmol/L', mgdl: 'mg/dL' };

export const isUnit = (value: unknown): value is GlucoseUnit =>
  typeof value === 'string' && (UNITS as readonly string[]).includes(value);

/** A value in the unit: mmol/L keep one decimal, mg/dL are whole numbers. */
export function inUnit(mmol: number, unit: GlucoseUnit): number {
  return unit === 'mmol' ? Math.round(mmol * 10) / 10 : Math.round(mmol * MGDL_PER_MMOL);
}

/** A value (or a rate) in the unit, unrounded. */
export function toUnit(mmol: number, unit: GlucoseUnit): number {
  return unit === 'mmol' ? mmol : mmol * MGDL_PER_MMOL;
}

/** A value as text in the locale ("6,5" in Swedish), or the meter's LO/HI. */
export function formatGlucose(
  value: { mmol: number | null; flag?: MeterFlag | null },
  unit: GlucoseUnit,
  locale: string,
): string {
  if (value.flag) return value.flag;
  if (value.mmol === null) return '–';
  const digits = unit === 'mmol' ? 1 : 0;
  return new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(
    inUnit(value.mmol, unit),
  );
}

/** The range of a reading, or null for none. */
export function rangeOf(value: { mmol: number | null; flag?: MeterFlag | null } | null): GlucoseRange | null {
  if (!value || (value.mmol === null && !value.flag)) return null;
  return glucoseRange(value.flag ? null : value.mmol, value.flag ?? null);
}

/**
 * A typed-in value in the unit ("6,5" or "6.5" mmol/L, "117" mg/dL) as mmol/L with one decimal, as a
 * meter shows it; null when it is not a positive number.
 */
export function parseGlucose(text: string, unit: GlucoseUnit): number | null {
  const normalised = text.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(normalised)) return null;
  const value = Number(normalised);
  if (!(value > 0)) return null;
  const mmol = unit === 'mmol' ? value : mgdlToMmol(value);
  return Math.round(mmol * 10) / 10;
}

/** A number with exactly `digits` decimals in the locale, ungrouped (what an input field holds). */
const fixed = (value: number, digits: number, locale: string) =>
  new Intl.NumberFormat(locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(value);

/** A value for an input field in the unit: "6,5" mmol/L or "117" mg/dL. */
export const glucoseInput = (mmol: number, unit: GlucoseUnit, locale: string): string =>
  fixed(inUnit(mmol, unit), unit === 'mmol' ? 1 : 0, locale);

/** A rate of change per minute in the unit: mmol/L with two decimals, mg/dL with one. */
export const rateInput = (mmolPerMin: number, unit: GlucoseUnit, locale: string): string =>
  fixed(toUnit(mmolPerMin, unit), unit === 'mmol' ? 2 : 1, locale);

/** A typed-in rate per minute in the unit as mmol/L per minute with two decimals; null if not a number. */
export function parseRate(text: string, unit: GlucoseUnit): number | null {
  const normalised = text.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(normalised)) return null;
  const value = Number(normalised);
  const mmol = unit === 'mmol' ? value : mgdlToMmol(value);
  return Math.round(mmol * 100) / 100;
}

/**
 * The bounds of a range as text in the unit: "3,9–10,0" or "70–180"; "< 3,0" below and "> 13,9"
 * above. A range runs from its lower edge up to one step (0.1 mmol/L, 1 mg/dL) below its upper
 * edge unless `upTo` includes the upper edge itself (the target band does).
 */
export function boundsText(
  low: number | null,
  high: number | null,
  unit: GlucoseUnit,
  locale: string,
  { fromAbove = false, upTo = false }: { fromAbove?: boolean; upTo?: boolean } = {},
): string {
  const step = unit === 'mmol' ? 0.1 : 1;
  const show = (value: number) => fixed(value, unit === 'mmol' ? 1 : 0, locale);
  if (low === null && high !== null) return `< ${show(inUnit(high, unit))}`;
  if (high === null && low !== null) return `> ${show(inUnit(low, unit))}`;
  if (low === null || high === null) return '–';
  const from = inUnit(low, unit) + (fromAbove ? step : 0);
  const to = inUnit(high, unit) - (upTo ? 0 : step);
  return `${show(Math.round(from * 10) / 10)}–${show(Math.round(to * 10) / 10)}`;
}
