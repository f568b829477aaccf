import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALERT_RULES,
  applyTransitions,
  DEFAULT_THRESHOLDS,
  effectiveThresholds,
  evaluate,
  noDataDue,
  type AlertReading,
  type AlertRule,
  type CgmPoint,
  type EpisodeState,
  type EvaluationInput,
  type Transition,
} from '../../src/domain/alert-rules.ts';

const MINUTE = 60_000;
const NOW = new Date('2025-03-03T12:00:00Z');
/** The instant `m` minutes from NOW (negative: before). */
const at = (m: number) => new Date(NOW.getTime() + m * MINUTE);

const CGM = effectiveThresholds(DEFAULT_THRESHOLDS, null, 'cgm');
const BGM = effectiveThresholds(DEFAULT_THRESHOLDS, null, 'bgm');

function reading(
  value: number | 'LO' | 'HI',
  minute = 0,
  { kind = 'bgm', receivedMinute = 0 }: { kind?: AlertReading['kind']; receivedMinute?: number } = {},
): AlertReading {
  return {
    measuredAt: at(minute),
    mmol: typeof value === 'number' ? value : null,
    flag: typeof value === 'number' ? null : value,
    kind,
    receivedAt: at(Math.max(minute, receivedMinute)),
  };
}

function input(readings: AlertReading[], rest: Partial<EvaluationInput> = {}): EvaluationInput {
  return { thresholds: BGM, readings, episodes: [], snoozes: [], now: NOW, ...rest };
}

function episode(rule: AlertRule, state: EpisodeState['state'], lastMinute: number, extra: Partial<EpisodeState> = {}) {
  return {
    rule,
    state,
    firstReadingAt: at(lastMinute - 10),
    lastReadingAt: at(lastMinute),
    worstMmol: rule.includes('low') ? 2.5 : 22,
    worstReadingAt: at(lastMinute - 5),
    readingCount: 3,
    retrospective: false,
    ...(state === 'resolved' ? { resolvedAt: at(lastMinute + 5) } : {}),
    ...extra,
  } satisfies EpisodeState;
}

const opened = (ts: Transition[]) => ts.filter((t) => t.type === 'open').map((t) => t.rule);
const liveRules = (episodes: EpisodeState[]) => episodes.filter((e) => e.state !== 'resolved').map((e) => e.rule);

describe('level rules at their boundaries (strict as SPEC writes them)', () => {
  it.each<[number | 'LO' | 'HI', AlertRule[]]>([
    [2.9, ['urgent_low']],
    [3.0, ['low']],
    [3.1, ['low']],
    [3.9, ['low']],
    [4.0, []],
    [7.0, []],
    [13.9, []],
    [14.0, ['high']],
    [20.0, ['high']],
    [20.1, ['urgent_high']],
    ['LO', ['urgent_low']],
    ['HI', ['urgent_high']],
  ])('%s opens %j', (value, rules) => {
    const ts = evaluate(input([reading(value)]));
    expect(opened(ts)).toEqual(rules);
    for (const t of ts) {
      expect(t).toMatchObject({ type: 'open', notify: true, retrospective: false, readingCount: 1 });
      if (t.type === 'open') expect(t.severity).toBe(t.rule.startsWith('urgent') ? 'critical' : 'warning');
    }
  });

  it('keeps the worst reading of an episode, a meter flag beyond any number', () => {
    const ts = evaluate(input([reading(2.5, -10), reading('LO', -5), reading(2.0, 0)]));
    expect(ts).toEqual([
      expect.objectContaining({ type: 'open', rule: 'urgent_low', worstMmol: null, worstReadingAt: at(-5) }),
    ]);
    expect(ts[0]).toMatchObject({ readingCount: 3, firstReadingAt: at(-10), lastReadingAt: at(0) });
  });
});

describe('control solution', () => {
  it.each([2.0, 'LO', 'HI', 25, 7] as const)('%s never alerts', (value) => {
    expect(evaluate(input([reading(value, 0, { kind: 'control' })]))).toEqual([]);
  });

  it('never resolves anything', () => {
    const episodes = [episode('low', 'open', -5)];
    expect(evaluate(input([reading(7, 0, { kind: 'control' })], { episodes }))).toEqual([]);
  });
});

