import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

/**
 * What the log review (core/src/domain/audit-review.ts) weighs: a period's accesses by people to
 * one team's patients, grouped by user, patient and UTC hour (Swedish offsets are whole hours, so
 * each group lies in one Swedish local hour). Devices, API clients and followers are left out:
 * they reach one patient by a credential the team made for it, at any hour.
 */
export interface AccessHourRow {
  userId: string;
  patientId: string;
  hourStart: Date;
  /** `detail.via` as the trail recorded it, if it did. */
  via: string | null;
  /** Whether the user is (now) a member of the team the events were logged for. */
  memberOfTeam: boolean;
  events: number;
  actions: string[];
  firstAt: Date;
  lastAt: Date;
}

export async function teamAccessHours(db: Queryable, teamId: string, from: Date, to: Date): Promise<AccessHourRow[]> {
  const rows = await db.query<AccessHourRow>(
    `select e.actor_user_id as "userId", e.patient_id as "patientId",
            date_bin('1 hour', e.at, timestamptz '2000-01-01 00:00:00+00') as "hourStart",
            e.detail->>'via' as via, m.user_id is not null as "memberOfTeam",
            count(*)::int as events, array_agg(distinct e.action) as actions,
            min(e.at) as "firstAt", max(e.at) as "lastAt"
     from audit_events e
       left join memberships m on m.team_id = e.team_id and m.user_id = e.actor_user_id
     where e.team_id = $1 and e.at >= $2 and e.at < $3
       and e.actor_kind = 'user' and e.actor_user_id is not null and e.patient_id is not null
     group by e.actor_user_id, e.patient_id, 3, e.detail->>'via', m.user_id is not null`,
    [teamId, from, to],
  );
  return rows.rows;
}

/** Names of the users, and of the team's patients, that findings mention. */
export async function reviewNames(
  db: Queryable,
  teamId: string,
  userIds: string[],
  patientIds: string[],
): Promise<{
  users: Map<string, { name: string; email: string }>;
  patients: Map<string, string>;
}> {
  const users = await db.query<{ id: string; name: string; email: string }>(
    'select id, name, email from users where id = any($1::uuid[])',
    [userIds],
  );
  const patients = await db.query<{ id: string; name: string }>(
    'select id, display_name as name from patients where id = any($1::uuid[]) and team_id = $2',
    [patientIds, teamId],
  );
  return {
    users: new Map(users.rows.map((u) => [u.id, { name: u.name, email: u.email }])),
    patients: new Map(patients.rows.map((p) => [p.id, p.name])),
  };
}

export interface AuditReviewRecord {
  id: string;
  teamId: string;
  from: Date;
  to: Date;
  reviewedBy: string;
  reviewerName: string | null;
  reviewedAt: Date;
  conclusion: string | null;
  events: number;
  findings: number;
}

const REVIEW_COLUMNS = `r.id, r.team_id as "teamId", r.period_from as "from", r.period_to as "to",
  r.reviewed_by as "reviewedBy", u.name as "reviewerName", r.reviewed_at as "reviewedAt", r.conclusion,
  r.events, r.findings`;

export async function recordAuditReview(
  db: Queryable,
  review: {
    teamId: string;
    from: Date;
    to: Date;
    reviewedBy: string;
    conclusion: string | null;
    events: number;
    findings: number;
    rules: Record<string, unknown>;
  },
): Promise<AuditReviewRecord> {
  const inserted = await db.query<AuditReviewRecord>(
    `with r as (
       insert into audit_reviews (team_id, period_from, period_to, reviewed_by, conclusion, events, findings, rules)
       values ($1, $2, $3, $4, $5, $6, $7, $8) returning *)
     select ${REVIEW_COLUMNS} from r left join users u on u.id = r.reviewed_by`,
    [
      review.teamId,
      review.from,
      review.to,
      review.reviewedBy,
      review.conclusion,
      review.events,
      review.findings,
      JSON.stringify(review.rules),
    ],
  );
  return inserted.rows[0]!;
}

/** A team's recorded reviews, latest period first; with a period, only those overlapping it. */
export async function auditReviews(
  db: Queryable,
  teamId: string,
  overlapping?: { from: Date; to: Date },
  limit = 100,
): Promise<AuditReviewRecord[]> {
  const rows = await db.query<AuditReviewRecord>(
    `select ${REVIEW_COLUMNS} from audit_reviews r left join users u on u.id = r.reviewed_by
     where r.team_id = $1 and ($2::timestamptz is null or (r.period_from < $3 and r.period_to > $2))
     order by r.period_to desc, r.reviewed_at desc limit $4`,
    [teamId, overlapping?.from ?? null, overlapping?.to ?? null, limit],
  );
  return rows.rows;
}
