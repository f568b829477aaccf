import type pg from 'pg';

/**
 * The audit trail (Patientdatalagen 4:3, HSLF-FS 2016:40 4:9): who did what to which patient's
 * data, in which care unit, when, from where. Append-only in the database.
 */
export interface AuditEvent {
  action: string;
  actor:
    | { kind: 'user'; userId: string }
    | { kind: 'device'; deviceId: string }
    /** A care team's system reading or submitting through FHIR (docs/fhir.md). */
    | { kind: 'api_client'; clientId: string }
    /** A Nightscout follower's read-only credential (docs/nightscout.md). */
    | { kind: 'follower'; followerId: string }
    | { kind: 'system' };
  outcome?: 'success' | 'failure' | 'denied';
  patientId?: string | null;
  /** The care unit the access was made for (the patient's responsible team, or the team acted on). */
  teamId?: string | null;
  origin?: string | null;
  /** Ids and counts only: never names, values or other patient data. */
  detail?: Record<string, unknown>;
}

export async function recordAudit(db: pg.Pool | pg.PoolClient, event: AuditEvent): Promise<void> {
  await recordAuditForPatients(db, event, [event.patientId ?? null]);
}

/** One event per patient (a list view reads many patients at once; each must be findable). */
export async function recordAuditForPatients(
  db: pg.Pool | pg.PoolClient,
  event: Omit<AuditEvent, 'patientId' | 'teamId'> & { teamId?: string | null },
  patients: Array<string | null>,
  teamOfPatient?: (patientId: string) => string | null,
): Promise<void> {
  if (patients.length === 0) return;
  const actor = event.actor;
  await db.query(
    `insert into audit_events (actor_kind, actor_user_id, actor_device, action, outcome, patient_id, team_id, origin, detail,
                               actor_api_client, actor_follower)
     select $1, $2, $3, $4, $5, p.patient_id, coalesce(p.team_id, $7), $8, $9, $11, $12
     from unnest($6::uuid[], $10::uuid[]) as p(patient_id, team_id)`,
    [
      actor.kind,
      actor.kind === 'user' ? actor.userId : null,
      actor.kind === 'device' ? actor.deviceId : null,
      event.action,
      event.outcome ?? 'success',
      patients,
      event.teamId ?? null,
      event.origin ?? null,
      JSON.stringify(event.detail ?? {}),
      patients.map((p) => (p && teamOfPatient ? teamOfPatient(p) : null)),
      actor.kind === 'api_client' ? actor.clientId : null,
      actor.kind === 'follower' ? actor.followerId : null,
    ],
  );
}

/** One event as the audit API shows it, with the names of the user and team it names. */
export interface AuditEventRecord {
  id: number;
  at: Date;
  action: string;
  outcome: string;
  actorKind: string;
  userId: string | null;
  userName: string | null;
  userEmail: string | null;
  deviceId: string | null;
  /** The API client, when a system acted (FHIR). */
  apiClientId: string | null;
  patientId: string | null;
  teamId: string | null;
  teamName: string | null;
  origin: string | null;
  detail: Record<string, unknown>;
}

export interface AuditFilter {
  patientId?: string | null;
  userId?: string | null;
  from: Date;
  to: Date;
  /** Only events of these teams; null for every team. */
  teamIds: string[] | null;
  limit: number;
}

/** Events in [from, to), newest first. */
export async function auditEvents(db: pg.Pool | pg.PoolClient, filter: AuditFilter): Promise<AuditEventRecord[]> {
  const events = await db.query<AuditEventRecord>(
    `select e.id, e.at, e.action, e.outcome, e.actor_kind as "actorKind", e.actor_user_id as "userId",
            u.name as "userName", u.email as "userEmail", e.actor_device as "deviceId", e.actor_api_client as "apiClientId", e.patient_id as "patientId",
            e.team_id as "teamId", t.name as "teamName", e.origin, e.detail
     from audit_events e left join users u on u.id = e.actor_user_id left join teams t on t.id = e.team_id
     where ($1::uuid is null or e.patient_id = $1) and ($2::uuid is null or e.actor_user_id = $2)
       and e.at >= $3 and e.at < $4 and ($5::uuid[] is null or e.team_id = any($5))
     order by e.at desc, e.id desc limit $6`,
    [filter.patientId ?? null, filter.userId ?? null, filter.from, filter.to, filter.teamIds, filter.limit],
  );
  return events.rows;
}

