import { z } from 'zod';
import { ALERT_RULES, SEVERITIES } from '../domain/alert-rules.ts';
import { ACKNOWLEDGEMENT_ACTIONS } from './people.ts';

/**
 * The alert as the API lists it and as the board events `alert` and `alert:updated` carry it
 * (SPEC section 4): `{ id, patientId, teamId, rule, severity, state, escalated, openedAt, worstMmol }`
 * are the contract; the rest are additions a board needs to show who is on it.
 */

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

const person = z.object({ id: z.uuid(), name: z.string() }).nullable();
const instant = z.string().describe('ISO-8601, UTC');

export const alertView = z
  .object({
    id: z.uuid(),
    patientId: z.uuid(),
    teamId: z.uuid(),
    rule: z.enum(ALERT_RULES),
    severity: z.enum(SEVERITIES),
    state: z.enum(ALERT_STATES),
    escalated: z.boolean(),
    openedAt: instant,
    worstMmol: z.number().nullable().describe('null when the worst was a meter flag (see worstFlag) or for no_data'),
    worstFlag: z.enum(['LO', 'HI']).nullable(),
    patientName: z.string(),
    /** Recorded from backfilled readings: shown, never sounded. */
    retrospective: z
      .boolean()
      .describe('An episode that lay in the past when its readings arrived: shown, not sounded'),
    notifiedAt: instant.nullable().describe('When it paged the team; null if it was only recorded'),
    escalatedAt: instant.nullable(),
    escalationTeamId: z.uuid().nullable(),
    firstReadingAt: instant.nullable(),
    lastReadingAt: instant.nullable(),
    lastMmol: z.number().nullable(),
    worstReadingAt: instant.nullable(),
    readingCount: z.number().int(),
    acknowledgedAt: instant.nullable(),
    acknowledgedBy: person,
    action: z.enum(ACKNOWLEDGEMENT_ACTIONS).nullable().describe('What the acknowledging user did'),
    note: z.string().nullable(),
    resolvedAt: instant.nullable(),
    resolvedBy: person.describe('null when the readings resolved it'),
    snoozedUntil: instant.nullable().describe('Until when the rule is snoozed for this patient, if it is'),
    updatedAt: instant,
  })
  .meta({ id: 'Alert' });
export type AlertView = z.infer<typeof alertView>;

export const acknowledgementView = z.object({
  user: person,
  action: z.enum(ACKNOWLEDGEMENT_ACTIONS),
  note: z.string().nullable(),
  at: instant,
});
export type AcknowledgementView = z.infer<typeof acknowledgementView>;

export const snoozeView = z
  .object({
    id: z.uuid(),
    patientId: z.uuid(),
    rule: z.enum(ALERT_RULES),
    until: instant,
    note: z.string().nullable(),
    createdBy: person,
    createdAt: instant,
  })
  .meta({ id: 'SnoozeView' });
export type SnoozeView = z.infer<typeof snoozeView>;
