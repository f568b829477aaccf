import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ambulatoryProfile,
  compareTriage,
  percentile,
  summarize,
  swedishMinuteOfDay,
  tooLittleData,
  triage,
  TRIAGE_CATEGORIES,
  type GlucoseReading,
  type GlucoseSummary,
  type RangeShares,
  type SummaryOptions,
  type TriageInput,
} from '../../src/domain/statistics.ts';
import { assessTargets, type TargetShares } from '../../src/domain/targets.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = new Date('2025-03-17T12:00:00Z');
/** `minutes` before NOW. */
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * MINUTE);

const BGM_14: SummaryOptions = { now: NOW, days: 14, deviceKind: 'bgm' };

/** A reading `minutesAgo` before NOW: a number, or the meter's LO/HI. */
function reading(
  value: number | 'LO' | 'HI',
  minutesAgo = 60,
  kind: GlucoseReading['kind'] = 'bgm',
  mmolWithFlag: number | null = null,
): GlucoseReading {
  return typeof value === 'number'
    ? { measuredAt: ago(minutesAgo), mmol: value, flag: null, kind }
    : { measuredAt: ago(minutesAgo), mmol: mmolWithFlag, flag: value, kind };
}
const readingsOf = (values: Array<number | 'LO' | 'HI'>, kind: GlucoseReading['kind'] = 'bgm') =>
  values.map((v, i) => reading(v, 60 * (i + 1), kind));

