import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accessReach,
  ACCESS_REACHES,
  DEFAULT_REVIEW_RULES,
  isOffHours,
  reviewAccesses,
  swedishLocalDate,
  swedishLocalHour,
  type AccessHour,
  type AccessReach,
} from '../../src/domain/audit-review.ts';
import { swedishDayIndex, swedishLocalTime } from '../../src/domain/swedish-time.ts';

const HOUR = 3_600_000;
const STOCKHOLM_HOUR = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Stockholm',
  hour: '2-digit',
  hourCycle: 'h23',
});
const STOCKHOLM_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Stockholm', dateStyle: 'short' });

const day0 = swedishDayIndex(Date.parse('2026-10-05T12:00:00Z'));
function hour(
  userId: string,
  patientId: string,
  day: number,
  localHour: number,
  more: Partial<AccessHour> = {},
): AccessHour {
  const hourStart = swedishLocalTime(day0 + day, localHour);
  return {
    userId,
    patientId,
    hourStart,
    reach: 'responsible',
    events: 1,
    actions: ['patient.read'],
    firstAt: hourStart + 60_000,
    lastAt: hourStart + 120_000,
    ...more,
  };
}

describe('Swedish local hours and dates of the review', () => {
  it('agree with the time-zone database (Europe/Stockholm) for any instant of 2000-2099', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }), (at) => {
        expect(swedishLocalHour(at)).toBe(Number(STOCKHOLM_HOUR.format(at)));
        expect(swedishLocalDate(at)).toBe(STOCKHOLM_DATE.format(at));
      }),
      { numRuns: 2000 },
    );
  });

  it('count 07:00-18:59 as the working day, 19:00-06:59 as off hours, in summer and winter time', () => {
    for (const date of ['2026-01-15', '2026-07-15']) {
      const day = swedishDayIndex(Date.parse(`${date}T12:00:00Z`));
      expect(isOffHours(swedishLocalTime(day, 6.99), DEFAULT_REVIEW_RULES)).toBe(true);
      expect(isOffHours(swedishLocalTime(day, 7), DEFAULT_REVIEW_RULES)).toBe(false);
      expect(isOffHours(swedishLocalTime(day, 18.99), DEFAULT_REVIEW_RULES)).toBe(false);
      expect(isOffHours(swedishLocalTime(day, 19), DEFAULT_REVIEW_RULES)).toBe(true);
      expect(isOffHours(swedishLocalTime(day, 22), DEFAULT_REVIEW_RULES)).toBe(true);
    }
  });
});

describe('how a user reached the patient', () => {
  it('takes the reach the trail recorded, else membership of the responsible team', () => {
    expect(accessReach('granted', false)).toBe('granted');
    expect(accessReach('escalation', false)).toBe('escalation');
    expect(accessReach('sysadmin', false)).toBe('sysadmin');
    expect(accessReach(undefined, true)).toBe('responsible');
    expect(accessReach(null, false)).toBe('outside');
    // Another meaning of `via` in some events (e.g. the meter page) says nothing about reach.
    expect(accessReach('meter-page', true)).toBe('responsible');
  });
});

