import { z } from 'zod';
import type { AccessReach, ReviewReason, ReviewRules } from '../domain/audit-review.ts';
import { auditQuery } from './people.ts';

/**
 * The audit page's requests and answers (issue 15, section 4): searching the trail, the patient's
 * access extract and the systematic log review. Fields may be added, never renamed.
 */

const DAY_MS = 86_400_000;
/** A review covers at most a quarter: long enough for the usual monthly or quarterly review. */
export const AUDIT_REVIEW_MAX_DAYS = 93;
export const AUDIT_REVIEW_DEFAULT_DAYS = 30;

const isoDateTime = z.iso.datetime({ offset: true });

/** Where the next page of a search starts: the last event's exact time and id (opaque to clients). */
const CURSOR = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z~\d{1,19}$/;
const auditCursor = z.string().regex(CURSOR, 'is not a cursor this server gave out');

/**
 * GET /api/audit: the original filters (patientId, userId, from, to, limit) plus a team and paging.
 * Without a patient or a user it lists the period's events of the caller's teams (a sysadmin's: all).
 */
export const auditSearchQuery = auditQuery
  .extend({
    teamId: z.uuid().optional().describe("Only this team's events (a team the caller administers)"),
    cursor: auditCursor.optional().describe('nextCursor of the previous page'),
  })
  .meta({ id: 'AuditSearchQuery', description: 'Audit events by patient, user, team and period; paged, newest first' });
export type AuditSearchQuery = z.infer<typeof auditSearchQuery>;

/** Splits a cursor into the exact time (text, microseconds kept) and the id it names. */
export function parseAuditCursor(cursor: string): { at: string; id: string } {
  const [at, id] = cursor.split('~') as [string, string];
  return { at, id };
}

function periodCheck(period: { from: Date; to: Date }, ctx: z.RefinementCtx<{ from: Date; to: Date }>): void {
  if (period.from.getTime() >= period.to.getTime())
    ctx.addIssue({ code: 'custom', path: ['from'], input: period, message: 'must be before to' });
  else if (period.to.getTime() - period.from.getTime() > AUDIT_REVIEW_MAX_DAYS * DAY_MS)
    ctx.addIssue({
      code: 'custom',
      path: ['from'],
      input: period,
      message: `must be at most ${AUDIT_REVIEW_MAX_DAYS} days before to`,
    });
}

/** `?from&to` of a review, resolved against a clock (default: the last 30 days). */
export function auditReviewQueryAt(now: () => Date) {
  return z
    .strictObject({
      from: isoDateTime.optional().describe('Start, inclusive (default: 30 days before to)'),
      to: isoDateTime.optional().describe('End, exclusive (default: now)'),
    })
    .transform((query) => {
      const to = query.to === undefined ? now() : new Date(query.to);
      const from =
        query.from === undefined ? new Date(to.getTime() - AUDIT_REVIEW_DEFAULT_DAYS * DAY_MS) : new Date(query.from);
      return { from, to };
    })
    .superRefine(periodCheck);
}
export const auditReviewQuery = auditReviewQueryAt(() => new Date()).meta({
  id: 'AuditReviewPeriod',
  description: `Period of a log review: [from, to), at most ${AUDIT_REVIEW_MAX_DAYS} days`,
});
export type AuditReviewPeriod = z.infer<typeof auditReviewQuery>;

/** POST /api/teams/:teamId/audit-reviews: the period reviewed, and what the reviewer concluded. */
export const auditReviewBody = z
  .strictObject({
    from: isoDateTime.describe('Start of the reviewed period, inclusive'),
    to: isoDateTime.describe('End of the reviewed period, exclusive'),
    conclusion: z
      .string()
      .trim()
      .max(2000)
      .optional()
      .describe('What the reviewer found and did (no patient data needed: the findings are referenced by period)'),
  })
  .transform((body) => ({ from: new Date(body.from), to: new Date(body.to), conclusion: body.conclusion || null }))
  .superRefine(periodCheck)
  .meta({ id: 'AuditReviewRecord', description: 'Record that a period of the log was reviewed' });
export type AuditReviewRecordBody = z.infer<typeof auditReviewBody>;

/** The extract's formats (GET /api/patients/:id/access-log). */
const accessLogFormat = z.enum(['json', 'csv']).default('json');

/** GET /api/patients/:id/access-log: the period, and JSON or CSV. */
export const accessLogQuery = auditQuery
  .pick({ from: true, to: true })
  .extend({ format: accessLogFormat })
  .meta({ id: 'AccessLogQuery', description: "Period of a patient's access extract, as JSON or CSV" });

// --- Answers (typed for the web app; the server builds them from storage rows) --------------------

/** One event of a search (GET /api/audit). Dates are ISO-8601 strings on the wire. */
export interface AuditEventView {
  /** A bigint, so sent as a string. */
  id: string;
  at: string;
  action: string;
  outcome: string;
  actorKind: string;
  userId: string | null;
  userName: string | null;
  userEmail: string | null;
  deviceId: string | null;
  apiClientId: string | null;
  patientId: string | null;
  /** Shown only for a patient of a team in the caller's scope. */
  patientName: string | null;
  teamId: string | null;
  teamName: string | null;
  origin: string | null;
  detail: Record<string, unknown>;
}

export interface AuditSearchAnswer {
  events: AuditEventView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** One row of the patient's access extract. */
export interface AccessExtractRow {
  at: string;
  action: string;
  outcome: string;
  userName: string | null;
  userEmail: string | null;
  /** The patient's responsible team at the time (the care unit the access was logged for). */
  teamName: string | null;
  origin: string | null;
  /** How the user reached the patient: responsible team, granted team, escalation, sysadmin, or outside. */
  reach: AccessReach | null;
  /** The user's teams that reach the patient (responsible, granted or escalation team), comma-separated. */
  userTeams: string | null;
}

export interface AccessExtractAnswer {
  patientId: string;
  from: string;
  to: string;
  accesses: AccessExtractRow[];
}

export interface ReviewFindingView {
  reason: ReviewReason;
  userId: string;
  userName: string | null;
  userEmail: string | null;
  patientId: string | null;
  patientName: string | null;
  day: string;
  events: number;
  actions: string[];
  firstAt: string;
  lastAt: string;
  reach: AccessReach | null;
  distinctPatients?: number;
  threshold?: number;
}

/** GET /api/teams/:teamId/audit-review: the accesses of a period that deserve a look. */
export interface AuditReviewRunAnswer {
  teamId: string;
  from: string;
  to: string;
  rules: ReviewRules;
  events: number;
  users: number;
  patients: number;
  volume: { medianPerUserDay: number; threshold: number };
  findings: ReviewFindingView[];
  /** Recorded reviews that overlap the period. */
  reviews: AuditReviewView[];
}

/** A recorded review (POST and GET /api/teams/:teamId/audit-reviews). */
export interface AuditReviewView {
  id: string;
  teamId: string;
  from: string;
  to: string;
  reviewedBy: string;
  reviewerName: string | null;
  reviewedAt: string;
  conclusion: string | null;
  /** What the review showed when it was recorded. */
  events: number;
  findings: number;
}