describe('summarize', () => {
  it('computes mean, sample SD, CV, GMI in both units and readings per day of a small set by hand', () => {
    // 4, 5, 6, 7, 8: mean 6; squared deviations 4 + 1 + 0 + 1 + 4 = 10, sample variance 10 / 4 = 2.5.
    const s = summarize(readingsOf([4, 5, 6, 7, 8]), BGM_14);
    expect(s.count).toBe(5);
    expect(s.mean).toBe(6);
    expect(s.sd).toBeCloseTo(1.5811388300841898, 12);
    expect(s.cv).toBeCloseTo(26.352313834736496, 10); // 100 x 1.58114 / 6
    expect(s.gmi).toBeCloseTo(5.895598912, 10); // 3.31 + 0.02392 x (6 x 18.0156 = 108.0936 mg/dL)
    expect(s.gmiMmolMol).toBeCloseTo(40.94522, 10); // 12.71 + 4.70587 x 6
    expect(s.ranges).toEqual({ veryLow: 0, low: 0, inRange: 100, high: 0, veryHigh: 0 });
    expect(s.gri).toBe(0);
    expect(s.griZone).toBe('A');
    expect(s.readingsPerDay).toBeCloseTo(5 / 14, 12);
    expect(s.dataSufficiency).toBeNull();
  });

  it('puts the consensus boundaries on the right side, LO/HI in the extreme ranges, and caps GRI at 100', () => {
    const s = summarize(readingsOf([2.9, 3.0, 3.8, 3.9, 10.0, 10.1, 13.9, 14.0, 'LO', 'HI']), BGM_14);
    expect(s.count).toBe(10);
    expect(s.ranges).toEqual({ veryLow: 20, low: 20, inRange: 20, high: 20, veryHigh: 20 });
    // The 8 numbers sum to 61.6: mean 7.7; squared deviations sum to 163.96 (LO and HI have no number).
    expect(s.mean).toBeCloseTo(7.7, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(163.96 / 7), 12);
    expect(s.sd).toBeCloseTo(4.8397166, 7);
    expect(s.cv).toBeCloseTo((100 * Math.sqrt(163.96 / 7)) / 7.7, 10);
    expect(s.gmi).toBeCloseTo(6.6281852704, 10); // 3.31 + 0.02392 x 138.72012 mg/dL
    expect(s.gmiMmolMol).toBeCloseTo(48.945199, 10); // 12.71 + 4.70587 x 7.7
    // 3.0 x 20 + 2.4 x 20 + 1.6 x 20 + 0.8 x 20 = 156, capped.
    expect(s.gri).toBe(100);
    expect(s.griZone).toBe('E');
  });

  it.each([
    [2.9, 'veryLow'],
    [3.0, 'low'],
    [3.8, 'low'],
    [3.9, 'inRange'],
    [10.0, 'inRange'],
    [10.1, 'high'],
    [13.9, 'high'],
    [14.0, 'veryHigh'],
  ] as const)('counts %f mmol/L as %s', (mmol, range) => {
    const s = summarize([reading(mmol)], BGM_14);
    expect(s.ranges[range]).toBe(100);
    expect(Object.values(s.ranges).filter((share) => share === 0)).toHaveLength(4);
  });

  it.each([
    // [very low, low, high, very high, in range] counts -> GRI and zone; boundaries belong to the lower zone.
    [[1, 0, 0, 0, 14], 20, 'A'], // 3.0 x 100/15
    [[1, 0, 0, 0, 13], 300 / 14, 'B'],
    [[2, 0, 0, 0, 13], 40, 'B'],
    [[0, 1, 0, 0, 5], 40, 'B'], // 2.4 x 100/6
    [[1, 0, 0, 0, 4], 60, 'C'],
    [[1, 0, 0, 0, 3], 75, 'D'],
    [[0, 0, 0, 1, 1], 80, 'D'], // 1.6 x 50
    [[0, 0, 2, 0, 0], 80, 'D'], // 0.8 x 100
    [[0, 0, 1, 1, 0], 100, 'E'], // 80 + 40, capped
    [[0, 0, 1, 0, 0], 80, 'D'],
    [[0, 1, 0, 0, 1], 120, 'E'],
  ] as const)('GRI of counts %j is %f, zone %s', ([veryLow, low, high, veryHigh, inRange], gri, zone) => {
    const values = [
      ...Array<number>(veryLow).fill(2.5),
      ...Array<number>(low).fill(3.5),
      ...Array<number>(high).fill(12),
      ...Array<number>(veryHigh).fill(16),
      ...Array<number>(inRange).fill(6),
    ];
    const s = summarize(readingsOf(values), BGM_14);
    expect(s.gri).toBe(Math.min(100, gri));
    expect(s.griZone).toBe(zone);
  });

  it('leaves control-solution readings out of everything', () => {
    const patient = readingsOf([5, 6, 7, 12]);
    const controls = [reading(2.0, 30, 'control'), reading(25, 90, 'control'), reading(10.5, 150, 'control')];
    expect(summarize([...patient, ...controls], BGM_14)).toEqual(summarize(patient, BGM_14));
    expect(summarize(controls, BGM_14).count).toBe(0);
  });

  it('counts LO and HI in count and the ranges but not in mean or SD, whatever number came with the flag', () => {
    const s = summarize([reading(5), reading(7, 120), reading('LO', 180, 'bgm', 0.6), reading('HI', 240)], BGM_14);
    expect(s.count).toBe(4);
    expect(s.ranges).toEqual({ veryLow: 25, low: 0, inRange: 50, high: 0, veryHigh: 25 });
    expect(s.mean).toBe(6);
    expect(s.sd).toBeCloseTo(Math.SQRT2, 12);
    const onlyFlags = summarize([reading('LO'), reading('HI', 120)], BGM_14);
    expect(onlyFlags).toMatchObject({ count: 2, mean: null, sd: null, cv: null, gmi: null, gmiMmolMol: null });
    expect(onlyFlags.gri).toBe(100); // 3.0 x 50 + 1.6 x 50 = 230, capped
  });

  it('answers an empty period with count 0 and null statistics, not NaN', () => {
    const expected: GlucoseSummary = {
      count: 0,
      mean: null,
      sd: null,
      cv: null,
      gmi: null,
      gmiMmolMol: null,
      gri: null,
      griZone: null,
      ranges: { veryLow: null, low: null, inRange: null, high: null, veryHigh: null },
      targets: assessTargets([0, 0, 0, 0, 0, 0, 0], 'standard'),
      readingsPerDay: 0,
      dataSufficiency: null,
    };
    expect(summarize([], BGM_14)).toEqual(expected);
    expect(summarize([], { ...BGM_14, deviceKind: 'cgm' })).toEqual({ ...expected, dataSufficiency: 0 });
  });

  it('has no SD (nor CV) for a single number', () => {
    expect(summarize([reading(6.2)], BGM_14)).toMatchObject({ count: 1, mean: 6.2, sd: null, cv: null });
  });

  it('takes the period [now - days, now): the first instant in, now and before the start out', () => {
    const s = summarize(
      [reading(5, 14 * 24 * 60), reading(20, 14 * 24 * 60 + 1), reading(20, 0), reading(20, -10)],
      BGM_14,
    );
    expect(s).toMatchObject({ count: 1, mean: 5 });
    expect(summarize([reading(5, 3 * 24 * 60)], { ...BGM_14, days: 2 }).count).toBe(0);
  });

  describe('data sufficiency (CGM: share of 5-minute slots with a reading)', () => {
    const cgmEvery = (minutes: number, days: number) =>
      Array.from({ length: (days * DAY) / (minutes * MINUTE) }, (_, i) => reading(6, i * minutes + 0.5, 'cgm'));

    it('is 100 % for a reading every 5 minutes, 50 % for one every 10 minutes', () => {
      expect(summarize(cgmEvery(5, 1), { now: NOW, days: 1, deviceKind: 'cgm' }).dataSufficiency).toBe(100);
      expect(summarize(cgmEvery(10, 1), { now: NOW, days: 1, deviceKind: 'cgm' }).dataSufficiency).toBe(50);
      expect(summarize(cgmEvery(5, 2), { now: NOW, days: 14, deviceKind: 'cgm' }).dataSufficiency).toBeCloseTo(
        (100 * 2) / 14,
        10,
      );
    });

    it('does not go over 100 % for a sensor that reads every minute', () => {
      const s = summarize(cgmEvery(1, 1), { now: NOW, days: 1, deviceKind: 'cgm' });
      expect(s.count).toBe(1440);
      expect(s.readingsPerDay).toBe(1440);
      expect(s.dataSufficiency).toBe(100);
    });

    it("counts the clock's slots, so a period that starts inside a slot can hold one more", () => {
      // 2.5 minutes into a slot: the day overlaps 289 of the clock's slots, the first and last
      // in part. A reading every 5 minutes lying at :01 of each slot fills 288 of them (the first
      // slot's :01 is before the period); one more in the last part-slot fills all 289.
      const now = new Date(NOW.getTime() + 2.5 * MINUTE);
      const from = now.getTime() - DAY;
      const slotStart = Math.ceil(from / (5 * MINUTE)) * 5 * MINUTE;
      const every = Array.from({ length: 288 }, (_, i) => ({
        measuredAt: new Date(slotStart + i * 5 * MINUTE + MINUTE),
        mmol: 6,
        flag: null,
        kind: 'cgm' as const,
      }));
      const options = { now, days: 1, deviceKind: 'cgm' } as const;
      expect(summarize(every, options).dataSufficiency).toBeCloseTo((100 * 288) / 289, 12);
      const inFirstPart = { ...every[0]!, measuredAt: new Date(from + MINUTE) };
      expect(summarize([...every, inFirstPart], options).dataSufficiency).toBe(100);
    });

    it('counts CGM readings only, and is null for a patient without CGM', () => {
      const fingersticks = readingsOf([5, 6, 7]);
      expect(summarize(fingersticks, { now: NOW, days: 1, deviceKind: 'cgm' }).dataSufficiency).toBe(0);
      expect(summarize(cgmEvery(5, 1), { now: NOW, days: 1, deviceKind: 'bgm' }).dataSufficiency).toBeNull();
    });
  });
});

