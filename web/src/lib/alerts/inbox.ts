/**
 * The alert inbox's rules: which alerts are live, how they are ordered, which ones sound, and how
 * events merge with what the board holds. Pure, so that a resync can replay events safely.
 */
import type { AlertView } from '@glucoboard/core/wire';

export const SEVERITY_RANK: Record<AlertView['severity'], number> = { critical: 0, warning: 1, info: 2 };

export const isLive = (alert: AlertView): boolean => alert.state !== 'resolved';

export const isSnoozed = (alert: AlertView, now: number): boolean =>
  alert.snoozedUntil !== null && Date.parse(alert.snoozedUntil) > now;

/**
 * A newer state wins: events and answers can arrive out of order (an event from before a resync's
 * answer, say), and `updatedAt` only moves forward. On a tie the incoming one is taken.
 */
export function mergeAlert(alerts: ReadonlyMap<string, AlertView>, incoming: AlertView): Map<string, AlertView> {
  const next = new Map(alerts);
  const current = alerts.get(incoming.id);
  if (!current || Date.parse(incoming.updatedAt) >= Date.parse(current.updatedAt)) next.set(incoming.id, incoming);
  return next;
}

/**
 * The alerts after a fresh list (asked for at `since`): the list's, each kept at the newest state an
 * event brought, plus alerts that changed after `since` and so may be missing from the list (an
 * event that overtook the answer). Anything older that the list lacks is gone (resolved meanwhile).
 */
export function mergeAlerts(
  alerts: ReadonlyMap<string, AlertView>,
  list: readonly AlertView[],
  since: number,
): Map<string, AlertView> {
  let next = new Map<string, AlertView>();
  for (const alert of list) next.set(alert.id, alert);
  for (const alert of alerts.values()) {
    if (next.has(alert.id) || Date.parse(alert.updatedAt) >= since) next = mergeAlert(next, alert);
  }
  return next;
}

/**
 * Whether an alert that just arrived should catch the nurse's eye (and ear, if she turned sound
 * on): a critical alert that paged the team (`notifiedAt` set: not snoozed, not a backfilled
 * episode), still open, and new here, paging again, or newly escalated.
 */
export function shouldCue(previous: AlertView | undefined, next: AlertView): boolean {
  if (next.severity !== 'critical' || next.state !== 'open' || next.notifiedAt === null || next.retrospective)
    return false;
  if (!previous) return true;
  return previous.notifiedAt !== next.notifiedAt || (!previous.escalated && next.escalated);
}

/** Inbox order: open before acknowledged, critical before warning before info, the longest waiting first. */
export function inboxOrder(a: AlertView, b: AlertView): number {
  const state = (x: AlertView) => (x.state === 'open' ? 0 : x.state === 'acknowledged' ? 1 : 2);
  return (
    state(a) - state(b) ||
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    Date.parse(a.openedAt) - Date.parse(b.openedAt)
  );
}

/** History order: the newest first. */
export const historyOrder = (a: AlertView, b: AlertView): number => Date.parse(b.openedAt) - Date.parse(a.openedAt);

export interface AlertBadge {
  open: number;
  acknowledged: number;
  worstSeverity: AlertView['severity'] | null;
  escalated: boolean;
}

/** A patient's badge, as the board's answer counts it: over the open and acknowledged alerts. */
export function badgeOf(alerts: readonly AlertView[]): AlertBadge {
  const live = alerts.filter(isLive);
  const worst = live.reduce<AlertView['severity'] | null>(
    (w, a) => (w === null || SEVERITY_RANK[a.severity] < SEVERITY_RANK[w] ? a.severity : w),
    null,
  );
  return {
    open: live.filter((a) => a.state === 'open').length,
    acknowledged: live.filter((a) => a.state === 'acknowledged').length,
    worstSeverity: worst,
    escalated: live.some((a) => a.escalated),
  };
}

export function byPatient(alerts: Iterable<AlertView>): Map<string, AlertView[]> {
  const groups = new Map<string, AlertView[]>();
  for (const alert of alerts) {
    const group = groups.get(alert.patientId);
    if (group) group.push(alert);
    else groups.set(alert.patientId, [alert]);
  }
  return groups;
}

/** Sets and maps are replaced, never changed, so that Svelte state holding them sees every change. */
export const NO_ALERTS: ReadonlyMap<string, AlertView> = new Map();
export const NO_IDS: ReadonlySet<string> = new Set();

export const withId = (ids: ReadonlySet<string>, id: string): ReadonlySet<string> => new Set([...ids, id]);
export const withoutId = (ids: ReadonlySet<string>, id: string): ReadonlySet<string> =>
  new Set([...ids].filter((x) => x !== id));
