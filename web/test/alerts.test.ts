import { describe, expect, it } from 'vitest';
import { badgeOf, inboxOrder, mergeAlert, mergeAlerts, shouldCue } from '../src/lib/alerts/inbox';
import { alert } from './fixtures';

describe('alerts on the board', () => {
  it('keeps the newer state whatever order events and answers come in', () => {
    const open = alert();
    const taken = { ...open, state: 'acknowledged' as const, updatedAt: '2025-03-01T10:05:00.000Z' };
    expect(mergeAlert(mergeAlert(new Map(), taken), open).get(open.id)).toBe(taken);
    expect(mergeAlert(mergeAlert(new Map(), open), taken).get(open.id)).toBe(taken);
  });

  it('after a resync keeps what the list has, newer event states, and alerts newer than the request', () => {
    const listed = alert();
    const newer = { ...listed, state: 'acknowledged' as const, updatedAt: '2025-03-01T10:09:00.000Z' };
    const overtook = alert({ updatedAt: '2025-03-01T10:10:00.000Z' });
    const gone = alert({ updatedAt: '2025-03-01T09:00:00.000Z' });
    const held = new Map([newer, overtook, gone].map((a) => [a.id, a]));
    const merged = mergeAlerts(held, [listed], Date.parse('2025-03-01T10:08:00.000Z'));
    expect([...merged.values()]).toEqual([newer, overtook]);
  });

  it('cues only new critical alerts that paged the team, and again when one escalates', () => {
    const a = alert();
    expect(shouldCue(undefined, a)).toBe(true);
    expect(shouldCue(a, { ...a, updatedAt: 'later' })).toBe(false);
    expect(shouldCue(a, { ...a, escalated: true })).toBe(true);
    expect(shouldCue(undefined, { ...a, severity: 'warning' })).toBe(false);
    expect(shouldCue(undefined, { ...a, notifiedAt: null })).toBe(false);
    expect(shouldCue(undefined, { ...a, retrospective: true })).toBe(false);
    expect(shouldCue(undefined, { ...a, state: 'acknowledged' })).toBe(false);
  });

  it('orders the inbox open first, then by severity, the longest waiting first', () => {
    const late = alert({ openedAt: '2025-03-01T11:00:00.000Z' });
    const early = alert({ openedAt: '2025-03-01T09:00:00.000Z' });
    const warning = alert({ severity: 'warning', openedAt: '2025-03-01T08:00:00.000Z' });
    const taken = alert({ state: 'acknowledged', openedAt: '2025-03-01T07:00:00.000Z' });
    expect([taken, warning, late, early].sort(inboxOrder)).toEqual([early, late, warning, taken]);
  });

  it("counts a patient's badge over open and acknowledged alerts", () => {
    expect(
      badgeOf([
        alert({ severity: 'warning' }),
        alert({ state: 'acknowledged', escalated: true }),
        alert({ state: 'resolved' }),
      ]),
    ).toEqual({ open: 1, acknowledged: 1, worstSeverity: 'critical', escalated: true });
    expect(badgeOf([])).toEqual({ open: 0, acknowledged: 0, worstSeverity: null, escalated: false });
  });
});