describe('percentile (type 7, linear interpolation)', () => {
  it.each([
    [[1, 2, 3, 4, 5], 0.05, 1.2],
    [[1, 2, 3, 4, 5], 0.25, 2],
    [[1, 2, 3, 4, 5], 0.5, 3],
    [[1, 2, 3, 4, 5], 0.95, 4.8],
    [[4, 6, 8, 10], 0.05, 4.3],
    [[4, 6, 8, 10], 0.25, 5.5],
    [[4, 6, 8, 10], 0.5, 7],
    [[4, 6, 8, 10], 0.75, 8.5],
    [[4, 6, 8, 10], 0.95, 9.7],
    [[7.5], 0.05, 7.5],
    [[7.5], 0.95, 7.5],
  ])('of %j at %f is %f', (values, p, expected) => {
    expect(percentile(values, p)).toBeCloseTo(expected, 12);
  });

  it('is null for no values', () => {
    expect(percentile([], 0.5)).toBeNull();
  });
});

describe('ambulatoryProfile', () => {
  const AGP_NOW = new Date('2025-07-20T00:00:00Z');
  const at = (iso: string, mmol: number | null = 6, flag: GlucoseReading['flag'] = null): GlucoseReading => ({
    measuredAt: new Date(iso),
    mmol,
    flag,
    kind: 'cgm',
  });

  it('bins by Swedish local time: 07:05Z in winter (CET) and 06:10Z in summer (CEST) are both 08:00', () => {
    expect(swedishMinuteOfDay(new Date('2025-01-15T07:05:00Z'))).toBe(8 * 60 + 5);
    expect(swedishMinuteOfDay(new Date('2025-07-15T06:10:00Z'))).toBe(8 * 60 + 10);
    expect(swedishMinuteOfDay(new Date('2025-07-15T22:30:00Z'))).toBe(30); // 00:30 on the 16th
    const agp = ambulatoryProfile([at('2025-01-15T07:05:00Z', 5), at('2025-07-15T06:10:00Z', 7)], {
      now: AGP_NOW,
      days: 200,
    });
    expect(agp.binMinutes).toBe(15);
    expect(agp.bins).toHaveLength(96);
    expect(agp.bins[32]).toEqual({ minuteOfDay: 480, count: 2, p5: 5.1, p25: 5.5, p50: 6, p75: 6.5, p95: 6.9 });
    expect(agp.bins.filter((b) => b.count > 0)).toHaveLength(1);
  });

  it('gives the percentiles of a known set per bin, and nulls for empty bins', () => {
    // Five days at 08:00-08:14 local (CEST: 06:00Z) with 1..5 mmol/L; four at 21:00-21:59 with 4, 6, 8, 10.
    const morning = [1, 2, 3, 4, 5].map((v, day) =>
      at(`2025-07-${String(10 + day).padStart(2, '0')}T06:0${day}:00Z`, v),
    );
    const evening = [10, 4, 8, 6].map((v, day) =>
      at(`2025-07-${String(10 + day).padStart(2, '0')}T19:${String(10 * day).padStart(2, '0')}:00Z`, v),
    );
    const agp = ambulatoryProfile([...evening, ...morning], { now: AGP_NOW, days: 14, binMinutes: 60 });
    expect(agp.bins).toHaveLength(24);
    const [eight, nine] = [agp.bins[8]!, agp.bins[21]!];
    expect(eight.minuteOfDay).toBe(480);
    expect(eight.count).toBe(5);
    expect([eight.p5, eight.p25, eight.p50, eight.p75, eight.p95].map((p) => +p!.toFixed(10))).toEqual([
      1.2, 2, 3, 4, 4.8,
    ]);
    expect(nine.minuteOfDay).toBe(21 * 60);
    expect([nine.p5, nine.p25, nine.p50, nine.p75, nine.p95].map((p) => +p!.toFixed(10))).toEqual([
      4.3, 5.5, 7, 8.5, 9.7,
    ]);
    expect(agp.bins[0]).toEqual({ minuteOfDay: 0, count: 0, p5: null, p25: null, p50: null, p75: null, p95: null });
  });

  it('leaves out control solution, LO/HI and readings outside the period', () => {
    const agp = ambulatoryProfile(
      [
        at('2025-07-15T06:00:00Z', 6),
        { ...at('2025-07-15T06:01:00Z', 30), kind: 'control' },
        at('2025-07-15T06:02:00Z', null, 'LO'),
        at('2025-07-01T06:03:00Z', 20), // 19 days before
      ],
      { now: AGP_NOW, days: 14, binMinutes: 60 },
    );
    expect(agp.bins[8]).toMatchObject({ count: 1, p5: 6, p95: 6 });
  });

  it('refuses a bin width that does not divide a day', () => {
    expect(() => ambulatoryProfile([], { now: AGP_NOW, days: 14, binMinutes: 7 })).toThrow(RangeError);
    expect(() => ambulatoryProfile([], { now: AGP_NOW, days: 14, binMinutes: 0 })).toThrow(RangeError);
  });
});

