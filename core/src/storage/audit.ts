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
}

/** Every access to the patient's data in [from, to), oldest first. */
export async function patientAccessLog(
  db: pg.Pool | pg.PoolClient,
  patientId: string,
  from: Date,
  to: Date,
): Promise<PatientAccessRecord[]> {
  const rows = await db.query<PatientAccessRecord>(
    `select e.at, e.action, e.outcome, u.name as "userName", u.email as "userEmail", t.name as "teamName", e.origin
     from audit_events e left join users u on u.id = e.actor_user_id left join teams t on t.id = e.team_id
     where e.patient_id = $1 and e.at >= $2 and e.at < $3 order by e.at, e.id`,
    [patientId, from, to],
  );
  return rows.rows;
}
