import { z } from 'zod';
import { REPLACEMENT_REASONS, startOfSwedishYear } from '../domain/meter-loans.ts';
import { newDeviceBody } from './people.ts';

/**
 * Lending and replacing meters (docs/follow-up.md, "Meters"): the bodies of the loan and the
 * replacement, the histories' and the replacements report's answers, and the report's CSV columns.
 */

const serial = newDeviceBody.shape.serial;

export const lendDeviceBody = z
  .strictObject({
    patientId: z.uuid().describe('The patient who gets the meter now'),
  })
  .meta({ id: 'DeviceLoan', description: 'Lend the meter on to another patient (team admins of both)' });
export type LendDevice = z.infer<typeof lendDeviceBody>;

/** A complaint (reklamation) goes to the supplier: its cause in words is required. */
export const replaceDeviceBody = z
  .strictObject({
    newSerial: serial.describe("The new meter's serial number (never paired before); it becomes its deviceId"),
    reason: z.enum(REPLACEMENT_REASONS).describe('defect, lost, complaint (reklamation), battery or other'),
    cause: z
      .string()
      .trim()
      .max(1000)
      .nullable()
      .optional()
      .transform((text) => (text ? text : null))
      .describe('What was wrong, in words; required for a complaint'),
  })
  .superRefine((body, ctx) => {
    if (body.reason === 'complaint' && !body.cause)
      ctx.addIssue({
        code: 'custom',
        path: ['cause'],
        message: 'a complaint needs its cause in words, for the supplier',
      });
  })
  .meta({ id: 'DeviceReplacement', description: 'Replace a meter: the new one takes over the patient' });
export type ReplaceDevice = z.infer<typeof replaceDeviceBody>;

const isoDateTime = z.iso.datetime({ offset: true });

export const REPLACEMENTS_FORMATS = ['json', 'csv'] as const;

/** `?from&to&format` of the replacements report, against a clock: this year until now by default. */
export function deviceReplacementsQueryAt(now: () => Date) {
  return z
    .strictObject({
      from: isoDateTime.optional().describe('Start, inclusive (default: 1 January this year, Swedish time)'),
      to: isoDateTime.optional().describe('End, exclusive (default: now)'),
      format: z.enum(REPLACEMENTS_FORMATS).optional().describe('json (the default) or csv'),
    })
    .transform((query, ctx) => {
      const to = query.to === undefined ? now() : new Date(query.to);
      const from = query.from === undefined ? startOfSwedishYear(to) : new Date(query.from);
      if (from.getTime() >= to.getTime()) {
        ctx.addIssue({ code: 'custom', path: ['from'], input: query, message: 'must be before to' });
        return z.NEVER;
      }
      return { from, to, format: query.format ?? 'json' };
    });
}

export const deviceReplacementsQuery = deviceReplacementsQueryAt(() => new Date()).meta({
  id: 'DeviceReplacementsQuery',
  description: 'Period [from, to) of the replacements report, and its format',
});
export type DeviceReplacementsQuery = z.infer<typeof deviceReplacementsQuery>;

const person = z.object({ id: z.string(), name: z.string() }).nullable();
const kind = z.enum(['bgm', 'cgm']);
const replacementLink = z
  .object({ deviceId: z.string(), reason: z.enum(REPLACEMENT_REASONS), cause: z.string().nullable() })
  .nullable();

/** One period of a meter with a patient. `patient` is null for another team's patient. */
export const deviceAssignmentView = z.object({
  deviceId: z.string(),
  kind,
  patient: z.object({ id: z.string(), name: z.string() }).nullable(),
  startedAt: z.string(),
  startedBy: person,
  startReason: z.enum(['paired', 'loan', 'replacement', 'existing']),
  endedAt: z.string().nullable(),
  endedBy: person,
  endReason: z.enum(['loan', 'retired']).nullable(),
  replaced: replacementLink.describe('The meter this one took over from'),
  replacedBy: replacementLink.describe('The meter that took over from this one'),
});
export type DeviceAssignmentView = z.infer<typeof deviceAssignmentView>;

export const deviceHistoryView = z
  .object({ assignments: z.array(deviceAssignmentView) })
  .meta({ id: 'DeviceHistory', description: 'Which meter was with which patient, from when to when, who did it' });
export type DeviceHistoryView = z.infer<typeof deviceHistoryView>;

export const lentDeviceView = z.object({
  deviceId: z.string(),
  token: z.string().describe('Shown once: only its hash is stored'),
  kind,
  patientId: z.string(),
  previousPatientId: z.string(),
  startedAt: z.string(),
});
export type LentDeviceView = z.infer<typeof lentDeviceView>;

export const replacedDeviceView = z.object({
  deviceId: z.string().describe('The new meter'),
  token: z.string().describe('Shown once: only its hash is stored'),
  kind,
  patientId: z.string(),
  retired: z.object({ deviceId: z.string(), reason: z.enum(REPLACEMENT_REASONS), retiredAt: z.string() }),
});
export type ReplacedDeviceView = z.infer<typeof replacedDeviceView>;

const countsByKind = z.object({ bgm: z.number(), cgm: z.number() });

export const deviceReplacementView = z.object({
  replacedAt: z.string(),
  oldDeviceId: z.string(),
  newDeviceId: z.string(),
  kind,
  reason: z.enum(REPLACEMENT_REASONS),
  cause: z.string().nullable(),
  patient: z.object({ id: z.string(), name: z.string() }),
  replacedBy: person,
});
export type DeviceReplacementView = z.infer<typeof deviceReplacementView>;

export const deviceReplacementsReportView = z
  .object({
    period: z.object({ from: z.string(), to: z.string() }),
    total: z.number(),
    byKind: countsByKind,
    byReason: z.object(
      Object.fromEntries(REPLACEMENT_REASONS.map((r) => [r, countsByKind.extend({ total: z.number() })])) as Record<
        (typeof REPLACEMENT_REASONS)[number],
        z.ZodObject<{ bgm: z.ZodNumber; cgm: z.ZodNumber; total: z.ZodNumber }>
      >,
    ),
    replacements: z.array(deviceReplacementView),
  })
  .meta({ id: 'DeviceReplacementsReport', description: "The team's meter replacements by reason and kind" });
export type DeviceReplacementsReportView = z.infer<typeof deviceReplacementsReportView>;

/**
 * The CSV for the supplier follow-up: one row per replacement, no patient identity (the file may
 * go to the supplier; the clinic finds the patient in the app by the serial).
 */
export const DEVICE_REPLACEMENTS_CSV_COLUMNS = [
  'replaced_at',
  'kind',
  'reason',
  'cause',
  'old_serial',
  'new_serial',
  'replaced_by',
] as const;
