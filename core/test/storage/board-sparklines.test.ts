import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPatient,
  createTeam,
  SparklineMemo,
  storeDeviceReadings,
  storeDeviceReadingsForEvaluation,
  sparkMean,
  type SparkBin,
  type Database,
} from '../../src/storage/index.ts';
import { BACKENDS, openTestDatabase } from '../support/databases.ts';
import { insertReadings } from '../support/readings.ts';

// The board's sparklines kept between requests (board-sparklines.ts; issue 17) must always be what
// binning the readings afresh gives: the readings of the window, control solution left out, in
// bins of the clock's grid; whatever was stored between two requests, late or not.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BIN_MINUTES = 15;
const BIN = BIN_MINUTES * MINUTE;
const HOURS = 24;

interface Reading {
  at: number;
  mmol: number | null;
  flag: 'LO' | 'HI' | null;
  kind: 'cgm' | 'bgm' | 'control';
  source: 'manual' | 'import';
}

/** The slow path: every reading of the window put in its bin one by one. */
function binnedOneByOne(readings: readonly Reading[], now: number): SparkBin[] {
  const first = Math.floor((now - HOURS * HOUR) / BIN) * BIN;
  const bins = new Map<
    number,
    { sum: number; count: number; min: number | null; max: number | null; lo: boolean; hi: boolean }
  >();
  for (const r of readings) {
    if (r.kind === 'control' || r.at < first || r.at >= now) continue;
    const start = Math.floor(r.at / BIN) * BIN;
    const bin = bins.get(start) ?? { sum: 0, count: 0, min: null, max: null, lo: false, hi: false };
    if (r.flag === null && r.mmol !== null) {
      bin.sum += r.mmol;
      bin.count++;
      bin.min = Math.min(bin.min ?? r.mmol, r.mmol);
      bin.max = Math.max(bin.max ?? r.mmol, r.mmol);
    }
    bin.lo ||= r.flag === 'LO';
    bin.hi ||= r.flag === 'HI';
    bins.set(start, bin);
  }
  return [...bins]
    .sort(([a], [b]) => a - b)
    .map(
      ([start, b]): SparkBin => [
        start,
        sparkMean(b.sum, b.count),
        b.min,
        b.max,
        b.count,
        b.lo ? 'LO' : b.hi ? 'HI' : null,
      ],
    );
}

// Quarter mmol/L values add up exactly in any order, so a mean (and its rounding) compares exactly.
const value = fc.oneof(
  fc.integer({ min: 4, max: 133 }).map((q) => ({ mmol: q / 4, flag: null })),
  fc.constantFrom(
    { mmol: null, flag: 'LO' as const },
    { mmol: null, flag: 'HI' as const },
    { mmol: 2, flag: 'LO' as const },
  ),
);
/** Any instant in [from, to], and often a bin's edge in it (where an off-by-one would show). */
function instantBetween(from: number, to: number): fc.Arbitrary<number> {
  const any = fc.integer({ min: from, max: to });
  const [first, last] = [Math.ceil(from / BIN), Math.floor(to / BIN)];
  // A span shorter than a bin may hold no edge (9 minutes of a 15-minute grid, 40 % of the time).
  if (first > last) return any;
  const edge = fc
    .integer({ min: first, max: last })
    .chain((bin) => fc.constantFrom(bin * BIN, bin * BIN - 1))
    .filter((at) => at >= from);
  return fc.oneof(any, edge);
}

const readingBetween = (from: number, to: number): fc.Arbitrary<Reading> =>
  fc
    .record({
      at: instantBetween(from, to),
      value,
      kind: fc.constantFrom('cgm', 'cgm', 'bgm', 'control'),
      source: fc.constantFrom('manual', 'import'),
    })
    .map(({ at, value, kind, source }) => ({ at, ...value, kind, source }) as Reading);

