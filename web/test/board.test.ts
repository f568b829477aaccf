import { describe, expect, it } from 'vitest';
import type { BoardReading } from '@glucoboard/core/wire';
import { applyReading, labelsOf, matchesFilter, orderRows } from '../src/lib/board/rows';
import { alert, ranges, row } from './fixtures';

const MINUTE = 60_000;
const generated = Date.parse('2025-03-01T12:00:00.000Z');
const board = { generatedAt: new Date(generated).toISOString(), sparklineHours: 24, sparklineBinMinutes: 15 };
const origin = generated - 24 * 60 * MINUTE;
const at = (ms: number) => new Date(ms).toISOString();

const reading = (patientId: string, minutesAfter: number, mmol: number | null, extra: Partial<BoardReading> = {}) => ({
  patientId,
  teamId: 't',
  measuredAt: at(generated + minutesAfter * MINUTE),
  mmol,
  flag: null,
  kind: 'cgm' as const,
  source: 'device' as const,
  ...extra,
});

describe('a live reading on its row', () => {
  const base = row({
    id: 'p',
    name: 'P',
    monitoring: 'bgm',
    lastReading: { measuredAt: at(generated - 60 * MINUTE), mmol: 6, flag: null, kind: 'bgm', source: 'device' },
    sparkline: [[origin + 92 * 15 * MINUTE, 6, 6, 6, 1, null]],
  });

  it('becomes the last reading, a trend value and a point in its sparkline bin', () => {
    const now = generated + 5 * MINUTE;
    const next = applyReading(base, reading('p', 4, 8), board, now);
    expect(next.lastReading).toMatchObject({ mmol: 8, kind: 'cgm' });
    expect(next.monitoring).toBe('cgm');
    expect(next.recentCgm).toEqual([{ measuredAt: at(generated + 4 * MINUTE), mmol: 8 }]);
    const bin = next.sparkline.at(-1)!;
    expect(bin).toEqual([origin + 96 * 15 * MINUTE, 8, 8, 8, 1, null]);
    // A second value in the same bin updates its mean, minimum and maximum.
    const again = applyReading(next, reading('p', 9, 6), board, now + 5 * MINUTE);
    expect(again.sparkline.at(-1)).toEqual([origin + 96 * 15 * MINUTE, 7, 6, 8, 2, null]);
    expect(again.recentCgm.map((r) => r.mmol)).toEqual([8, 6]);
  });

  it('is idempotent for what the board answer already held, and ignores others and control solution', () => {
    const now = generated + MINUTE;
    const replay = reading('p', -(24 * 60 - 92 * 15 - 5), 9, { kind: 'bgm' });
    expect(applyReading(base, replay, board, now).sparkline).toEqual(base.sparkline);
    expect(applyReading(base, reading('q', 1, 3), board, now)).toBe(base);
    expect(applyReading(base, reading('p', 1, 25, { kind: 'control' }), board, now)).toBe(base);
    // An older reading does not replace the last one.
    const older = applyReading(base, reading('p', -120, 4, { kind: 'bgm' }), board, now);
    expect(older.lastReading?.mmol).toBe(6);
  });

  it("bins on the clock's grid, as the server does, whenever the answer was made", () => {
    const offGrid = { ...board, generatedAt: at(generated + 7 * MINUTE) };
    const next = applyReading(base, reading('p', 8, 7), offGrid, generated + 9 * MINUTE);
    expect(next.sparkline.at(-1)).toEqual([generated, 7, 7, 7, 1, null]);
  });

  it('marks LO in its bin without a number', () => {
    const next = applyReading(base, reading('p', 2, null, { flag: 'LO', kind: 'bgm' }), board, generated + 3 * MINUTE);
    expect(next.sparkline.at(-1)).toMatchObject([generated, null, null, null, 0, 'LO']);
    expect(next.lastReading).toMatchObject({ mmol: null, flag: 'LO' });
  });
});

