import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertView, ReadingView } from '@glucoboard/core/wire';
import {
  alertsOfPeriod,
  readingsByDay,
  readingsExportUrl,
  reportDays,
  reportDaysUpTo,
  timePerDay,
} from '../src/lib/print/report';

// The printable AGP report's arithmetic (web/src/lib/print/report.ts). Swedish calendar days are
// checked against the platform's time-zone database (Intl, Europe/Stockholm).
const HOUR = 3_600_000;
const stockholmDate = (ms: number) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', dateStyle: 'short' }).format(new Date(ms));
const stockholmClock = (ms: number) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', timeStyle: 'short' }).format(new Date(ms));

describe('the AGP report', () => {
  it('takes the period from ?days=, one of 7, 14, 30 and 90, else 14', () => {
    expect([7, 14, 30, 90].map((d) => reportDays(String(d)))).toEqual([7, 14, 30, 90]);
    for (const other of [null, '', '0', '15', '-7', '14.0x', 'abc', '365']) expect(reportDays(other)).toBe(14);
  });

  it('draws the days of the daily profiles midnight to midnight, Swedish time, ending today', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }),
        fc.integer({ min: 1, max: 14 }),
        (now, count) => {
          const days = reportDaysUpTo(new Date(now), count);
          expect(days).toHaveLength(count);
          expect(stockholmDate(days.at(-1)!.start)).toBe(stockholmDate(now));
          for (const [i, d] of days.entries()) {
            expect(stockholmClock(d.start)).toBe('00:00');
            expect(d.end).toBeGreaterThan(d.start);
            // 23, 24 or 25 hours: the clock changes in March and October.
            expect([23, 24, 25]).toContain((d.end - d.start) / HOUR);
            if (i > 0) expect(d.start).toBe(days[i - 1]!.end);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('puts each reading in its day and leaves control solution out', () => {
    const days = reportDaysUpTo(new Date('2026-03-30T12:00:00Z'), 3); // over the clock change of 29 March
    const reading = (measuredAt: string, kind: ReadingView['kind'] = 'cgm'): ReadingView => ({
      measuredAt,
      mmol: 6,
      flag: null,
      kind,
      source: 'device',
      seq: 1,
    });
    const byDay = readingsByDay(
      [
        reading('2026-03-27T23:30:00Z'), // 28 March 00:30 CET
        reading('2026-03-28T22:59:00Z'), // 28 March 23:59 CET
        reading('2026-03-28T23:00:00Z'), // 29 March 00:00 CET
        reading('2026-03-29T21:59:00Z'), // 29 March 23:59 CEST
        reading('2026-03-29T22:00:00Z'), // 30 March 00:00 CEST
        reading('2026-03-30T08:00:00Z', 'control'),
      ],
      days,
    );
    expect(byDay.map((d) => d.length)).toEqual([2, 2, 1]);
  });

  it('says a share of the time as hours and minutes a day', () => {
    expect(timePerDay(70)).toEqual({ hours: 16, minutes: 48 });
    expect(timePerDay(4)).toEqual({ hours: 0, minutes: 58 });
    expect(timePerDay(100)).toEqual({ hours: 24, minutes: 0 });
    expect(timePerDay(null)).toBeNull();
  });

  it('lists the alerts of the period, oldest first, with those running into it', () => {
    const alert = (id: string, firstReadingAt: string, resolvedAt: string | null) =>
      // Opened later than its first reading, as from readings a meter uploaded late.
      ({ id, firstReadingAt, openedAt: '2026-12-01T00:00:00Z', resolvedAt }) as AlertView;
    const from = new Date('2026-11-01T00:00:00Z');
    const to = new Date('2026-11-15T00:00:00Z');
    const listed = alertsOfPeriod(
      [
        alert('after', '2026-11-15T00:00:00Z', null),
        alert('inside', '2026-11-10T00:00:00Z', '2026-11-10T01:00:00Z'),
        alert('runningInto', '2026-10-31T22:00:00Z', '2026-11-01T01:00:00Z'),
        alert('before', '2026-10-30T00:00:00Z', '2026-10-31T00:00:00Z'),
        alert('stillOpen', '2026-10-01T00:00:00Z', null),
      ],
      from,
      to,
    );
    expect(listed.map((a) => a.id)).toEqual(['stillOpen', 'runningInto', 'inside']);
  });

  it('asks the readings export for exactly the days chosen, ending at the click', () => {
    const now = new Date('2026-12-03T10:00:00Z');
    const url = new URL(readingsExportUrl('3f1c2a4e-0000-4000-8000-000000000001', 90, now), 'http://x');
    expect(url.pathname).toBe('/api/patients/3f1c2a4e-0000-4000-8000-000000000001/readings');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      format: 'csv',
      from: '2026-09-04T10:00:00.000Z',
      to: '2026-12-03T10:00:00.000Z',
    });
  });
});
