import { z } from 'zod';
import { SEVERITIES } from '../domain/alert-rules.ts';
import { TRIAGE_CATEGORIES } from '../domain/statistics.ts';
import { profileTargetsView, rangeSharesView, targetProfileView, targetSharesView } from './summary.ts';

/**
 * The live board's first paint (`GET /api/board?teamId=`): every patient of the team in the SPEC's
 * triage order (section 3, "The board's order"), with what a row shows. Afterwards the board
 * follows the `/board` socket's events and asks again after every (re)connect. Values are mmol/L
 * and percent at full precision; clients round for display. Only answers live here (names end in
 * `View`): the query is the route's own.
 */

const instant = z.string().describe('ISO-8601, UTC');
const percent = z.number().nullable();

/**
 * A sparkline bin as a tuple, not an object: a 1,000-patient board has some 96,000 of them (as
 * objects with ISO times the answer was 9.8 MB; docs/benchmarks.md).
 */
export const sparkBinView = z
  .tuple([
    z.number().int().describe("Start of the bin, ms since the epoch, on the clock's grid of the bin width"),
    z
      .number()
      .nullable()
      .describe('Mean of the numeric readings in the bin, to 0.01 mmol/L; null if it had only LO/HI'),
    z.number().nullable().describe('Lowest numeric reading'),
    z.number().nullable().describe('Highest numeric reading'),
    z.number().int().describe('Numeric readings in the bin'),
    z.enum(['LO', 'HI']).nullable().describe('A reading in the bin showed LO (or else HI)'),
  ])
  .meta({ id: 'SparkBin', description: '[at, mmol, min, max, count, flag]' });
export type SparkBinView = z.infer<typeof sparkBinView>;

export const boardPatientView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    labels: z.array(z.string()),
    targetProfile: targetProfileView,
    monitoring: z.enum(['bgm', 'cgm']).describe('cgm with a CGM paired or CGM readings in the last 14 days'),
    lastReading: z
      .object({
        measuredAt: instant,
        mmol: z.number().nullable(),
        flag: z.enum(['LO', 'HI']).nullable(),
        kind: z.enum(['bgm', 'cgm']),
        source: z.enum(['device', 'manual', 'import']),
      })
      .nullable()
      .describe('The newest reading, control solution left out; null if there is none'),
    recentCgm: z
      .array(z.object({ measuredAt: instant, mmol: z.number() }))
      .describe('CGM values of the last 20 minutes, oldest first: what a trend arrow is computed from'),
    sparkline: z
      .array(sparkBinView)
      .describe(
        'The last 24 h in bins of sparklineBinMinutes on the clock grid (the first bin holds generatedAt - sparklineHours), empty bins left out, oldest first',
      ),
    statistics: z.object({
      ranges: rangeSharesView.describe('The last 14 days'),
      count: z.number().int(),
      previousRanges: rangeSharesView.describe('The 14 days before those'),
      previousCount: z.number().int(),
      targets: profileTargetsView
        .extend({ shares: targetSharesView, previousShares: targetSharesView })
        .describe("Both periods' shares under the patient's target profile: what the board's range flags judge"),
      dataSufficiency: percent.describe(
        'Percent of the 5-minute slots of the 14 days holding a CGM reading; null without CGM',
      ),
      tooLittleData: z.boolean().describe('Below 70 % of expected CGM readings, or no reading for the no-data period'),
      noDataMinutes: z.number().int().describe('The no-data period in effect for the patient'),
    }),
    alerts: z.object({
      open: z.number().int(),
      acknowledged: z.number().int(),
      worstSeverity: z.enum(SEVERITIES).nullable().describe('Of the open and acknowledged alerts'),
      escalated: z.boolean().describe('An open or acknowledged alert of the patient is escalated'),
    }),
    lastReviewed: z.object({ at: instant, by: z.object({ id: z.uuid(), name: z.string() }).nullable() }).nullable(),
    responsiblePhysician: z
      .object({ id: z.uuid(), name: z.string() })
      .nullable()
      .describe("The patient's responsible physician; null for none"),
    triage: z.object({
      category: z.enum(TRIAGE_CATEGORIES),
      rank: z.number().int().describe('Position of the category in the triage order: lower is more urgent'),
      since: instant
        .nullable()
        .describe('For alert categories, when the oldest alert of that severity and state (open, acknowledged) opened'),
      measure: z
        .number()
        .nullable()
        .describe('For range categories, the share that flagged the patient (percent, or TIR points lost)'),
    }),
  })
  .meta({ id: 'BoardPatient' });
export type BoardPatientView = z.infer<typeof boardPatientView>;

export const boardView = z
  .object({
    teamId: z.uuid(),
    generatedAt: instant.describe('When the answer was made: readings, sparklines and alerts are as of then'),
    statisticsAt: instant.describe(
      'End of the statistics periods (time in ranges, data sufficiency): under two minutes before generatedAt (counted at most once a minute, and served for one more while they are counted again)',
    ),
    days: z.number().int().describe('Days of the statistics period (14)'),
    sparklineHours: z.number().int(),
    sparklineBinMinutes: z.number().int(),
    patients: z.array(boardPatientView).describe('Most urgent first'),
  })
  .meta({ id: 'Board', description: "A team's live board: its patients in triage order" });
export type BoardView = z.infer<typeof boardView>;
