import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TeamReportView } from '@glucoboard/core/wire';
import { matchesFilter, PHYSICIAN_NONE, physiciansOf } from '../src/lib/board/rows';
import { isSaboLabel, lastDays, reportQuery, saboRow, shareOf } from '../src/lib/report/model';
import { row } from './fixtures';

// Issue 15: the report page's arithmetic (its period, shares, the SÄBO row) and the board's filter
// by responsible physician (section 6).

const doctorA = { id: '00000000-0000-4000-8000-00000000000a', name: 'Anna Läkare' };
const doctorB = { id: '00000000-0000-4000-8000-00000000000b', name: 'Bertil Doktor' };

describe('the board filtered by responsible physician', () => {
  const rows = [
    row({ id: '1', name: 'Ett', responsiblePhysician: doctorB }),
    row({ id: '2', name: 'Två', responsiblePhysician: doctorA }),
    row({ id: '3', name: 'Tre', responsiblePhysician: null }),
    row({ id: '4', name: 'Fyra', responsiblePhysician: doctorA }),
  ];
  const shown = (physician: string) =>
    rows.filter((r) => matchesFilter(r, { label: '', text: '', physician })).map((r) => r.id);

  it("keeps a physician's patients, those without one, or everyone", () => {
    expect(shown(doctorA.id)).toEqual(['2', '4']);
    expect(shown(doctorB.id)).toEqual(['1']);
    expect(shown(PHYSICIAN_NONE)).toEqual(['3']);
    expect(shown('')).toEqual(['1', '2', '3', '4']);
    // The other filters still apply with it.
    expect(rows.filter((r) => matchesFilter(r, { label: '', text: 'fyra', physician: doctorA.id }))).toHaveLength(1);
  });

  it('offers each physician on the board once, by name', () => {
    expect(physiciansOf(rows, 'sv-SE')).toEqual([doctorA, doctorB]);
    expect(physiciansOf([], 'sv-SE')).toEqual([]);
  });

  it('splits any board into the patients of each physician and those without (property)', () => {
    const doctor = fc.constantFrom(doctorA, doctorB, null);
    fc.assert(
      fc.property(fc.array(doctor, { maxLength: 30 }), (doctors) => {
        const board = doctors.map((d, i) => row({ id: String(i), name: `P${i}`, responsiblePhysician: d }));
        const count = (physician: string) =>
          board.filter((r) => matchesFilter(r, { label: '', text: '', physician })).length;
        const parts = physiciansOf(board, 'sv-SE').map((p) => count(p.id));
        expect(parts.reduce((a, n) => a + n, 0) + count(PHYSICIAN_NONE)).toBe(board.length);
      }),
    );
  });
});

describe('the report page', () => {
  it('asks for the last days as Swedish calendar days, today included', () => {
    // 23:30 UTC on 31 March is already 1 April in Sweden (CEST).
    expect(lastDays(28, Date.parse('2026-03-31T23:30:00Z'))).toEqual({ from: '2026-03-05', to: '2026-04-01' });
    expect(lastDays(1, Date.parse('2026-06-15T10:00:00Z'))).toEqual({ from: '2026-06-15', to: '2026-06-15' });
    expect(reportQuery({ from: '2026-03-05', to: '2026-04-01' }, 'csv')).toBe(
      '?from=2026-03-05&to=2026-04-01&format=csv',
    );
    expect(reportQuery(null)).toBe('');
  });

  it('computes shares of counts, none of nothing', () => {
    expect(shareOf(4, 5)).toBe(80);
    expect(shareOf(0, 0)).toBeNull();
  });

  it('finds special housing however the clinic writes it, counting each patient once', () => {
    expect(['säbo', 'SÄBO', 'Säbo ', 'sabo'].every(isSaboLabel)).toBe(true);
    expect(['säbo-kö', 'hemsjukvård', ''].some(isSaboLabel)).toBe(false);
    const patient = (labels: string[], teamPhysician: boolean | null) =>
      ({
        labels,
        responsiblePhysician: teamPhysician === null ? null : { ...doctorA, teamPhysician },
      }) as TeamReportView['followUp'][number];
    expect(
      saboRow({
        labels: [],
        followUp: [
          patient(['säbo', 'SÄBO'], true),
          patient(['SÄBO'], false),
          patient(['säbo'], null),
          patient(['typ 2'], true),
        ],
      }),
    ).toEqual({ patients: 3, withPhysician: 1 });
  });
});