describe('the log review', () => {
  it('flags reads through a grant, an escalation, from outside the team, off hours and in unusual volume', () => {
    const hours = [
      hour('nurse', 'p1', 0, 10),
      hour('nurse', 'p2', 1, 14),
      hour('other-team', 'p1', 0, 11, { reach: 'granted' }),
      hour('on-call', 'p3', 0, 12, { reach: 'escalation' }),
      hour('former', 'p1', 1, 9, { reach: 'outside' }),
      hour('root', 'p2', 1, 9, { reach: 'sysadmin' }),
      hour('nurse', 'p3', 1, 22),
      ...Array.from({ length: 11 }, (_, i) => hour('heavy', `q${i}`, 2, 13)),
    ];
    const { findings, volume } = reviewAccesses(hours);
    const d = (day: number) => swedishLocalDate(swedishLocalTime(day0 + day, 12));
    expect(findings.map((f) => `${f.reason} ${f.userId} ${f.patientId} ${f.day}`).sort()).toEqual(
      [
        `granted other-team p1 ${d(0)}`,
        `escalation on-call p3 ${d(0)}`,
        `outside_team former p1 ${d(1)}`,
        `outside_team root p2 ${d(1)}`,
        `off_hours nurse p3 ${d(1)}`,
        `high_volume heavy null ${d(2)}`,
      ].sort(),
    );
    expect(volume).toEqual({ medianPerUserDay: 1, threshold: 10 });
    expect(findings.find((f) => f.reason === 'high_volume')).toMatchObject({ distinctPatients: 11, events: 11 });
  });

  it('does not count list views, the team report or the review itself towards volume, but checks them for the rest', () => {
    const list = Array.from({ length: 40 }, (_, i) =>
      hour('nurse', `p${i}`, 0, 20, { actions: ['board.read', 'patient.list'], events: 3 }),
    );
    const review = Array.from({ length: 40 }, (_, i) => hour('admin', `p${i}`, 0, 10, { actions: ['audit.read'] }));
    const report = Array.from({ length: 40 }, (_, i) =>
      hour('physician', `p${i}`, 0, 10, { actions: ['report.read', 'report.export'] }),
    );
    const { findings } = reviewAccesses([...list, ...review, ...report]);
    expect(findings.every((f) => f.reason === 'off_hours' && f.userId === 'nurse')).toBe(true);
    expect(findings).toHaveLength(40);
  });

  it('judges volume against the team: three times its median user-day, and never at or below the minimum', () => {
    // A team whose members each open 8 patients a day: 24 is normal there, 25 is not.
    const normal = ['a', 'b', 'c', 'd', 'e'].flatMap((u) =>
      Array.from({ length: 8 }, (_, i) => hour(u, `p${i}`, 0, 10)),
    );
    const busy = (n: number) => Array.from({ length: n }, (_, i) => hour('busy', `b${i}`, 0, 11));
    expect(reviewAccesses([...normal, ...busy(24)]).findings).toEqual([]);
    const flagged = reviewAccesses([...normal, ...busy(25)]);
    expect(flagged.volume).toEqual({ medianPerUserDay: 8, threshold: 24 });
    expect(flagged.findings.map((f) => [f.reason, f.userId, f.distinctPatients])).toEqual([
      ['high_volume', 'busy', 25],
    ]);
  });

  const reaches = fc.constantFrom<AccessReach>(...ACCESS_REACHES);
  const accessHour = fc.record({
    userId: fc.constantFrom('u1', 'u2', 'u3', 'u4'),
    patientId: fc.constantFrom(...Array.from({ length: 15 }, (_, i) => `p${i}`)),
    hourStart: fc.integer({ min: 0, max: 24 * 20 }).map((h) => Date.UTC(2026, 2, 20) + h * HOUR),
    reach: reaches,
    events: fc.integer({ min: 1, max: 50 }),
    actions: fc.subarray(['patient.read', 'readings.read', 'board.read', 'audit.read'], { minLength: 1 }),
    offset: fc.integer({ min: 0, max: HOUR - 1 }),
  });
  const accessHours = fc
    .array(accessHour, { maxLength: 120 })
    .map((list) =>
      list.map(
        ({ offset, ...h }) => ({ ...h, firstAt: h.hourStart + offset, lastAt: h.hourStart + offset }) as AccessHour,
      ),
    );

  it('flags an hour for reach or hours exactly when its reach or its Swedish hour says so (property)', () => {
    fc.assert(
      fc.property(accessHours, (hours) => {
        const { findings } = reviewAccesses(hours);
        for (const h of hours) {
          const day = swedishLocalDate(h.hourStart);
          const has = (reason: string) =>
            findings.some(
              (f) => f.reason === reason && f.userId === h.userId && f.patientId === h.patientId && f.day === day,
            );
          // One finding per user, patient and day: off hours if any of that day's hours was.
          expect(has('off_hours')).toBe(offHoursThatDay(hours, h, day));
          if (isOffHours(h.hourStart, DEFAULT_REVIEW_RULES)) expect(has('off_hours')).toBe(true);
          if (h.reach === 'granted') expect(has('granted')).toBe(true);
          if (h.reach === 'escalation') expect(has('escalation')).toBe(true);
          if (h.reach === 'outside' || h.reach === 'sysadmin') expect(has('outside_team')).toBe(true);
        }
        // Nothing is flagged that no input supports.
        for (const f of findings) {
          const support = hours.filter(
            (h) =>
              h.userId === f.userId &&
              swedishLocalDate(h.hourStart) === f.day &&
              (f.patientId === null || h.patientId === f.patientId),
          );
          expect(support.length).toBeGreaterThan(0);
          expect(f.events).toBeLessThanOrEqual(support.reduce((n, h) => n + h.events, 0));
          if (f.reason === 'granted') expect(support.some((h) => h.reach === 'granted')).toBe(true);
          if (f.reason === 'off_hours')
            expect(support.some((h) => isOffHours(h.hourStart, DEFAULT_REVIEW_RULES))).toBe(true);
          if (f.reason === 'high_volume') {
            expect(f.threshold!).toBeGreaterThanOrEqual(DEFAULT_REVIEW_RULES.volumeMinimum);
            expect(f.distinctPatients!).toBeGreaterThan(f.threshold!);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same findings in whatever order the hours come (property)', () => {
    fc.assert(
      fc.property(accessHours, fc.integer(), (hours, seed) => {
        const shuffled = [...hours].sort((a, b) => ((a.hourStart ^ seed) % 7) - ((b.hourStart ^ seed) % 7));
        expect(reviewAccesses(shuffled)).toEqual(reviewAccesses(hours));
      }),
      { numRuns: 200 },
    );
  });

  it('finds nothing in ordinary daytime work by the responsible team (property)', () => {
    fc.assert(
      fc.property(accessHours, (hours) => {
        const ordinary = hours.map((h) => ({
          ...h,
          reach: 'responsible' as const,
          hourStart: swedishLocalTime(swedishDayIndex(h.hourStart), 7 + ((h.hourStart / HOUR) % 12)),
        }));
        expect(reviewAccesses(ordinary).findings.filter((f) => f.reason !== 'high_volume')).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

/** Whether any hour of the same user, patient and Swedish day is off hours. */
function offHoursThatDay(hours: AccessHour[], h: AccessHour, day: string): boolean {
  return hours.some(
    (o) =>
      o.userId === h.userId &&
      o.patientId === h.patientId &&
      swedishLocalDate(o.hourStart) === day &&
      isOffHours(o.hourStart, DEFAULT_REVIEW_RULES),
  );
}
