import type pg from 'pg';
import { recordAudit } from '@glucoboard/core/storage';

export { recordAudit, recordAuditForPatients, type AuditEvent } from '@glucoboard/core/storage';

export const userActor = (userId: string) => ({ kind: 'user' as const, userId });

/**
 * Access from outside the patient's responsible team (a granted team, an escalation, a sysadmin)
 * is what the log review looks at first (docs/follow-up.md, "Audit review"): the trail says so as
 * `via`. An escalation always wins, as before; another `via` a caller already set is kept.
 */
function withReach(via: string | undefined, detail: Record<string, unknown> | undefined) {
  if (via === 'escalation') return { ...detail, via };
  if ((via === 'granted' || via === 'sysadmin') && detail?.via === undefined) return { ...detail, via };
  return detail;
}

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
    detail: withReach(access.via, detail),
  });
}
