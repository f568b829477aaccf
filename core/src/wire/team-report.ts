import { z } from 'zod';
import { ALERT_RULES, SEVERITIES } from '../domain/alert-rules.ts';
import { READING_SOURCES } from '../domain/reading.ts';
import { TRIAGE_CATEGORIES } from '../domain/statistics.ts';
import { calendarDayIndex, REPORT_MAX_DAYS, type PeriodBound, type TeamReport } from '../domain/team-report.ts';
import { csvDocument } from './csv.ts';
import { targetProfileView, targetSharesView } from './summary.ts';

/**
 * A care team's follow-up report (`GET /api/teams/:teamId/report?from=&to=&format=`), issue 15:
 * `{ period, patients, withPhysician, labels, targets, alerts, readings }` are fixed (more fields
 * may be added, none renamed); everything else is an addition for the report page. Counts are of
 * patients (or alerts, readings), never percentages, so that anyone can compute shares. The
 * arithmetic is core/src/domain/team-report.ts's; its module comment says what each count counts.
 */

const ISO_INSTANT = z.iso.datetime({ offset: true });

/** An ISO-8601 instant with offset, or a Swedish calendar day (YYYY-MM-DD). */
const periodBound = z
  .string()
  .refine((value) => ISO_INSTANT.safeParse(value).success || calendarDayIndex(value) !== null, {
    message: 'must be an ISO-8601 date-time with offset or a date YYYY-MM-DD',
  })
  .transform(
    (value): PeriodBound => (calendarDayIndex(value) !== null ? { day: value } : { instant: new Date(value) }),
  );

export const teamReportQuery = z
  .strictObject({
    from: periodBound.optional().describe('Start, inclusive: an instant, or a day from its Swedish midnight'),
    to: periodBound
      .optional()
      .describe('End, exclusive: an instant, or a day included whole (default: now; from defaults to 28 days before)'),
    format: z.enum(['json', 'csv']).default('json').describe('csv: one row per patient (docs/follow-up.md)'),
  })
  .meta({
    id: 'TeamReportQuery',
    description: `Period of a team report: [from, to), at most ${REPORT_MAX_DAYS} days (PERIOD_REVERSED, PERIOD_TOO_LONG)`,
  });
export type TeamReportQuery = z.infer<typeof teamReportQuery>;

const count = z.number().int().min(0);
const instant = z.string().describe('ISO-8601, UTC');
const physician = z
  .object({
    id: z.uuid(),
    name: z.string(),
    teamPhysician: z.boolean().describe('The user is a physician of the team now (only then counted in withPhysician)'),
  })
  .nullable();

const followUpRowView = z.object({
  id: z.uuid(),
  name: z.string(),
  labels: z.array(z.string()),
  targetProfile: targetProfileView,
  responsiblePhysician: physician,
  monitoring: z.enum(['bgm', 'cgm']),
  readings: count.describe('Readings in the period, control solution left out'),
  shares: targetSharesView.describe("Percent of the period's readings under the patient's own profile"),
  previousInRange: z.number().nullable().describe('TIR of the equally long period before'),
  met: z.object({
    tir: z.boolean().nullable(),
    below: z.boolean().nullable().describe('Every limit below the band met'),
    above: z.boolean().nullable().describe('Every limit above the band met'),
  }),
  dataSufficiency: z.number().nullable().describe('Percent of 5-minute slots with a CGM reading; null without CGM'),
  sufficientData: z.boolean().describe('CGM with at least 70 % data sufficiency'),
  alerts: z.object({ opened: count, critical: count, unresolvedAtEnd: count }),
  triage: z.object({
    category: z.enum(TRIAGE_CATEGORIES),
    rank: z.number().int(),
    since: instant.nullable(),
    measure: z.number().nullable(),
  }),
});

const recordOf = <K extends string>(keys: readonly [K, ...K[]]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, count])) as Record<K, typeof count>);

export const teamReportView = z
  .object({
    period: z.object({ from: instant, to: instant.describe('Exclusive') }),
    days: z.number().describe('Length of the period in days of 24 h'),
    patients: count.describe("The team's patients (responsible team)"),
    withPhysician: count.describe('Patients whose responsible physician is a physician of the team'),
    labels: z.array(z.object({ label: z.string(), patients: count, withPhysician: count })),
    targets: z.object({
      evaluated: count.describe('Patients with any reading in the period'),
      tirMet: count,
      belowMet: count,
      aboveMet: count,
      sufficientData: count.describe('CGM wearers with >= 70 % of expected readings'),
      cgm: count.describe('Patients monitored by CGM in the period'),
      allMet: count.describe('Patients meeting every limit of their profile'),
    }),
    alerts: z.object({
      opened: count,
      bySeverity: recordOf(SEVERITIES),
      byRule: recordOf(ALERT_RULES),
      acknowledged: count,
      escalated: count,
      medianMinutesToAck: z.number().nullable(),
      retrospective: count.describe('Backfilled episodes: recorded, never paged; not in the response times'),
      ackTimes: z.object({
        buckets: z.array(z.object({ upToMinutes: z.number().nullable().describe('null: longer'), alerts: count })),
        unacknowledged: count,
      }),
    }),
    readings: z.object({ total: count, bySource: recordOf(READING_SOURCES) }),
    tirDistribution: z.array(z.object({ from: z.number(), to: z.number(), patients: count })),
    followUp: z.array(followUpRowView).describe('Every patient, most in need of follow-up first (the triage order)'),
  })
  .meta({ id: 'TeamReport', description: "A team's follow-up report over a period" });
export type TeamReportView = z.infer<typeof teamReportView>;

// Compile-time check: the domain's report is the wire's.
const _sameShape: TeamReportView = {} as TeamReport;
void _sameShape;

/** Columns of the CSV export, one row per patient in the follow-up order. */
export const TEAM_REPORT_CSV_COLUMNS = [
  'period_from',
  'period_to',
  'patient_id',
  'patient_name',
  'labels',
  'responsible_physician',
  'target_profile',
  'monitoring',
  'readings',
  'very_low_pct',
  'below_range_pct',
  'in_range_pct',
  'above_range_pct',
  'very_high_pct',
  'previous_in_range_pct',
  'tir_met',
  'below_met',
  'above_met',
  'data_sufficiency_pct',
  'sufficient_data',
  'alerts_opened',
  'alerts_critical',
  'follow_up',
] as const;

const oneDecimal = (value: number | null) => (value === null ? '' : Math.round(value * 10) / 10);
const yesNo = (value: boolean | null) => (value === null ? '' : value ? 'yes' : 'no');

/** The report as CSV (csv.ts: RFC 4180 quoting, formula-looking cells neutralised); percents to one decimal. */
export function teamReportCsv(report: TeamReportView): string {
  return csvDocument(
    TEAM_REPORT_CSV_COLUMNS,
    report.followUp.map((r) => [
      report.period.from,
      report.period.to,
      r.id,
      r.name,
      r.labels.join('; '),
      r.responsiblePhysician?.name ?? '',
      r.targetProfile,
      r.monitoring,
      r.readings,
      oneDecimal(r.shares.veryLow),
      oneDecimal(r.shares.belowRange),
      oneDecimal(r.shares.inRange),
      oneDecimal(r.shares.aboveRange),
      oneDecimal(r.shares.veryHigh),
      oneDecimal(r.previousInRange),
      yesNo(r.met.tir),
      yesNo(r.met.below),
      yesNo(r.met.above),
      oneDecimal(r.dataSufficiency),
      yesNo(r.sufficientData),
      r.alerts.opened,
      r.alerts.critical,
      r.triage.category,
    ]),
  );
}
