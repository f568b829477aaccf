import type pg from 'pg';
import { recordAudit } from '@glucoboard/core/storage';

export { recordAudit, recordAuditForPatients, type AuditEvent } from '@glucoboard/core/storage';

export const userActor = (userId: string) => ({ kind: 'user' as const, userId });

/** A user's action on one patient's data, in the patient's responsible team. */
export function recordPatientEvent(
  db: pg.Pool | pg.PoolClient,
  action: string,
  userId: string,
  access: { patientId: string; teamId: string; via?: string },
  origin: string,
  detail?: Record<string, unknown>,
): Promise<void> {
  return recordAudit(db, {
    action,
    actor: userActor(userId),
    patientId: access.patientId,
    teamId: access.teamId,
    origin,
    // Access through an escalation is time-bounded and outside the patient's own teams: the trail says so.
    detail: access.via === 'escalation' ? { ...detail, via: 'escalation' } : detail,
  });
}