describe('thresholds: team defaults with patient overrides', () => {
  const team = { ...DEFAULT_THRESHOLDS, low: 3.9 };
  it.each([
    ['built-in defaults, CGM', DEFAULT_THRESHOLDS, null, 'cgm', { low: 4.0, noDataMinutes: 30 }],
    ['built-in defaults, BGM', DEFAULT_THRESHOLDS, undefined, 'bgm', { low: 4.0, noDataMinutes: 2880 }],
    ['team default', team, {}, 'cgm', { low: 3.9, urgentLow: 3.0 }],
    ['null override falls back', team, { low: null, high: undefined }, 'cgm', { low: 3.9, high: 13.9 }],
    ['patient override wins', team, { low: 4.5, noDataMinutes: 60 }, 'bgm', { low: 4.5, noDataMinutes: 60 }],
  ] as const)('%s', (_name, teamDefaults, overrides, kind, expected) => {
    expect(effectiveThresholds(teamDefaults, overrides, kind)).toMatchObject(expected);
  });

  it.each([{ low: 2.5 }, { high: 3.5 }, { urgentHigh: 12 }, { noDataMinutes: 0 }, { rapidChangeMmolPerMin: -1 }])(
    'rejects %j',
    (overrides) => {
      expect(() => effectiveThresholds(DEFAULT_THRESHOLDS, overrides, 'cgm')).toThrow(RangeError);
    },
  );

  it('a patient override moves the rule', () => {
    const thresholds = effectiveThresholds(DEFAULT_THRESHOLDS, { low: 4.5 }, 'bgm');
    expect(opened(evaluate(input([reading(4.2)], { thresholds })))).toEqual(['low']);
    expect(opened(evaluate(input([reading(4.2)])))).toEqual([]);
  });
});

describe('return to range resolves the live episode', () => {
  describe.each(['open', 'acknowledged'] as const)('%s', (state) => {
    it.each<[AlertRule, number | 'LO' | 'HI']>([
      ['urgent_low', 3.5],
      ['low', 4.0],
      ['high', 13.9],
      ['urgent_high', 20.0],
      ['high', 'LO'],
      ['low', 'HI'],
    ])('%s by %s', (rule, value) => {
      const ts = evaluate(input([reading(value)], { episodes: [episode(rule, state, -5)] }));
      expect(ts).toContainEqual({ type: 'resolve', rule, at: at(0) });
    });
  });

  it('a reading below urgentLow counts for urgent_low only: the low episode stays as it is', () => {
    const ts = evaluate(input([reading(2.5)], { episodes: [episode('low', 'open', -5)] }));
    expect(ts).toEqual([expect.objectContaining({ type: 'open', rule: 'urgent_low', notify: true })]);
  });

  it('recovering from urgent_low into low records the low episode without paging again', () => {
    const ts = evaluate(input([reading(3.5)], { episodes: [episode('urgent_low', 'acknowledged', -5)] }));
    expect(ts).toEqual([
      { type: 'resolve', rule: 'urgent_low', at: at(0) },
      expect.objectContaining({ type: 'open', rule: 'low', notify: false, retrospective: false }),
    ]);
  });
});

describe('cooldown', () => {
  it.each([
    [5, 'reopen', false],
    [14, 'reopen', false],
    [15, 'open', true],
    [40, 'open', true],
  ] as const)('a low %i min after the resolve: %s (notify %s)', (minutesAfter, type, notify) => {
    const resolved = episode('low', 'resolved', -60, { resolvedAt: at(-minutesAfter) });
    const ts = evaluate(input([reading(3.5)], { episodes: [resolved] }));
    expect(ts).toEqual([expect.objectContaining({ type, rule: 'low', notify })]);
    const after = applyTransitions([resolved], ts);
    expect(after).toEqual([expect.objectContaining({ state: 'open', readingCount: type === 'open' ? 1 : 4 })]);
  });
});

describe('out-of-order readings', () => {
  const live = episode('low', 'open', 0);
  it('an older in-range reading does not resolve', () => {
    expect(evaluate(input([reading(6, -5)], { episodes: [live] }))).toEqual([]);
  });

  it('an older low reading counts in without moving lastReadingAt', () => {
    const ts = evaluate(input([reading(3.8, -5)], { episodes: [live] }));
    expect(ts).toEqual([expect.objectContaining({ type: 'update', lastReadingAt: at(0), readingCountDelta: 1 })]);
  });

  it('an older low reading does not reopen or open a resolved episode', () => {
    const resolved = episode('low', 'resolved', -10, { resolvedAt: at(-5) });
    expect(evaluate(input([reading(3.5, -7)], { episodes: [resolved] }))).toEqual([]);
  });

  it('a batch is processed in measuredAt order whatever its order', () => {
    const ts = evaluate(input([reading(6, 5), reading(3.5, 0)]));
    expect(ts).toEqual([
      expect.objectContaining({ type: 'open', rule: 'low', lastReadingAt: at(0) }),
      { type: 'resolve', rule: 'low', at: at(5) },
    ]);
  });
});

