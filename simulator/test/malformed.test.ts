import { readingFingerprint } from '@glucoboard/core/domain';
import { validateReadingsBatch } from '@glucoboard/core/wire';
import { describe, expect, it } from 'vitest';
import {
  conflictingReading,
  EXPECTED_CODE,
  isBatchFault,
  MALFORMED_KINDS,
  malformedBatch,
  malformedReading,
  pickMalformedKind,
  usesSeq,
} from '../src/malformed.ts';
import { seededRandom } from '@glucoboard/core/simulation';
import type { WireReading } from '../src/wire.ts';

const NOW = Date.parse('2026-01-15T12:00:00Z');
const base: WireReading = {
  seq: 17,
  measuredAt: '2026-01-15T12:55:00+01:00',
  mmol: 7.4,
  flag: null,
  kind: 'bgm',
  meal: 'before',
};

describe('malformed input', () => {
  it('starts from a reading the server accepts', () => {
    const verdict = validateReadingsBatch({ readings: [base] }, { deviceKind: 'bgm', now: NOW });
    expect(verdict.ok && verdict.accepted.length).toBe(1);
  });

  it.each(MALFORMED_KINDS.filter((k) => !isBatchFault(k) && k !== 'seq-conflict'))(
    '%s is rejected by the real validator with its code',
    (kind) => {
      const random = seededRandom(3);
      for (let i = 0; i < 20; i++) {
        const payload = malformedReading(kind as Parameters<typeof malformedReading>[0], base, NOW, random);
        const verdict = validateReadingsBatch({ readings: [base, payload] }, { deviceKind: 'bgm', now: NOW });
        if (!verdict.ok) throw new Error('batch refused whole');
        expect(verdict.accepted.map((a) => a.index)).toEqual([0]);
        expect(verdict.rejected).toHaveLength(1);
        expect(verdict.rejected[0]).toMatchObject({ index: 1, code: EXPECTED_CODE[kind] });
        // Kinds that keep a seq are answered with it; the others with null.
        expect(verdict.rejected[0]!.seq).toBe(usesSeq(kind) ? base.seq : null);
      }
    },
  );

  it.each(['invalid-payload', 'batch-too-large'] as const)('%s is refused whole with its code', (kind) => {
    const verdict = validateReadingsBatch(malformedBatch(kind), { deviceKind: 'cgm', now: NOW });
    expect(verdict).toMatchObject({ ok: false, code: EXPECTED_CODE[kind] });
  });

  it('seq-conflict keeps the seq and changes the content', () => {
    for (const mmol of [7.4, 25.1, null]) {
      const original = { ...base, mmol, flag: mmol === null ? ('HI' as const) : null };
      const conflict = conflictingReading(original);
      expect(conflict.seq).toBe(original.seq);
      const fingerprint = (r: WireReading) => readingFingerprint({ ...r, measuredAt: new Date(r.measuredAt) });
      expect(fingerprint(conflict)).not.toBe(fingerprint(original));
      const verdict = validateReadingsBatch({ readings: [conflict] }, { deviceKind: 'bgm', now: NOW });
      expect(verdict.ok && verdict.accepted.length).toBe(1); // valid on its own: only storage can tell
    }
  });

  it('picks every kind, evenly enough', () => {
    const random = seededRandom(9);
    const counts = new Map<string, number>();
    for (let i = 0; i < 11_000; i++) {
      const kind = pickMalformedKind(random);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([...MALFORMED_KINDS].sort());
    for (const n of counts.values()) expect(n).toBeGreaterThan(800);
  });
});