describe('triage (the board order)', () => {
  /** Shares of the standard profile from consensus range shares in percent; the rest is in range. */
  const shares = (s: Partial<Omit<RangeShares, 'inRange'>> = {}): TargetShares => {
    const { veryLow = 0, low = 0, high = 0, veryHigh = 0 } = s as Record<string, number>;
    return {
      veryLow,
      belowRange: veryLow + low,
      inRange: 100 - veryLow - low - high - veryHigh,
      aboveRange: high + veryHigh,
      veryHigh,
    };
  };
  // No previous period unless a case gives one, so a range case does not also read as a TIR drop.
  const base: TriageInput = {
    alerts: [],
    profile: 'standard',
    current: shares(),
    previous: null,
    tooLittleData: false,
  };
  const t = (h: number) => new Date(NOW.getTime() - h * HOUR);

  it.each<[string, Partial<TriageInput>, string, number | null]>([
    [
      'critical first, by its oldest',
      {
        alerts: [
          { severity: 'warning', state: 'open', openedAt: t(10) },
          { severity: 'critical', state: 'open', openedAt: t(2) },
          { severity: 'critical', state: 'open', openedAt: t(3) },
        ],
      },
      'critical_alert',
      null,
    ],
    ['a warning', { alerts: [{ severity: 'warning', state: 'open', openedAt: t(1) }] }, 'warning_alert', null],
    ['info alerts do not count', { alerts: [{ severity: 'info', state: 'open', openedAt: t(1) }] }, 'rest', null],
    ['< 3.0 over 1 %', { current: shares({ veryLow: 1.5 }) }, 'very_low', 1.5],
    ['< 3.0 at exactly 1 %', { current: shares({ veryLow: 1 }) }, 'rest', null],
    ['< 3.9 over 4 %', { current: shares({ veryLow: 1, low: 3.5 }) }, 'low', 4.5],
    ['< 3.9 at exactly 4 %', { current: shares({ veryLow: 1, low: 3 }) }, 'rest', null],
    ['> 13.9 over 5 %', { current: shares({ veryHigh: 5.5, high: 20 }) }, 'very_high', 5.5],
    ['> 13.9 at exactly 5 %', { current: shares({ veryHigh: 5, high: 20 }) }, 'rest', null],
    ['> 10.0 over 25 %', { current: shares({ veryHigh: 4.5, high: 21 }) }, 'high', 25.5],
    ['> 10.0 at exactly 25 %', { current: shares({ veryHigh: 5, high: 20 }) }, 'rest', null],
    ['TIR down 16 points', { previous: shares({ high: 2 }), current: shares({ high: 18 }) }, 'tir_drop', 16],
    ['TIR down exactly 15 points', { previous: shares({ high: 2 }), current: shares({ high: 17 }) }, 'rest', null],
    ['TIR drop without a previous period', { previous: null, current: shares({ high: 24 }) }, 'rest', null],
    ['too little data', { tooLittleData: true }, 'too_little_data', null],
    [
      'no statistics and too little data',
      { current: null, previous: null, tooLittleData: true },
      'too_little_data',
      null,
    ],
    // Issue 11 item 1: no statistics at all is too little data, never "the rest".
    ['no statistics, readings recent enough', { current: null, previous: null }, 'too_little_data', null],
    [
      'an acknowledged critical stays with the criticals, before any warning',
      {
        alerts: [
          { severity: 'warning', state: 'open', openedAt: t(10) },
          { severity: 'critical', state: 'acknowledged', openedAt: t(2) },
        ],
      },
      'critical_acknowledged',
      null,
    ],
    [
      'an acknowledged warning stays with the warnings, before the range flags',
      { alerts: [{ severity: 'warning', state: 'acknowledged', openedAt: t(1) }], current: shares({ veryLow: 5 }) },
      'warning_acknowledged',
      null,
    ],
    // Issue 11 item 7: each patient is judged by their own target profile.
    ['older/high-risk: < 3.9 over 1 %', { profile: 'older_high_risk', current: shares({ low: 1.5 }) }, 'low', 1.5],
    [
      'older/high-risk: > 10.0 has no limit, > 13.9 over 10 %',
      { profile: 'older_high_risk', current: shares({ high: 40, veryHigh: 8 }) },
      'rest',
      null,
    ],
    [
      'pregnancy: above 7.8 over 25 %',
      {
        profile: 'pregnancy',
        current: { veryLow: 0, belowRange: 2, inRange: 72, aboveRange: 26, veryHigh: 1 },
      },
      'high',
      26,
    ],
    [
      'pregnancy: > 13.9 has no limit of its own',
      {
        profile: 'pregnancy',
        current: { veryLow: 0, belowRange: 2, inRange: 78, aboveRange: 20, veryHigh: 8 },
      },
      'rest',
      null,
    ],
    ['the rest', {}, 'rest', null],
  ])('%s', (_name, input, category, measure) => {
    const key = triage({ ...base, ...input });
    expect(key.category).toBe(category);
    expect(key.rank).toBe(TRIAGE_CATEGORIES.indexOf(key.category));
    if (measure !== null) expect(key.measure).toBeCloseTo(measure, 10);
  });

  it('names the oldest open alert of the winning severity', () => {
    const key = triage({
      ...base,
      alerts: [
        { severity: 'warning', state: 'open', openedAt: t(10) },
        { severity: 'critical', state: 'open', openedAt: t(2) },
        { severity: 'critical', state: 'open', openedAt: t(3) },
      ],
    });
    expect(key.since).toEqual(t(3));
  });

  it('sorts patients by category, alerts oldest first, range flags worst first', () => {
    const patients: Array<[string, TriageInput]> = [
      ['rest', base],
      ['warning new', { ...base, alerts: [{ severity: 'warning', state: 'open', openedAt: t(1) }] }],
      ['tir drop', { ...base, previous: shares(), current: shares({ high: 20 }) }],
      ['critical new', { ...base, alerts: [{ severity: 'critical', state: 'open', openedAt: t(1) }] }],
      ['high', { ...base, current: shares({ high: 30 }) }],
      ['very low 2', { ...base, current: shares({ veryLow: 2 }) }],
      ['too little', { ...base, tooLittleData: true }],
      ['critical old', { ...base, alerts: [{ severity: 'critical', state: 'open', openedAt: t(5) }] }],
      ['critical taken', { ...base, alerts: [{ severity: 'critical', state: 'acknowledged', openedAt: t(9) }] }],
      ['very high', { ...base, current: shares({ veryHigh: 6 }) }],
      ['low', { ...base, current: shares({ low: 5 }) }],
      ['warning old', { ...base, alerts: [{ severity: 'warning', state: 'open', openedAt: t(8) }] }],
      ['very low 3', { ...base, current: shares({ veryLow: 3 }) }],
    ];
    const order = patients
      .map(([name, input]) => ({ name, key: triage(input) }))
      .sort((a, b) => compareTriage(a.key, b.key))
      .map((p) => p.name);
    expect(order).toEqual([
      'critical old',
      'critical new',
      'critical taken',
      'warning old',
      'warning new',
      'very low 3',
      'very low 2',
      'low',
      'very high',
      'high',
      'tir drop',
      'too little',
      'rest',
    ]);
  });

  it.each([
    [{ dataSufficiency: 69.9, lastReadingAt: t(0.1) }, true],
    [{ dataSufficiency: 70, lastReadingAt: t(0.1) }, false],
    [{ dataSufficiency: null, lastReadingAt: t(47) }, false],
    [{ dataSufficiency: null, lastReadingAt: t(49) }, true],
    [{ dataSufficiency: null, lastReadingAt: null }, true],
  ])('too little data: %j -> %s (no-data period 48 h)', (input, expected) => {
    expect(tooLittleData({ ...input, noDataMinutes: 48 * 60, now: NOW })).toBe(expected);
  });
});