/** One access to a patient's data, as the extract a patient may ask for shows it. */
export interface PatientAccessRecord {
  at: Date;
  action: string;
  outcome: string;
  userName: string | null;
  userEmail: string | null;
  teamName: string | null;
  origin: string | null;
  /** The reach the event recorded (`detail.via`), if any. */
  via: string | null;
  /** A user's event: whether the user is a member of the team the event was logged for. */
  memberOfTeam: boolean | null;
  /** The user's teams that reach the patient (responsible, granted or escalation team), comma-separated. */
  userTeams: string | null;
}

/** Every access to the patient's data in [from, to), oldest first. */
export async function patientAccessLog(
  db: pg.Pool | pg.PoolClient,
  patientId: string,
  from: Date,
  to: Date,
): Promise<PatientAccessRecord[]> {
  const rows = await db.query<PatientAccessRecord>(
    `select e.at, e.action, e.outcome, u.name as "userName", u.email as "userEmail", t.name as "teamName", e.origin,
            e.detail->>'via' as via,
            case when e.actor_user_id is null then null else m.user_id is not null end as "memberOfTeam",
            (select string_agg(distinct ut.name, ', ' order by ut.name)
               from memberships um join teams ut on ut.id = um.team_id
              where um.user_id = e.actor_user_id
                and (um.team_id = p.team_id or um.team_id = pt.escalation_team_id
                     or um.team_id in (select g.team_id from patient_access_grants g where g.patient_id = e.patient_id))
            ) as "userTeams"
     from audit_events e left join users u on u.id = e.actor_user_id left join teams t on t.id = e.team_id
       left join memberships m on m.team_id = e.team_id and m.user_id = e.actor_user_id
       left join patients p on p.id = e.patient_id left join teams pt on pt.id = p.team_id
     where e.patient_id = $1 and e.at >= $2 and e.at < $3 order by e.at, e.id`,
    [patientId, from, to],
  );
  return rows.rows;
}

export interface AuditSearch extends AuditFilter {
  teamId?: string | null;
  /** Events strictly older than this (exact time as text, and id), from a previous page. */
  before?: { at: string; id: string } | null;
}

/** A page of a search, newest first, and where the next page starts (null: no more). */
export async function searchAuditEvents(
  db: pg.Pool | pg.PoolClient,
  search: AuditSearch,
): Promise<{ events: Array<AuditEventRecord & { patientName: string | null }>; nextCursor: string | null }> {
  const teams = search.teamId ? [search.teamId] : search.teamIds;
  const found = await db.query<AuditEventRecord & { patientName: string | null; cursorAt: string }>(
    `select e.id, e.at, e.action, e.outcome, e.actor_kind as "actorKind", e.actor_user_id as "userId",
            u.name as "userName", u.email as "userEmail", e.actor_device as "deviceId", e.actor_api_client as "apiClientId",
            e.patient_id as "patientId", p.display_name as "patientName",
            e.team_id as "teamId", t.name as "teamName", e.origin, e.detail,
            to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "cursorAt"
     from audit_events e left join users u on u.id = e.actor_user_id left join teams t on t.id = e.team_id
       left join patients p on p.id = e.patient_id and ($5::uuid[] is null or p.team_id = any($5))
     where ($1::uuid is null or e.patient_id = $1) and ($2::uuid is null or e.actor_user_id = $2)
       and e.at >= $3 and e.at < $4 and ($5::uuid[] is null or e.team_id = any($5))
       and ($7::timestamptz is null or (e.at, e.id) < ($7::timestamptz, $8::bigint))
     order by e.at desc, e.id desc limit $6`,
    [
      search.patientId ?? null,
      search.userId ?? null,
      search.from,
      search.to,
      teams,
      search.limit + 1,
      search.before?.at ?? null,
      search.before?.id ?? null,
    ],
  );
  const more = found.rows.length > search.limit;
  const page = found.rows.slice(0, search.limit);
  const last = page[page.length - 1];
  return {
    events: page.map(({ cursorAt: _, ...event }) => event),
    nextCursor: more && last ? `${last.cursorAt}~${last.id}` : null,
  };
}
