import { createHash } from 'node:crypto';
import type { GlucoseSummary } from '../../domain/statistics.ts';
import { cgmProfile, LOINC_CODES, RANGE_COMPONENTS, SUMMARY_MEMBERS, UCUM, type SummaryMember } from './codes.ts';
import { LABORATORY, loinc, mmolQuantity } from './observations.ts';
import type { Observation, Quantity } from './resources.ts';

/** The IG: "Percent of time, with at least two decimal places of precision". */
const percent = (value: number): Quantity => ({
  value: Math.round(value * 100) / 100,
  unit: '%',
  system: UCUM,
  code: '%',
});

export interface CgmSummaryInput {
  patientId: string;
  /** [from, to): the period the statistics were computed over. */
  from: Date;
  to: Date;
  /** From `summarize` (core/src/domain/statistics.ts), the same numbers as GET /api/patients/:id/summary. */
  summary: GlucoseSummary;
  /** From `cgmDaysOfWear`. */
  daysOfWear: number;
}

/** Why no summary can be made: the IG requires GMI, CV and sensor activity, which need CGM readings. */
export type CgmSummaryRefusal = 'NO_CGM_DATA' | 'TOO_FEW_READINGS';

/**
 * Ids of a summary and its members: derived from the patient and the period, so the same summary
 * asked for again has the same ids; they tell nothing about the patient.
 */
function summaryId(input: CgmSummaryInput, part: string): string {
  const digest = createHash('sha256')
    .update(`${input.patientId}|${input.from.toISOString()}|${input.to.toISOString()}|${part}`)
    .digest('hex');
  return `s-${digest.slice(0, 40)}`;
}

/**
 * The HL7 CGM IG's summary (cgm-summary, LOINC 107931-8) over a period, with its members: mean
 * glucose (molar), times in ranges (106793-3 and its five components), GMI, CV, days of wear and
 * sensor active percentage. Returns the summary first, then the members it references; or why no
 * summary can be made (every member's value is required by its profile).
 */
export function cgmSummaryObservations(input: CgmSummaryInput): Observation[] | { refused: CgmSummaryRefusal } {
  const { summary } = input;
  if (summary.dataSufficiency === null || input.daysOfWear === 0) return { refused: 'NO_CGM_DATA' };
  if (summary.mean === null || summary.gmi === null || summary.cv === null || summary.ranges.inRange === null)
    return { refused: 'TOO_FEW_READINGS' };
  const ranges = summary.ranges;
  const period = { start: input.from.toISOString(), end: input.to.toISOString() };
  const member = (name: SummaryMember, body: Pick<Observation, 'valueQuantity' | 'component'>): Observation => ({
    resourceType: 'Observation',
    id: summaryId(input, name),
    meta: { profile: [cgmProfile(SUMMARY_MEMBERS[name].profile)] },
    status: 'final',
    category: LABORATORY,
    code: loinc(SUMMARY_MEMBERS[name].code),
    subject: { reference: `Patient/${input.patientId}` },
    effectivePeriod: period,
    ...body,
  });
  const members: Observation[] = [
    member('meanMolar', { valueQuantity: mmolQuantity(Math.round(summary.mean * 100) / 100) }),
    member('timesInRanges', {
      component: (Object.keys(RANGE_COMPONENTS) as Array<keyof typeof RANGE_COMPONENTS>).map((range) => ({
        code: loinc(RANGE_COMPONENTS[range]),
        valueQuantity: percent(ranges[range] ?? 0),
      })),
    }),
    member('gmi', { valueQuantity: percent(summary.gmi) }),
    member('cv', { valueQuantity: percent(summary.cv) }),
    member('daysOfWear', { valueQuantity: { value: input.daysOfWear, unit: 'days', system: UCUM, code: 'd' } }),
    member('sensorActive', { valueQuantity: percent(summary.dataSufficiency) }),
  ];
  const grouping: Observation = {
    resourceType: 'Observation',
    id: summaryId(input, 'summary'),
    meta: { profile: [cgmProfile('cgm-summary')] },
    status: 'final',
    category: LABORATORY,
    code: loinc(LOINC_CODES.summary),
    subject: { reference: `Patient/${input.patientId}` },
    effectivePeriod: period,
    hasMember: members.map((m) => ({ reference: `Observation/${m.id}` })),
  };
  return [grouping, ...members];
}