describe('backfill', () => {
  const old = { receivedMinute: 0 };
  it('an episode wholly in the past opens retrospective and does not page', () => {
    const ts = evaluate(input([reading(3.5, -120, old), reading(3.4, -115, old)]));
    expect(ts).toEqual([
      expect.objectContaining({ type: 'open', retrospective: true, notify: false, readingCount: 2 }),
    ]);
  });

  it('opens and resolves in one evaluation when the newest reading is back in range', () => {
    const ts = evaluate(input([reading(3.5, -120, old), reading(2.5, -110, old), reading(6, -1, old)]));
    expect(ts).toEqual([
      expect.objectContaining({ type: 'open', rule: 'low', retrospective: true, notify: false }),
      expect.objectContaining({ type: 'open', rule: 'urgent_low', retrospective: true, notify: false }),
      { type: 'resolve', rule: 'urgent_low', at: at(-1) },
      { type: 'resolve', rule: 'low', at: at(-1) },
    ]);
  });

  it('an episode still going on now pages', () => {
    const ts = evaluate(input([reading(3.5, -120, old), reading(3.6, -1, old)]));
    expect(ts).toEqual([
      expect.objectContaining({ type: 'open', retrospective: false, notify: true, readingCount: 2 }),
    ]);
  });

  it('a retrospective episode pages when a fresh reading joins it', () => {
    const episodes = [episode('low', 'open', -100, { retrospective: true })];
    const ts = evaluate(input([reading(3.6, -1)], { episodes }));
    expect(ts).toEqual([expect.objectContaining({ type: 'update', retrospective: false, notify: true })]);
  });

  it('a reading received on time still pages when the worker evaluates it late', () => {
    const ts = evaluate(input([reading(2.5, -45, { receivedMinute: -44 })]));
    expect(ts).toEqual([expect.objectContaining({ type: 'open', retrospective: false, notify: true })]);
  });
});

describe('snooze', () => {
  it.each([
    ['low', 30, false],
    ['low', 0, true], // expired: until is not after now
    ['high', 30, true],
  ] as const)('snooze of %s until +%i: low notifies %s', (rule, untilMinute, notify) => {
    const ts = evaluate(input([reading(3.5)], { snoozes: [{ rule, until: at(untilMinute) }] }));
    expect(ts).toEqual([expect.objectContaining({ type: 'open', rule: 'low', notify })]);
  });
});

describe('rapid change (CGM)', () => {
  const series = (values: number[], stepMinutes = 5): CgmPoint[] =>
    values.map((mmol, i) => ({ measuredAt: at((i - values.length) * stepMinutes), mmol }));

  it.each([
    ['rising 0.2/min', [5, 6, 7], 8, ['rapid_change']],
    ['falling 0.2/min', [10, 9, 8], 7, ['rapid_change']],
    ['0.1/min', [5, 5.5, 6], 6.5, []],
    ['too few readings', [5], 8, []],
    ['span under 15 min', [6, 7], 8, []],
  ] as const)('%s', (_name, before, value, rules) => {
    const ts = evaluate(
      input([reading(value, 0, { kind: 'cgm' })], { thresholds: CGM, recentCgm: series([...before]) }),
    );
    expect(opened(ts)).toEqual(rules);
    if (rules.length) expect(ts[0]).toMatchObject({ severity: 'info', notify: true });
  });

  it('looks back at most 20 min: a window over a gap decides nothing', () => {
    const recentCgm = [
      { measuredAt: at(-25), mmol: 5 },
      { measuredAt: at(-12), mmol: 6 },
      { measuredAt: at(-6), mmol: 7 },
    ];
    expect(evaluate(input([reading(9.5, 0, { kind: 'cgm' })], { thresholds: CGM, recentCgm }))).toEqual([]);
  });

  it('never for BGM', () => {
    expect(evaluate(input([reading(8)], { thresholds: CGM, recentCgm: series([5, 6, 7]) }))).toEqual([]);
  });

  it('resolves when the rate falls below', () => {
    const episodes = [episode('rapid_change', 'open', -5)];
    const ts = evaluate(input([reading(7, 0, { kind: 'cgm' })], { episodes, recentCgm: series([6.5, 7, 7]) }));
    expect(ts).toEqual([{ type: 'resolve', rule: 'rapid_change', at: at(0) }]);
  });

  it('a batch of CGM readings carries its own window', () => {
    const readings = [5, 6, 7, 8, 9].map((v, i) => reading(v, (i - 4) * 5, { kind: 'cgm' }));
    const ts = evaluate(input(readings, { thresholds: CGM }));
    expect(ts).toEqual([expect.objectContaining({ type: 'open', rule: 'rapid_change', readingCount: 2 })]);
  });
});

