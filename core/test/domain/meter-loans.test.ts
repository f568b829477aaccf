import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  measuredInCurrentAssignment,
  REPLACEMENT_REASONS,
  startOfSwedishYear,
  tallyReplacements,
  type ReplacementFact,
} from '../../src/domain/meter-loans.ts';

describe("a lent meter's readings", () => {
  const handedOver = new Date('2026-03-10T09:00:00Z');

  it('belong to the current patient from the hand-over on, never before it', () => {
    expect(measuredInCurrentAssignment(new Date('2026-03-10T09:00:00Z'), handedOver)).toBe(true);
    expect(measuredInCurrentAssignment(new Date('2026-03-10T09:00:01Z'), handedOver)).toBe(true);
    expect(measuredInCurrentAssignment(new Date('2026-03-10T08:59:59.999Z'), handedOver)).toBe(false);
  });

  it("keep a meter's whole memory at its first pairing (no earlier patient)", () => {
    expect(measuredInCurrentAssignment(new Date('2020-01-01T00:00:00Z'), null)).toBe(true);
  });

  it('split any memory at the hand-over exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e11, max: 1e11 }), fc.integer({ min: -1e11, max: 1e11 }), (measured, start) => {
        const ok = measuredInCurrentAssignment(new Date(measured), new Date(start));
        expect(ok).toBe(measured >= start);
      }),
    );
  });
});

describe('the replacements tally', () => {
  it('counts by reason and by kind, with every reason and kind present', () => {
    const tally = tallyReplacements([
      { reason: 'complaint', kind: 'bgm' },
      { reason: 'complaint', kind: 'cgm' },
      { reason: 'battery', kind: 'bgm' },
    ]);
    expect(tally.total).toBe(3);
    expect(tally.byKind).toEqual({ bgm: 2, cgm: 1 });
    expect(tally.byReason.complaint).toEqual({ total: 2, bgm: 1, cgm: 1 });
    expect(tally.byReason.battery).toEqual({ total: 1, bgm: 1, cgm: 0 });
    expect(Object.keys(tally.byReason)).toEqual([...REPLACEMENT_REASONS]);
    expect(tally.byReason.lost).toEqual({ total: 0, bgm: 0, cgm: 0 });
  });

  it('adds up: reasons and kinds each sum to the total', () => {
    const fact = fc.record({
      reason: fc.constantFrom(...REPLACEMENT_REASONS),
      kind: fc.constantFrom('bgm' as const, 'cgm' as const),
    }) satisfies fc.Arbitrary<ReplacementFact>;
    fc.assert(
      fc.property(fc.array(fact, { maxLength: 60 }), (facts) => {
        const tally = tallyReplacements(facts);
        const reasons = Object.values(tally.byReason);
        expect(reasons.reduce((n, r) => n + r.total, 0)).toBe(facts.length);
        expect(tally.byKind.bgm + tally.byKind.cgm).toBe(facts.length);
        for (const r of reasons) expect(r.bgm + r.cgm).toBe(r.total);
      }),
    );
  });
});

describe("the report's default start", () => {
  it('is midnight of 1 January in Swedish time (CET, UTC+1)', () => {
    expect(startOfSwedishYear(new Date('2026-12-03T10:00:00Z')).toISOString()).toBe('2025-12-31T23:00:00.000Z');
    expect(startOfSwedishYear(new Date('2026-07-01T00:00:00Z')).toISOString()).toBe('2025-12-31T23:00:00.000Z');
  });

  it('counts the first Swedish hour of the year in the new year', () => {
    // 23:30 UTC on 31 December is 00:30 on 1 January in Stockholm.
    expect(startOfSwedishYear(new Date('2026-12-31T23:30:00Z')).toISOString()).toBe('2026-12-31T23:00:00.000Z');
  });
});
