import type pg from 'pg';
import type { AlertRule } from '../domain/alert-rules.ts';
import type { AcknowledgementView, AlertState, AlertView, SnoozeView } from '../wire/alerts.ts';
import type { Acknowledgement } from '../wire/people.ts';
import { recordAudit } from './audit.ts';
import { inTransaction } from './database.ts';

type Queryable = pg.Pool | pg.PoolClient;

const iso = (value: Date | null): string | null => (value ? value.toISOString() : null);

/** One query for every alert view, so the list, the events and the answers never differ. */
const ALERT_SELECT = `
  select a.*, p.display_name as patient_name, t.escalation_team_id,
         ack_user.name as acknowledged_by_name, res_user.name as resolved_by_name,
         last_ack.action as ack_action, last_ack.note as ack_note,
         (select max(s.until) from snoozes s
           where s.patient_id = a.patient_id and s.rule = a.rule and s.cancelled_at is null and s.until > now()
         ) as snoozed_until
  from alerts a
  join patients p on p.id = a.patient_id
  join teams t on t.id = a.team_id
  left join users ack_user on ack_user.id = a.acknowledged_by
  left join users res_user on res_user.id = a.resolved_by
  left join lateral (
    select k.action, k.note from alert_acknowledgements k where k.alert_id = a.id order by k.at desc limit 1
  ) last_ack on true`;

interface AlertRow {
  id: string;
  patient_id: string;
  team_id: string;
  rule: AlertRule;
  severity: AlertView['severity'];
  state: AlertState;
  escalated: boolean;
  escalated_at: Date | null;
  retrospective: boolean;
  opened_at: Date;
  updated_at: Date;
  notified_at: Date | null;
  first_reading_at: Date | null;
  last_reading_at: Date | null;
  last_mmol: number | null;
  worst_reading_at: Date | null;
  worst_mmol: number | null;
  reading_count: number;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  acknowledged_by_name: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolved_by_name: string | null;
  ack_action: AlertView['action'];
  ack_note: string | null;
  patient_name: string;
  escalation_team_id: string | null;
  snoozed_until: Date | null;
}

