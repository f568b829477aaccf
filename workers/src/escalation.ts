import type { Logger } from 'pino';
import type { ProducerQueue } from '@glucoboard/core/platform';
import { escalateAlerts, pendingEscalations, type Database, type EscalationTarget } from '@glucoboard/core/storage';
import { escalationJobId, JOB_RETENTION, RETRY_BACKOFF } from '@glucoboard/core/wire';
import type { AlertChange } from './alert-evaluation.ts';

/**
 * The delayed job that escalates a critical alert at its due time: the fast path. The database's
 * `escalation_due_at` is the record, and the sweep (`escalate('due')`) the safety net for jobs
 * Redis lost. One job id per alert: paging twice, or rescheduling, adds it once.
 */
export const escalationJob = (alertId: string, delayMs: number) => ({
  name: 'escalate' as const,
  data: { alertId },
  opts: { jobId: escalationJobId(alertId), delay: Math.max(0, delayMs), ...JOB_RETENTION, ...RETRY_BACKOFF },
});

/** Delayed jobs again for every escalation the database has pending (at start, and after Redis lost them). */
export async function rescheduleEscalations(
  db: Database,
  escalations: ProducerQueue<'escalation'>,
  now = Date.now(),
): Promise<number> {
  const pending = await pendingEscalations(db.pool);
  if (pending.length > 0)
    await escalations.addBulk(pending.map((p) => escalationJob(p.alertId, p.dueAt.getTime() - now)));
  return pending.length;
}

/**
 * Escalates alerts (the job's one, or all the sweep finds due) and announces them to the boards.
 * Only the pass that won an escalation announces it; if the boards cannot be reached (Redis
 * away), the announcement waits here and goes out on the next pass, since a retry would find
 * the alert escalated already and say nothing.
 */
export class Escalator {
  readonly #unannounced = new Map<string, AlertChange>();

  constructor(
    private readonly db: Database,
    private readonly announce: (changes: readonly AlertChange[]) => Promise<void>,
    private readonly log: Logger,
  ) {}

  async escalate(target: EscalationTarget): Promise<number> {
    const escalated = await escalateAlerts(this.db.pool, target);
    for (const alert of escalated) {
      this.#unannounced.set(alert.id, { alertId: alert.id, change: 'updated', notify: true, severity: alert.severity });
      this.log.info(
        { alertId: alert.id, teamId: alert.teamId, by: target === 'due' ? 'sweep' : 'job' },
        'alert escalated',
      );
    }
    await this.announceWaiting();
    return escalated.length;
  }

  async announceWaiting(): Promise<void> {
    if (this.#unannounced.size === 0) return;
    // Taken out first, so two passes at once never announce the same escalation both.
    const changes = [...this.#unannounced.values()];
    this.#unannounced.clear();
    try {
      await this.announce(changes);
    } catch (err) {
      for (const change of changes) this.#unannounced.set(change.alertId, change);
      this.log.warn(
        { err: (err as Error).message, alerts: changes.length },
        'escalation not on the boards yet; the next pass publishes it',
      );
    }
  }
}
