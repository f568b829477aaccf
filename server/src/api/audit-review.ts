import { accessReach, DEFAULT_REVIEW_RULES, reviewAccesses, type ReviewOutcome } from '@glucoboard/core/domain';
import {
  auditReviews,
  recordAuditReview,
  reviewNames,
  teamAccessHours,
  type AuditReviewRecord,
} from '@glucoboard/core/storage';
import { auditReviewBody, auditReviewQuery } from '@glucoboard/core/wire';
import type pg from 'pg';
import { teamAccess } from '../access/policy.ts';
import { recordAudit, userActor } from '../audit/trail.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

/**
 * The systematic log review (HSLF-FS 2016:40 4:9) of one team's patients, for that team's admins
 * and sysadmins: the accesses of a period that deserve a look (rules in
 * core/src/domain/audit-review.ts), and the record of who reviewed which period. Running, recording
 * and listing reviews are themselves in the audit trail.
 */
async function reviewOf(db: pg.Pool, teamId: string, from: Date, to: Date): Promise<ReviewOutcome> {
  const rows = await teamAccessHours(db, teamId, from, to);
  return reviewAccesses(
    rows.map((r) => ({
      userId: r.userId,
      patientId: r.patientId,
      hourStart: r.hourStart.getTime(),
      reach: accessReach(r.via, r.memberOfTeam),
      events: r.events,
      actions: r.actions,
      firstAt: r.firstAt.getTime(),
      lastAt: r.lastAt.getTime(),
    })),
    DEFAULT_REVIEW_RULES,
  );
}

const reviewView = (r: AuditReviewRecord) => ({
  ...r,
  from: r.from.toISOString(),
  to: r.to.toISOString(),
  reviewedAt: r.reviewedAt.toISOString(),
});

export function auditReviewRoutes(deps: ApiDependencies): RouteSpec[] {
  const db = deps.db.pool;
  return [
    route({
      method: 'get',
      path: '/api/teams/:teamId/audit-review',
      tag: 'audit',
      summary:
        "The accesses to the team's patients in a period that deserve a look: outside the responsible team, via a grant or an escalation, outside 07-19 Swedish time, unusual volume (team admins)",
      signedIn: true,
      params: { teamId: 'uuid' },
      query: auditReviewQuery,
      responses: { 200: { description: 'The findings of the period, newest first, and the reviews recorded for it' } },
      async handle({ user, params, query, origin }) {
        const teamId = params.teamId!;
        await teamAccess(db, user, teamId, 'admin');
        const outcome = await reviewOf(db, teamId, query.from, query.to);
        const names = await reviewNames(
          db,
          teamId,
          [...new Set(outcome.findings.map((f) => f.userId))],
          [...new Set(outcome.findings.flatMap((f) => (f.patientId ? [f.patientId] : [])))],
        );
        const reviews = await auditReviews(db, teamId, { from: query.from, to: query.to });
        await recordAudit(db, {
          action: 'audit.review.run',
          actor: userActor(user.userId),
          teamId,
          origin,
          detail: {
            from: query.from.toISOString(),
            to: query.to.toISOString(),
            events: outcome.events,
            findings: outcome.findings.length,
          },
        });
        return {
          status: 200,
          body: {
            teamId,
            from: query.from.toISOString(),
            to: query.to.toISOString(),
            rules: DEFAULT_REVIEW_RULES,
            events: outcome.events,
            users: outcome.users,
            patients: outcome.patients,
            volume: outcome.volume,
            findings: outcome.findings.map((f) => ({
              ...f,
              userName: names.users.get(f.userId)?.name ?? null,
              userEmail: names.users.get(f.userId)?.email ?? null,
              patientName: f.patientId ? (names.patients.get(f.patientId) ?? null) : null,
              firstAt: new Date(f.firstAt).toISOString(),
              lastAt: new Date(f.lastAt).toISOString(),
            })),
            reviews: reviews.map(reviewView),
          },
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/teams/:teamId/audit-reviews',
      tag: 'audit',
      summary: "Record that a period of the team's audit trail was reviewed, by whom and when, with a conclusion",
      signedIn: true,
      params: { teamId: 'uuid' },
      body: auditReviewBody,
      responses: { 201: { description: 'The recorded review' } },
      async handle({ user, params, body, origin }) {
        const teamId = params.teamId!;
        await teamAccess(db, user, teamId, 'admin');
        // What the period shows now is what the reviewer looked at: stored with the record.
        const outcome = await reviewOf(db, teamId, body.from, body.to);
        const review = await recordAuditReview(db, {
          teamId,
          from: body.from,
          to: body.to,
          reviewedBy: user.userId,
          conclusion: body.conclusion,
          events: outcome.events,
          findings: outcome.findings.length,
          rules: { ...DEFAULT_REVIEW_RULES },
        });
        await recordAudit(db, {
          action: 'audit.review.record',
          actor: userActor(user.userId),
          teamId,
          origin,
          detail: { reviewId: review.id, findings: review.findings, events: review.events },
        });
        return { status: 201, body: { review: reviewView(review) } };
      },
    }),
    route({
      method: 'get',
      path: '/api/teams/:teamId/audit-reviews',
      tag: 'audit',
      summary: "The team's recorded log reviews, latest period first (team admins)",
      signedIn: true,
      params: { teamId: 'uuid' },
      responses: { 200: { description: 'Recorded reviews' } },
      async handle({ user, params, origin }) {
        const teamId = params.teamId!;
        await teamAccess(db, user, teamId, 'admin');
        const reviews = await auditReviews(db, teamId);
        await recordAudit(db, {
          action: 'audit.review.list',
          actor: userActor(user.userId),
          teamId,
          origin,
          detail: { count: reviews.length },
        });
        return { status: 200, body: { reviews: reviews.map(reviewView) } };
      },
    }),
  ];
}