describe('properties', () => {
  const DAYS = 3;
  const arbitraryReading: fc.Arbitrary<GlucoseReading> = fc
    .record({
      // Mostly inside the period, some just outside on either side.
      measuredAt: fc.integer({ min: -DAYS * DAY - HOUR, max: HOUR }).map((offset) => new Date(NOW.getTime() + offset)),
      mmol: fc.option(fc.double({ min: 0.6, max: 33.3, noNaN: true }), { freq: 10, nil: null }),
      flag: fc.constant(null),
      kind: fc.constantFrom('bgm', 'cgm', 'control'),
    })
    .map((r) => (r.mmol === null ? { ...r, flag: r.measuredAt.getTime() % 2 === 0 ? 'LO' : 'HI' } : r));
  const options: SummaryOptions = { now: NOW, days: DAYS, deviceKind: 'cgm' };
  const readings = fc.array(arbitraryReading, { maxLength: 200 });

  it('ranges sum to 100 when there are readings', () => {
    fc.assert(
      fc.property(readings, (rs) => {
        const s = summarize(rs, options);
        if (s.count === 0) return;
        const total = Object.values(s.ranges).reduce<number>((a, v) => a + v!, 0);
        expect(total).toBeCloseTo(100, 9);
      }),
    );
  });

  it('CV is 100 · SD / mean, SD is never negative, and nothing is NaN', () => {
    fc.assert(
      fc.property(readings, (rs) => {
        const s = summarize(rs, options);
        for (const value of [s.mean, s.sd, s.cv, s.gmi, s.gmiMmolMol, s.gri, s.dataSufficiency])
          expect(Number.isNaN(value)).toBe(false);
        if (s.sd !== null) {
          expect(s.sd).toBeGreaterThanOrEqual(0);
          expect(s.cv).toBeCloseTo((100 * s.sd) / s.mean!, 9);
        } else {
          expect(s.cv).toBeNull();
        }
      }),
    );
  });

  it('does not depend on the order of the readings (bit for bit)', () => {
    const permuted = readings.chain((rs) =>
      fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length })),
    );
    fc.assert(
      fc.property(permuted, ([rs, shuffled]) => {
        expect(summarize(shuffled, options)).toEqual(summarize(rs, options));
        expect(ambulatoryProfile(shuffled, options)).toEqual(ambulatoryProfile(rs, options));
      }),
    );
  });

  it('GRI lies in [0, 100] and its zone matches it; sufficiency in [0, 100]', () => {
    fc.assert(
      fc.property(readings, (rs) => {
        const s = summarize(rs, options);
        if (s.gri === null) {
          expect(s.count).toBe(0);
          return;
        }
        expect(s.gri).toBeGreaterThanOrEqual(0);
        expect(s.gri).toBeLessThanOrEqual(100);
        expect(s.griZone).toBe('ABCDE'[Math.max(0, Math.ceil(s.gri / 20) - 1)]);
        expect(s.dataSufficiency).toBeGreaterThanOrEqual(0);
        expect(s.dataSufficiency).toBeLessThanOrEqual(100);
      }),
    );
  });

  it('AGP percentiles rise p5 <= p25 <= p50 <= p75 <= p95 within the bin values', () => {
    fc.assert(
      fc.property(readings, fc.constantFrom(15, 60), (rs, binMinutes) => {
        const agp = ambulatoryProfile(rs, { ...options, binMinutes });
        for (const bin of agp.bins) {
          if (bin.count === 0) {
            expect(bin.p50).toBeNull();
            continue;
          }
          const p = [bin.p5!, bin.p25!, bin.p50!, bin.p75!, bin.p95!];
          for (let i = 1; i < p.length; i++) expect(p[i]).toBeGreaterThanOrEqual(p[i - 1]!);
          expect(p[0]).toBeGreaterThanOrEqual(0.6);
          expect(p[4]).toBeLessThanOrEqual(33.3);
        }
        const numeric = rs.filter(
          (r) =>
            r.kind !== 'control' &&
            r.mmol !== null &&
            r.flag === null &&
            r.measuredAt < NOW &&
            r.measuredAt.getTime() >= NOW.getTime() - DAYS * DAY,
        );
        expect(agp.bins.reduce((a, b) => a + b.count, 0)).toBe(numeric.length);
      }),
    );
  });
});
