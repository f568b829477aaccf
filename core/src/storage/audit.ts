import type pg from 'pg';

/**
 * The audit trail (Patientdatalagen 4:3, HSLF-FS 2016:40 4:9): who did what to which patient's
 * data, in which care unit, when, from where. Append-only in the database.
 */
export interface AuditEvent {
  action: string;
  actor: { kind: 'user'; userId: string } | { kind: 'device'; deviceId: string } | { kind: 'system' };
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
    `insert into audit_events (actor_kind, actor_user_id, actor_device, action, outcome, patient_id, team_id, origin, detail)
     select $1, $2, $3, $4, $5, p.patient_id, coalesce(p.team_id, $7), $8, $9
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
    ],
  );
}