describe('noDataDue', () => {
  it.each([
    [null, 30, false],
    [-29, 30, false],
    [-30, 30, false],
    [-31, 30, true],
    [-2881, 2880, true],
  ] as const)('last reading at %s, period %i: %s', (lastMinute, minutes, due) => {
    expect(noDataDue(lastMinute === null ? null : at(lastMinute), minutes, NOW)).toBe(due);
  });
});

describe('properties', () => {
  /** CGM and BGM readings over the last 3 h at distinct minutes, some received late. */
  const readingsArb = fc
    .uniqueArray(fc.integer({ min: -180, max: 0 }), { minLength: 1, maxLength: 40 })
    .chain((minutes) =>
      fc.tuple(
        ...minutes.map((minute) =>
          fc.record({
            measuredAt: fc.constant(at(minute)),
            mmol: fc.option(
              fc.integer({ min: 10, max: 250 }).map((v) => v / 10),
              { freq: 10 },
            ),
            flag: fc.constantFrom('LO' as const, 'HI' as const),
            kind: fc.constantFrom('cgm' as const, 'cgm' as const, 'bgm' as const, 'control' as const),
            receivedAt: fc.integer({ min: minute, max: 0 }).map(at),
          }),
        ),
      ),
    )
    .map((rs) => rs.map((r): AlertReading => ({ ...r, flag: r.mmol === null ? r.flag : null })));
  const snoozesArb = fc.array(
    fc.record({ rule: fc.constantFrom(...ALERT_RULES), until: fc.integer({ min: -30, max: 30 }).map(at) }),
    { maxLength: 2 },
  );

  const cgmOf = (rs: AlertReading[]): CgmPoint[] =>
    rs.flatMap((r) => (r.kind === 'cgm' && r.mmol !== null ? [{ measuredAt: r.measuredAt, mmol: r.mmol }] : []));
  const sorted = (rs: AlertReading[]) => [...rs].sort((a, b) => a.measuredAt.getTime() - b.measuredAt.getTime());
  const pages = (ts: Transition[]) => ts.filter((t) => t.type !== 'resolve' && t.notify).length;

  it('is deterministic, independent of batch order, and never opens two live episodes for one rule', () => {
    fc.assert(
      fc.property(readingsArb, snoozesArb, (readings, snoozes) => {
        const base = { thresholds: CGM, episodes: [], snoozes, now: NOW };
        const ts = evaluate({ ...base, readings });
        expect(evaluate({ ...base, readings })).toEqual(ts);
        expect(evaluate({ ...base, readings: [...readings].reverse() })).toEqual(ts);
        const live = liveRules(applyTransitions([], ts)); // applyTransitions throws on a second open
        expect(new Set(live).size).toBe(live.length);
      }),
    );
  });

  it('a batch at once equals the same readings one by one', () => {
    fc.assert(
      fc.property(readingsArb, snoozesArb, fc.integer({ min: 0, max: 40 }), (readings, snoozes, split) => {
        // Start from the episode state an earlier batch left, so resolved and live episodes occur.
        const ordered = sorted(readings);
        const earlier = ordered.slice(0, split);
        const batch = ordered.slice(split);
        const base = { thresholds: CGM, snoozes, now: NOW };
        const start = applyTransitions([], evaluate({ ...base, readings: earlier, episodes: [] }));

        const atOnce = evaluate({ ...base, readings: batch, episodes: start, recentCgm: cgmOf(earlier) });
        let episodes = start;
        let onePages = 0;
        batch.forEach((r, i) => {
          const ts = evaluate({
            ...base,
            readings: [r],
            episodes,
            recentCgm: cgmOf([...earlier, ...batch.slice(0, i)]),
          });
          onePages += pages(ts);
          episodes = applyTransitions(episodes, ts);
        });
        const byRule = (es: EpisodeState[]) => [...es].sort((a, b) => a.rule.localeCompare(b.rule));
        expect(byRule(applyTransitions(start, atOnce))).toEqual(byRule(episodes));
        expect(pages(atOnce)).toBe(onePages);
      }),
    );
  });
});
