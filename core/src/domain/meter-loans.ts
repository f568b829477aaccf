import type { DeviceKind } from './reading.ts';
import { swedishLocalTime, swedishUtcOffsetMinutes } from './swedish-time.ts';

/**
 * Lent meters (docs/follow-up.md, "Meters"): a meter goes from patient to patient, and each reading
 * belongs to the patient who had the meter when it was measured.
 *
 * The rule for a meter's memory: a meter handed on still holds its previous patient's readings,
 * and its new patient's phone uploads the whole memory. A reading measured before the meter's
 * current assignment began, on a meter that was with another patient before, is refused with
 * BEFORE_ASSIGNMENT, neither stored for the new patient (a previous patient's hypo must never alert
 * on the new one) nor filed for the previous one (the new patient's credential writes only to its
 * own patient, and a meter clock running behind would otherwise file the new patient's readings,
 * and their alerts, with someone else). A meter's first assignment keeps its older readings: they
 * are its first patient's own.
 */

export const REPLACEMENT_REASONS = ['defect', 'lost', 'complaint', 'battery', 'other'] as const;
export type ReplacementReason = (typeof REPLACEMENT_REASONS)[number];

/** The per-reading code of a reading measured before its meter came to its current patient. */
export const BEFORE_ASSIGNMENT = 'BEFORE_ASSIGNMENT';

/**
 * Whether a reading measured at `measuredAt` is the current patient's. `acceptsReadingsFrom` is
 * when the meter's current assignment began, or null when the meter was never with anyone else
 * (then every reading is the current patient's).
 */
export function measuredInCurrentAssignment(measuredAt: Date, acceptsReadingsFrom: Date | null): boolean {
  return acceptsReadingsFrom === null || measuredAt.getTime() >= acceptsReadingsFrom.getTime();
}

/** One replacement as the report counts it. */
export interface ReplacementFact {
  reason: ReplacementReason;
  kind: DeviceKind;
}

export type CountsByKind = Record<DeviceKind, number>;

export interface ReplacementTally {
  total: number;
  byKind: CountsByKind;
  byReason: Record<ReplacementReason, CountsByKind & { total: number }>;
}

/** Replacements counted by reason and kind; every reason and kind is present, zero or not. */
export function tallyReplacements(facts: readonly ReplacementFact[]): ReplacementTally {
  const byReason = Object.fromEntries(REPLACEMENT_REASONS.map((r) => [r, { total: 0, bgm: 0, cgm: 0 }])) as Record<
    ReplacementReason,
    CountsByKind & { total: number }
  >;
  const byKind: CountsByKind = { bgm: 0, cgm: 0 };
  for (const fact of facts) {
    byReason[fact.reason].total++;
    byReason[fact.reason][fact.kind]++;
    byKind[fact.kind]++;
  }
  return { total: facts.length, byKind, byReason };
}

/** Midnight of 1 January, Swedish time, of the year holding `at`: the report's default start. */
export function startOfSwedishYear(at: Date): Date {
  const year = new Date(at.getTime() + swedishUtcOffsetMinutes(at) * 60_000).getUTCFullYear();
  return new Date(swedishLocalTime(Date.UTC(year, 0, 1) / 86_400_000, 0));
}