describe('the order of the board', () => {
  const now = generated;
  const rows = [
    row({ id: 'rest', name: 'Anna' }),
    row({ id: 'high', name: 'Bo', statistics: { ...row({ id: 'x', name: 'x' }).statistics, ranges: ranges(60) } }),
    row({ id: 'crit', name: 'Cecilia' }),
    row({
      id: 'nodata',
      name: 'Dan',
      lastReading: null,
      statistics: {
        ...row({ id: 'x', name: 'x' }).statistics,
        count: 0,
        ranges: ranges(null),
        previousCount: 0,
        previousRanges: ranges(null),
      },
    }),
  ];

  it('is the domain triage with the alerts the board holds, re-sorted when an alert comes', () => {
    const none = orderRows(rows, () => [], now, 'sv-SE');
    expect(none.map((r) => [r.row.id, r.key.category])).toEqual([
      ['high', 'high'],
      ['nodata', 'too_little_data'],
      ['rest', 'rest'],
      ['crit', 'rest'],
    ]);
    const critical = alert({ patientId: 'crit' });
    const withAlert = orderRows(rows, (id) => (id === 'crit' ? [critical] : []), now, 'sv-SE');
    expect(withAlert.map((r) => r.row.id)).toEqual(['crit', 'high', 'nodata', 'rest']);
    expect(withAlert[0]!.alerts).toEqual([critical]);
    // Acknowledged is not resolved (issue 11 item 1): the patient stays with the criticals, after the open ones.
    const taken = { ...critical, state: 'acknowledged' as const };
    const takenOrder = orderRows(rows, (id) => (id === 'crit' ? [taken] : []), now, 'sv-SE');
    expect(takenOrder.map((r) => [r.row.id, r.key.category])[0]).toEqual(['crit', 'critical_acknowledged']);
    const other = alert({ patientId: 'rest' });
    const both = orderRows(rows, (id) => (id === 'crit' ? [taken] : id === 'rest' ? [other] : []), now, 'sv-SE');
    expect(both.map((r) => r.row.id).slice(0, 2)).toEqual(['rest', 'crit']);
    const resolved = { ...critical, state: 'resolved' as const };
    expect(orderRows(rows, (id) => (id === 'crit' ? [resolved] : []), now, 'sv-SE').at(-1)!.row.id).toBe('crit');
  });

  it('moves a patient to too little data once the no-data period passes', () => {
    const quiet = row({
      id: 'q',
      name: 'Q',
      lastReading: { measuredAt: at(now - 47 * 60 * MINUTE), mmol: 6, flag: null, kind: 'bgm', source: 'device' },
    });
    expect(orderRows([quiet], () => [], now, 'sv-SE')[0]!.key.category).toBe('rest');
    expect(orderRows([quiet], () => [], now + 2 * 60 * MINUTE, 'sv-SE')[0]!.key.category).toBe('too_little_data');
  });
});

describe('filters', () => {
  const p = { name: 'Gösta Lindfors', labels: ['säbo', 'typ 2'] };

  it('match a label exactly and text in the name or labels, ignoring case and accents', () => {
    expect(matchesFilter(p, { label: '', text: '' })).toBe(true);
    expect(matchesFilter(p, { label: 'säbo', text: '' })).toBe(true);
    expect(matchesFilter(p, { label: 'typ 1', text: '' })).toBe(false);
    expect(matchesFilter(p, { label: '', text: 'gosta' })).toBe(true);
    expect(matchesFilter(p, { label: '', text: 'LIND' })).toBe(true);
    expect(matchesFilter(p, { label: '', text: 'sabo' })).toBe(true);
    expect(matchesFilter(p, { label: 'säbo', text: 'anna' })).toBe(false);
    expect(labelsOf([p, { labels: ['gravid', 'säbo'] }], 'sv-SE')).toEqual(['gravid', 'säbo', 'typ 2']);
  });
});