function toView(row: AlertRow): AlertView {
  // A level episode without a worst number was made worst by the meter's LO or HI display.
  const worstFlag =
    row.worst_mmol === null && row.reading_count > 0
      ? row.rule === 'urgent_low'
        ? 'LO'
        : row.rule === 'urgent_high'
          ? 'HI'
          : null
      : null;
  return {
    id: row.id,
    patientId: row.patient_id,
    teamId: row.team_id,
    rule: row.rule,
    severity: row.severity,
    state: row.state,
    escalated: row.escalated,
    openedAt: row.opened_at.toISOString(),
    worstMmol: row.worst_mmol,
    worstFlag,
    patientName: row.patient_name,
    retrospective: row.retrospective,
    notifiedAt: iso(row.notified_at),
    escalatedAt: iso(row.escalated_at),
    escalationTeamId: row.escalation_team_id,
    firstReadingAt: iso(row.first_reading_at),
    lastReadingAt: iso(row.last_reading_at),
    lastMmol: row.last_mmol,
    worstReadingAt: iso(row.worst_reading_at),
    readingCount: row.reading_count,
    acknowledgedAt: iso(row.acknowledged_at),
    acknowledgedBy: row.acknowledged_by ? { id: row.acknowledged_by, name: row.acknowledged_by_name ?? '' } : null,
    action: row.ack_action ?? null,
    note: row.ack_note ?? null,
    resolvedAt: iso(row.resolved_at),
    resolvedBy: row.resolved_by ? { id: row.resolved_by, name: row.resolved_by_name ?? '' } : null,
    snoozedUntil: iso(row.snoozed_until),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function alertViews(db: Queryable, ids: readonly string[]): Promise<AlertView[]> {
  if (ids.length === 0) return [];
  const result = await db.query<AlertRow>(`${ALERT_SELECT} where a.id = any($1::uuid[])`, [ids]);
  const byId = new Map(result.rows.map((row) => [row.id, toView(row)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

export async function alertView(db: Queryable, id: string): Promise<AlertView | undefined> {
  return (await alertViews(db, [id]))[0];
}

export interface AlertFilter {
  /** Alerts of these responsible teams, plus escalated alerts whose escalation target is one of them. */
  teamIds: readonly string[];
  state: AlertState | 'live' | 'all';
  patientId?: string;
  limit: number;
}

/** Newest first; critical before the rest is the board's business, not the list's. */
export async function listAlerts(db: Queryable, filter: AlertFilter): Promise<AlertView[]> {
  const states =
    filter.state === 'live'
      ? ['open', 'acknowledged']
      : filter.state === 'all'
        ? ['open', 'acknowledged', 'resolved']
        : [filter.state];
  const result = await db.query<AlertRow>(
    `${ALERT_SELECT}
     where (a.team_id = any($1::uuid[]) or (a.escalated and t.escalation_team_id = any($1::uuid[])))
       and a.state = any($2::text[])
       and ($3::uuid is null or a.patient_id = $3)
     order by a.opened_at desc
     limit $4`,
    [filter.teamIds, states, filter.patientId ?? null, filter.limit],
  );
  return result.rows.map(toView);
}

/** Who did what about an alert, oldest first. */
export async function acknowledgementsOf(db: Queryable, alertId: string): Promise<AcknowledgementView[]> {
  const result = await db.query<{
    user_id: string;
    name: string | null;
    action: AcknowledgementView['action'];
    note: string | null;
    at: Date;
  }>(
    `select k.user_id, u.name, k.action, k.note, k.at
     from alert_acknowledgements k left join users u on u.id = k.user_id
     where k.alert_id = $1 order by k.at`,
    [alertId],
  );
  return result.rows.map((r) => ({
    user: { id: r.user_id, name: r.name ?? '' },
    action: r.action,
    note: r.note,
    at: r.at.toISOString(),
  }));
}

export type AlertChangeOutcome =
  | { ok: true; alert: AlertView }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'acknowledged' | 'resolved'; alert: AlertView };

/**
 * Takes an open alert for the team. The update's `state = 'open'` condition makes it a race that
 * exactly one of two nurses wins; the loser learns who won.
 */
export async function acknowledgeAlert(
  client: pg.PoolClient,
  alertId: string,
  userId: string,
  ack: Acknowledgement,
): Promise<AlertChangeOutcome> {
  const taken = await client.query(
    `update alerts set state = 'acknowledged', acknowledged_at = now(), acknowledged_by = $2, updated_at = now()
     where id = $1 and state = 'open' returning id`,
    [alertId, userId],
  );
  if (taken.rowCount === 1) {
    await client.query('insert into alert_acknowledgements (alert_id, user_id, action, note) values ($1, $2, $3, $4)', [
      alertId,
      userId,
      ack.action,
      ack.note ?? null,
    ]);
  }
  return changeOutcome(client, alertId, taken.rowCount === 1);
}

/** Ends an episode by hand (the readings may not have shown it over, e.g. no_data after a meter swap). */
export async function resolveAlert(
  client: pg.PoolClient,
  alertId: string,
  userId: string,
  note: string | null,
): Promise<AlertChangeOutcome> {
  const done = await client.query(
    `update alerts set state = 'resolved', resolved_at = now(), resolved_by = $2, resolve_note = $3, updated_at = now()
     where id = $1 and state <> 'resolved' returning id`,
    [alertId, userId, note],
  );
  return changeOutcome(client, alertId, done.rowCount === 1);
}

async function changeOutcome(db: Queryable, alertId: string, changed: boolean): Promise<AlertChangeOutcome> {
  const alert = await alertView(db, alertId);
  if (!alert) return { ok: false, reason: 'not_found' };
  if (changed) return { ok: true, alert };
  return { ok: false, reason: alert.state === 'resolved' ? 'resolved' : 'acknowledged', alert };
}

/** Which alerts an escalation pass takes: one (its delayed job fired) or every one due by the database. */
export type EscalationTarget = { alertId: string } | 'due';

/**
 * Marks critical alerts escalated if nobody has taken them yet, with their `alert.escalate` audit
 * event in the same transaction; returns the alerts this call escalated. The conditional update
 * (`open`, `not escalated`) makes a delayed job and the sweep racing for one alert escalate it
 * once: the loser's update waits on the row lock, then finds it escalated and returns nothing.
 */
export async function escalateAlerts(pool: pg.Pool, target: EscalationTarget): Promise<AlertView[]> {
  const ids = await inTransaction(pool, async (client) => {
    const done = await client.query<{
      id: string;
      patient_id: string;
      team_id: string;
      escalation_team_id: string | null;
    }>(
      `update alerts a set escalated = true, escalated_at = now(), updated_at = now()
       from teams t
       where t.id = a.team_id and a.state = 'open' and not a.escalated and ${
         // The sweep reads the partial index of pending escalations, not every alert ever raised.
         target === 'due' ? 'a.escalation_due_at <= now()' : 'a.id = $1'
       }
       returning a.id, a.patient_id, a.team_id, t.escalation_team_id`,
      target === 'due' ? [] : [target.alertId],
    );
    for (const row of done.rows)
      await recordAudit(client, {
        action: 'alert.escalate',
        actor: { kind: 'system' },
        patientId: row.patient_id,
        teamId: row.team_id,
        detail: { alertId: row.id, escalationTeamId: row.escalation_team_id },
      });
    return done.rows.map((r) => r.id);
  });
  return alertViews(pool, ids);
}

/** Escalations the database has pending (paged, open, not escalated), soonest first. */
export async function pendingEscalations(db: Queryable): Promise<Array<{ alertId: string; dueAt: Date }>> {
  const result = await db.query<{ id: string; escalation_due_at: Date }>(
    `select id, escalation_due_at from alerts where escalation_due_at is not null order by escalation_due_at`,
  );
  return result.rows.map((r) => ({ alertId: r.id, dueAt: r.escalation_due_at }));
}

// --- Snoozes --------------------------------------------------------------------------------------

interface SnoozeRow {
  id: string;
  patient_id: string;
  rule: AlertRule;
  until: Date;
  note: string | null;
  created_by: string;
  created_by_name: string | null;
  created_at: Date;
}

const SNOOZE_SELECT = `select s.id, s.patient_id, s.rule, s.until, s.note, s.created_by, u.name as created_by_name, s.created_at
  from snoozes s left join users u on u.id = s.created_by`;

const snoozeView = (r: SnoozeRow): SnoozeView => ({
  id: r.id,
  patientId: r.patient_id,
  rule: r.rule,
  until: r.until.toISOString(),
  note: r.note,
  createdBy: { id: r.created_by, name: r.created_by_name ?? '' },
  createdAt: r.created_at.toISOString(),
});

export async function createSnooze(
  db: Queryable,
  snooze: { patientId: string; rule: AlertRule; minutes: number; note: string | null; userId: string },
): Promise<SnoozeView> {
  const made = await db.query<{ id: string }>(
    `insert into snoozes (patient_id, rule, until, note, created_by)
     values ($1, $2, now() + make_interval(mins => $3), $4, $5) returning id`,
    [snooze.patientId, snooze.rule, snooze.minutes, snooze.note, snooze.userId],
  );
  const result = await db.query<SnoozeRow>(`${SNOOZE_SELECT} where s.id = $1`, [made.rows[0]!.id]);
  return snoozeView(result.rows[0]!);
}

/** The patient's snoozes in force now. */
export async function activeSnoozes(db: Queryable, patientId: string): Promise<SnoozeView[]> {
  const result = await db.query<SnoozeRow>(
    `${SNOOZE_SELECT} where s.patient_id = $1 and s.cancelled_at is null and s.until > now() order by s.until`,
    [patientId],
  );
  return result.rows.map(snoozeView);
}

/** Ends a snooze early; returns it, or undefined if no such live snooze of the patient exists. */
export async function cancelSnooze(
  db: Queryable,
  patientId: string,
  snoozeId: string,
  userId: string,
): Promise<SnoozeView | undefined> {
  const done = await db.query<{ id: string }>(
    `update snoozes set cancelled_at = now(), cancelled_by = $3
     where id = $1 and patient_id = $2 and cancelled_at is null and until > now() returning id`,
    [snoozeId, patientId, userId],
  );
  if (done.rowCount !== 1) return undefined;
  const result = await db.query<SnoozeRow>(`${SNOOZE_SELECT} where s.id = $1`, [snoozeId]);
  return snoozeView(result.rows[0]!);
}

/** The live alert of a patient's rule, if any (a snooze changes how it shows). */
export async function liveAlertOf(db: Queryable, patientId: string, rule: AlertRule): Promise<AlertView | undefined> {
  const result = await db.query<AlertRow>(
    `${ALERT_SELECT} where a.patient_id = $1 and a.rule = $2 and a.state <> 'resolved'`,
    [patientId, rule],
  );
  return result.rows[0] && toView(result.rows[0]);
}