describe.each(BACKENDS)('board sparklines on %s', (backend) => {
  let db: Database & { dispose(): Promise<void> };
  let teamId: string;
  let run = 0;
  beforeAll(async () => {
    db = await openTestDatabase(backend);
    teamId = (await createTeam(db.pool, { name: 'Sparklines' })).id;
  });
  afterAll(() => db?.dispose());
  const window = (now: number) => ({ now: new Date(now), hours: HOURS, binMinutes: BIN_MINUTES });

  it('equal binning every reading afresh, request after request, whatever arrives between them', async () => {
    // Requests an hour apart up to the real present, then one more a moment later: the database's
    // clock decides what is late. Before that last one arrive readings of the last 9 minutes,
    // which are not late (no day moves on): only bins that ended 15 minutes ago may be kept.
    const present = Date.now();
    const requests = [4, 3, 2, 1, 0].map((h) => present - h * HOUR - 7 * MINUTE);
    requests.push(present);
    const arrivals = (k: number) =>
      k === requests.length
        ? readingBetween(present - 9 * MINUTE, present)
        : readingBetween(requests[0]! - 26 * HOUR, present);
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(...Array.from({ length: requests.length + 1 }, (_, k) => fc.array(arrivals(k), { maxLength: 12 }))),
          { minLength: 1, maxLength: 3 },
        ),
        async (patients) => {
          const memo = new SparklineMemo();
          const ids: string[] = [];
          for (let i = 0; i < patients.length; i++)
            ids.push((await createPatient(db.pool, { teamId, name: `P${run++}` })).id);
          const stored = ids.map((): Reading[] => []);
          for (let k = 0; k <= requests.length; k++) {
            for (let i = 0; i < ids.length; i++) {
              const arriving = patients[i]![k]!;
              await insertReadings(db, ids[i]!, arriving);
              stored[i]!.push(...arriving);
            }
            const now = requests[k] ?? Date.now();
            const kept = await memo.sparklinesOf(db.pool, teamId, ids, window(now));
            const afresh = await new SparklineMemo().sparklinesOf(db.pool, teamId, ids, window(now));
            const expected = stored.map((readings) => binnedOneByOne(readings, now));
            expect(ids.map((id) => kept.get(id))).toEqual(expected);
            expect(ids.map((id) => afresh.get(id))).toEqual(expected);
          }
        },
      ),
      { numRuns: backend === 'embedded' ? 8 : 25 },
    );
  }, 180_000);

  it.each([
    ['a device write', storeDeviceReadings],
    ["the group commit's write", storeDeviceReadingsForEvaluation],
  ] as const)('counts a kept bin again once a late reading of its day arrives by %s', async (_path, store) => {
    const { id } = await createPatient(db.pool, { teamId, name: `P${run++}` });
    const now = Date.now();
    const settledBin = Math.floor((now - 3 * HOUR) / BIN) * BIN;
    await insertReadings(db, id, [{ at: settledBin + MINUTE, mmol: 6, flag: null, kind: 'cgm', source: 'manual' }]);
    const memo = new SparklineMemo();
    const first = await memo.sparklinesOf(db.pool, teamId, [id], window(now));
    expect(first.get(id)).toEqual([[settledBin, 6, 6, 6, 1, null]]);

    // A meter's backlog: measured three hours ago, stored now.
    const result = await store(db.pool, [
      {
        deviceSerial: `spark-${id}`,
        patientId: id,
        seq: 1,
        measuredAt: new Date(settledBin + 2 * MINUTE),
        mmol: 8,
        flag: null,
        kind: 'cgm',
        meal: null,
      },
    ]);
    expect(result).toEqual(['stored']);
    const after = await memo.sparklinesOf(db.pool, teamId, [id], window(now + MINUTE));
    expect(after.get(id)).toEqual([[settledBin, 7, 6, 8, 2, null]]);
  });

  it('forgets a team not asked for within its idle time', async () => {
    const { id } = await createPatient(db.pool, { teamId, name: `P${run++}` });
    let clock = Date.now();
    const memo = new SparklineMemo(10 * MINUTE, () => clock);
    const at = Math.floor((clock - 2 * HOUR) / BIN) * BIN;
    await insertReadings(db, id, [{ at, mmol: 5, flag: null, kind: 'bgm', source: 'manual' }]);
    await memo.sparklinesOf(db.pool, teamId, [id], window(clock));
    // Behind the memo's back (a reading is never changed in place; here only to see who answers).
    await db.pool.query('delete from readings where patient_id = $1', [id]);
    expect((await memo.sparklinesOf(db.pool, teamId, [id], window(clock))).get(id)).toHaveLength(1);
    clock += 10 * MINUTE;
    expect((await memo.sparklinesOf(db.pool, teamId, [id], window(clock))).get(id)).toEqual([]);
  });
});
