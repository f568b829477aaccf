import { z } from 'zod';
import { GRI_ZONES } from '../domain/statistics.ts';
import { TARGET_PROFILES } from '../domain/targets.ts';

/**
 * Glucose statistics on the wire (SPEC section 4, `GET /api/patients/:id/summary?days=14`):
 * `{ mean, sd, cv, gmi, gmiMmolMol, gri, ranges: { veryLow, low, inRange, high, veryHigh }, count }`
 * is the contract; the rest are additions. Values are full precision (clients round for display),
 * in mmol/L and percent as core/src/domain/statistics.ts describes them. Queries follow the style
 * of people.ts: strict objects, numbers coerced from query text, errors through `validationError`.
 */

export const SUMMARY_DAYS_DEFAULT = 14;
/** As far back as readings are accepted (MAX_READING_AGE_MS): a longer period would be padded with nothing. */
export const SUMMARY_DAYS_MAX = 90;

/** Query strings carry numbers as text. */
const days = z.coerce
  .number()
  .int()
  .min(1)
  .max(SUMMARY_DAYS_MAX)
  .default(SUMMARY_DAYS_DEFAULT)
  .describe(`Length of the period in days of 24 h back from now (1-${SUMMARY_DAYS_MAX}, default 14)`);

export const summaryQuery = z
  .strictObject({ days })
  .meta({ id: 'SummaryQuery', description: 'Period of a glucose summary: the last `days` days' });
export type SummaryQuery = z.infer<typeof summaryQuery>;

/** Bin widths offered for the AGP: each divides a day. */
export const AGP_BIN_MINUTES = [5, 10, 15, 20, 30, 60] as const;

export const agpQuery = z
  .strictObject({
    days,
    binMinutes: z.coerce
      .number()
      .int()
      .refine((value) => (AGP_BIN_MINUTES as readonly number[]).includes(value), {
        message: `must be one of ${AGP_BIN_MINUTES.join(', ')}`,
      })
      .default(15)
      .describe(`Width of a time-of-day bin in minutes (${AGP_BIN_MINUTES.join(', ')}; default 15)`),
  })
  .meta({ id: 'AgpQuery', description: 'Period and bin width of an ambulatory glucose profile' });
export type AgpQuery = z.infer<typeof agpQuery>;

const percent = z.number().nullable();

/** Percent of readings per consensus range (the board and the summary show the same). */
export const rangeSharesView = z
  .object({
    veryLow: percent.describe('< 3.0 mmol/L or LO'),
    low: percent.describe('3.0-3.8'),
    inRange: percent.describe('3.9-10.0'),
    high: percent.describe('10.1-13.9'),
    veryHigh: percent.describe('> 13.9 or HI'),
  })
  .describe('Percent of readings in each consensus range; null when there are none');
const mmol = z.number().nullable();

export const targetProfileView = z
  .enum(TARGET_PROFILES)
  .describe(
    'Consensus targets: standard (3.9-10.0 over 70 %), older_high_risk (3.9-10.0 over 50 %) or pregnancy (type 1: 3.5-7.8 over 70 %)',
  );

const shareLimit = z
  .union([z.object({ under: z.number() }), z.object({ over: z.number() })])
  .nullable()
  .describe('The share must stay under, or go over, this percent; null where the profile sets no limit');

const targetShareFields = <T extends z.ZodType>(field: T) => ({
  veryLow: field.describe('< 3.0 mmol/L or LO'),
  belowRange: field.describe('Below the target band (very low included)'),
  inRange: field.describe('In the target band, both ends included'),
  aboveRange: field.describe('Above the target band (very high included)'),
  veryHigh: field.describe('> 13.9 mmol/L or HI'),
});

/** Percent of readings per share of the patient's target profile. */
export const targetSharesView = z.object(targetShareFields(percent));

/** What a target profile asks: the band and the limit of each share. */
export const profileTargetsView = z.object({
  band: z.object({ low: z.number(), high: z.number() }).describe('The target band, mmol/L'),
  limits: z.object(targetShareFields(shareLimit)),
});

/** A period judged by the patient's own target profile. */
export const targetAssessmentView = profileTargetsView
  .extend({
    profile: targetProfileView,
    shares: targetSharesView,
    within: z
      .object(targetShareFields(z.boolean().nullable()))
      .describe('Each share within its limit; null where none'),
    met: z.boolean().nullable().describe('Every limit of the profile met; null without readings'),
  })
  .meta({ id: 'TargetAssessment' });
const instant = z.string().describe('ISO-8601, UTC');

const period = {
  days: z.number().int().describe('Length of the period in days'),
  from: instant.describe('Start of the period, inclusive'),
  to: instant.describe('End of the period, exclusive (the time of the request)'),
};

export const glucoseSummaryView = z
  .object({
    mean: mmol.describe('Mean glucose, mmol/L; null without numeric readings (LO/HI carry no number)'),
    sd: mmol.describe('Sample standard deviation, mmol/L; null with fewer than two numeric readings'),
    cv: percent.describe('Coefficient of variation, percent (target <= 36 %)'),
    gmi: percent.describe('Glucose management indicator, percent: 3.31 + 0.02392 x mean mg/dL'),
    gmiMmolMol: z.number().nullable().describe('Glucose management indicator, mmol/mol: 12.71 + 4.70587 x mean'),
    gri: z
      .number()
      .nullable()
      .describe('Glycemia risk index 0-100: 3.0 x %veryLow + 2.4 x %low + 1.6 x %veryHigh + 0.8 x %high, capped'),
    griZone: z.enum(GRI_ZONES).nullable().describe('A [0, 20], B (20, 40], C (40, 60], D (60, 80], E (80, 100]'),
    ranges: rangeSharesView,
    targets: targetAssessmentView.describe("The period judged by the patient's target profile"),
    count: z.number().int().describe('Readings in the period, LO/HI included, control solution excluded'),
    readingsPerDay: z.number(),
    dataSufficiency: percent.describe(
      'Percent of the 5-minute slots of the period holding a CGM reading (consensus: >= 70 %); null without CGM',
    ),
    monitoring: z.enum(['bgm', 'cgm']).describe('How the patient is monitored, which decides dataSufficiency'),
    ...period,
  })
  .meta({ id: 'GlucoseSummary', description: 'Glucose statistics of a period (International Consensus 2019)' });
export type GlucoseSummaryView = z.infer<typeof glucoseSummaryView>;

export const agpBinView = z.object({
  minuteOfDay: z.number().int().describe('Start of the bin, minutes after midnight Swedish local time'),
  count: z.number().int().describe('Numeric readings in the bin over the period'),
  p5: mmol,
  p25: mmol,
  p50: mmol,
  p75: mmol,
  p95: mmol,
});

export const ambulatoryProfileView = z
  .object({
    binMinutes: z.number().int(),
    bins: z.array(agpBinView).describe('Every bin of the day from midnight; null percentiles where a bin is empty'),
    ...period,
  })
  .meta({
    id: 'AmbulatoryGlucoseProfile',
    description: 'Percentiles (type 7, linear interpolation) of glucose by time of day over the period, mmol/L',
  });
export type AmbulatoryProfileView = z.infer<typeof ambulatoryProfileView>;
