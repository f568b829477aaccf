import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgmSlotOf } from '../../src/domain/statistics.ts';
import { bandOf, BAND_COUNT } from '../../src/domain/targets.ts';
import {
  compressOldReadings,
  countPieces,
  createPatient,
  createTeam,
  dropReadingBuckets,
  fillReadingBuckets,
  periodCountsOf,
  storeDeviceReadings,
  storeDeviceReadingsForEvaluation,
  type Database,
  type PeriodCounts,
} from '../../src/storage/index.ts';
import { BACKENDS, openTestDatabase } from '../support/databases.ts';
import { insertReadings, type TestReading } from '../support/readings.ts';

// Period counts added up from hour and day buckets (migration 018) must always equal counting the
// readings one by one, whether the buckets are counted now, reused, outdated by a late reading,
// made with other band edges, or dropped by retention.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('cutting a period into pieces', () => {
  it('tiles the period exactly: raw pieces under an hour at the edges, whole UTC hours and days between', () => {
    const t0 = Date.UTC(2026, 10, 1);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 * DAY }), fc.integer({ min: 0, max: 40 * DAY }), (a, b) => {
        const from = t0 + Math.min(a, b);
        const to = t0 + Math.max(a, b);
        const pieces = countPieces(from, to);
        if (from === to) {
          // Not `return expect(…)`: fast-check reads a returned false as a failure.
          expect(pieces).toEqual([]);
          return;
        }
        expect(pieces[0]!.from).toBe(from);
        expect(pieces.at(-1)!.to).toBe(to);
        for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.from).toBe(pieces[i - 1]!.to);
        for (const p of pieces) {
          if (p.hours === 0) expect(p.to - p.from).toBeLessThan(pieces.length === 1 ? 2 * HOUR : HOUR);
          else {
            expect(p.to - p.from).toBe(p.hours * HOUR);
            expect(p.from % (p.hours * HOUR)).toBe(0);
          }
        }
        // At most 23 hour buckets on each side of the days, one raw piece at each edge.
        expect(pieces.filter((p) => p.hours === 1).length).toBeLessThanOrEqual(46);
        expect(pieces.filter((p) => p.hours === 0).length).toBeLessThanOrEqual(2);
      }),
    );
  });
});

type Reading = TestReading;

/** The slow path: every reading counted on its own. */
function countedOneByOne(readings: readonly Reading[], from: number, to: number): PeriodCounts {
  const bands = new Array<number>(BAND_COUNT).fill(0);
  const bySource = { device: 0, manual: 0, import: 0 };
  const slots = new Set<number>();
  let cgmReadings = 0;
  let last: number | null = null;
  for (const r of readings) {
    if (r.kind === 'control' || r.at < from || r.at >= to) continue;
    bands[bandOf(r.mmol, r.flag)]!++;
    bySource[r.source]++;
    if (r.kind === 'cgm') {
      cgmReadings++;
      slots.add(cgmSlotOf(r.at));
    }
    last = Math.max(last ?? r.at, r.at);
  }
  return { bands, bySource, cgmReadings, cgmSlots: slots.size, lastReadingAt: last === null ? null : new Date(last) };
}

const value = fc.oneof(
  fc.integer({ min: 6, max: 333 }).map((t) => ({ mmol: t / 10, flag: null })),
  fc.constantFrom(3.0, 3.5, 3.9, 7.8, 10.0, 13.9).map((mmol) => ({ mmol, flag: null })),
  fc.constantFrom({ mmol: null, flag: 'LO' as const }, { mmol: null, flag: 'HI' as const }),
);
const readingAt = (instant: fc.Arbitrary<number>): fc.Arbitrary<Reading> =>
  fc
    .record({
      at: instant,
      value,
      kind: fc.constantFrom('cgm', 'cgm', 'bgm', 'control'),
      source: fc.constantFrom('device', 'manual', 'import'),
    })
    .map(({ at, value: v, kind, source }) => ({ at, mmol: v.mmol, flag: v.flag, kind, source }) as Reading);

describe.each(BACKENDS)('period counts from buckets on %s', (backend) => {
  let db: Database & { dispose(): Promise<void> };
  let teamId: string;
  let run = 0;
  const patient = async () => (await createPatient(db.pool, { teamId, name: `Patient ${run++}` })).id;
  const bucketRows = async (patientId: string) =>
    (
      await db.pool.query<{ n: number }>('select count(*)::int as n from reading_buckets where patient_id = $1', [
        patientId,
      ])
    ).rows[0]!.n;

  beforeAll(async () => {
    db = await openTestDatabase(backend);
    teamId = (await createTeam(db.pool, { name: 'Buckets' })).id;
  });
  afterAll(() => db?.dispose());

  it('equal counting every reading, for any readings and periods, counted and then reused', async () => {
    // A past stretch of three days: every bucket in it is closed, so the first count stores them.
    const base = Date.UTC(2026, 10, 20, 0, 0, 0);
    const edge = fc.oneof(
      fc.integer({ min: 0, max: 3 * DAY }),
      fc.integer({ min: 0, max: 72 }).chain((h) => fc.constantFrom(h * HOUR - 1, h * HOUR, h * HOUR + 1)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(readingAt(edge.map((t) => base + t)), { maxLength: 60 }),
        fc.array(fc.tuple(edge, edge), { minLength: 1, maxLength: 3 }),
        async (readings, periods) => {
          const id = await patient();
          await insertReadings(db, id, readings);
          const asked = periods.map(([a, b]) => ({ from: base + Math.min(a, b), to: base + Math.max(a, b) }));
          const expected = asked.map((p) => countedOneByOne(readings, p.from, p.to));
          for (let pass = 0; pass < 2; pass++) {
            const counts = await periodCountsOf(
              db.pool,
              [id],
              asked.map((p) => ({ from: new Date(p.from), to: new Date(p.to) })),
            );
            expect(counts.get(id)).toEqual(expected);
          }
        },
      ),
      { numRuns: backend === 'embedded' ? 15 : 40 },
    );
  }, 180_000);

  it.each([
    ['a device write', 'device'],
    ["the group commit's write", 'group'],
    ['a manual entry (the trigger)', 'manual'],
    ['an import (the trigger)', 'import'],
  ] as const)(
    'reuses a stored bucket, and counts it again once a late reading of its day arrives by %s',
    async (_path, via) => {
      const id = await patient();
      const day = Date.UTC(2026, 10, 10);
      const period = { from: new Date(day), to: new Date(day + DAY) };
      const reading = (at: number, mmol: number): Reading => ({ at, mmol, flag: null, kind: 'cgm', source: 'device' });
      const first = [reading(day + HOUR, 6), reading(day + 2 * HOUR, 12)];
      await insertReadings(db, id, first);
      expect((await periodCountsOf(db.pool, [id], [period])).get(id)![0]!.cgmReadings).toBe(2);
      expect(await bucketRows(id)).toBe(1);

      // The stored bucket is what answers: a count changed behind its back shows (and only here).
      await db.pool.query('update reading_buckets set cgm_readings = 99 where patient_id = $1', [id]);
      expect((await periodCountsOf(db.pool, [id], [period])).get(id)![0]!.cgmReadings).toBe(99);

      // A reading of that day stored now (more than 10 minutes after it was measured) outdates it.
      const late = { ...reading(day + 3 * HOUR, 2.5), source: via === 'group' ? 'device' : via } as Reading;
      if (via === 'device' || via === 'group') {
        const store = via === 'device' ? storeDeviceReadings : storeDeviceReadingsForEvaluation;
        const stored = await store(db.pool, [
          {
            deviceSerial: `late-${id}`,
            patientId: id,
            seq: 1,
            measuredAt: new Date(late.at),
            mmol: late.mmol,
            flag: null,
            kind: 'cgm',
            meal: null,
          },
        ]);
        expect(stored).toEqual(['stored']);
      } else await insertReadings(db, id, [late]);
      const after = (await periodCountsOf(db.pool, [id], [period])).get(id)![0]!;
      expect(after).toEqual(countedOneByOne([...first, late], day, day + DAY));
      // Counted again and stored again: the next answer comes from the bucket, as before.
      await db.pool.query('update reading_buckets set cgm_readings = 98 where patient_id = $1', [id]);
      expect((await periodCountsOf(db.pool, [id], [period])).get(id)![0]!.cgmReadings).toBe(98);
    },
  );

  it('counts a late reading into a compressed week too (TimescaleDB runs the trigger there)', async () => {
    const id = await patient();
    const day = Math.floor((Date.now() - 60 * DAY) / DAY) * DAY;
    const period = { from: new Date(day), to: new Date(day + DAY) };
    const reading = (at: number): Reading => ({ at, mmol: 5, flag: null, kind: 'cgm', source: 'import' });
    await insertReadings(db, id, [reading(day + HOUR)]);
    const compressed = await compressOldReadings(db, 30);
    if (db.timescale) expect(compressed).toBeGreaterThan(0);
    expect((await periodCountsOf(db.pool, [id], [period])).get(id)![0]!.cgmReadings).toBe(1);
    await insertReadings(db, id, [reading(day + 2 * HOUR)]);
    expect((await periodCountsOf(db.pool, [id], [period])).get(id)![0]!.cgmReadings).toBe(2);
  });

  it('never reuses a bucket counted with other band edges', async () => {
    const id = await patient();
    const day = Date.UTC(2026, 10, 11);
    const readings: Reading[] = [{ at: day + HOUR, mmol: 3.7, flag: null, kind: 'bgm', source: 'manual' }];
    await insertReadings(db, id, readings);
    const period = { from: new Date(day), to: new Date(day + DAY) };
    await periodCountsOf(db.pool, [id], [period]);
    await db.pool.query(`update reading_buckets set edges = '{1,2,3}', b0 = 7 where patient_id = $1`, [id]);
    expect((await periodCountsOf(db.pool, [id], [period])).get(id)).toEqual([
      countedOneByOne(readings, day, day + DAY),
    ]);
  });

  it('stores no bucket of the last 15 minutes, so fresh readings always count', async () => {
    const id = await patient();
    const now = Date.now();
    const hour = Math.floor(now / HOUR) * HOUR;
    // The current hour, and the one before it when it ended less than 15 minutes ago.
    const period = { from: new Date(hour - HOUR), to: new Date(hour + HOUR) };
    const fresh = (at: number): Reading => ({ at, mmol: 5, flag: null, kind: 'cgm', source: 'device' });
    await insertReadings(db, id, [fresh(now - 2 * MINUTE)]);
    await periodCountsOf(db.pool, [id], [period]);
    const stored = await db.pool.query<{ start: Date }>(
      'select start_at as start from reading_buckets where patient_id = $1',
      [id],
    );
    for (const row of stored.rows) expect(row.start.getTime() + HOUR).toBeLessThanOrEqual(Date.now() - 15 * MINUTE);
    // A reading measured a minute ago moves no version on, and still counts at once.
    await insertReadings(db, id, [fresh(now - MINUTE)]);
    const counts = (await periodCountsOf(db.pool, [id], [period])).get(id)![0]!;
    expect(counts.cgmReadings).toBe(2);
  });

  it("fills every patient's buckets ahead of the boards, a page of patients at a time, and a board then counts none", async () => {
    const now = Date.UTC(2026, 10, 20, 12, 30);
    const ids = [await patient(), await patient(), await patient()];
    for (const [i, id] of ids.entries()) {
      // Three days of readings every two hours, a different glucose per patient.
      const readings = Array.from(
        { length: 36 },
        (_, k): Reading => ({
          at: now - 3 * DAY + k * 2 * HOUR,
          mmol: 4 + i,
          flag: null,
          kind: 'cgm',
          source: 'device',
        }),
      );
      await insertReadings(db, id, readings);
    }
    const before = await Promise.all(ids.map(bucketRows));
    // A page of two: the three patients (and every other patient of this database) in two or more pages.
    const counted = await fillReadingBuckets(db.pool, { now: new Date(now), days: 4, batch: 2 });
    const total = await db.pool.query<{ n: number }>('select count(*)::int as n from patients');
    expect(counted).toBe(total.rows[0]!.n);
    const after = await Promise.all(ids.map(bucketRows));
    for (const [i, n] of after.entries()) expect(n).toBeGreaterThan(before[i]!);
    // The board's count at the same instant stores nothing more, and counts what the readings say.
    const period = { from: new Date(now - 4 * DAY), to: new Date(now) };
    const counts = await periodCountsOf(db.pool, ids, [period]);
    expect(await Promise.all(ids.map(bucketRows))).toEqual(after);
    for (const id of ids) expect(counts.get(id)![0]!.cgmReadings).toBe(36);
  });

  it('drops the buckets of the days retention deletes, and hour buckets counted days ago', async () => {
    const id = await patient();
    const day = Date.UTC(2026, 9, 1);
    await insertReadings(db, id, [{ at: day + 30 * MINUTE, mmol: 5, flag: null, kind: 'cgm', source: 'device' }]);
    // Hours 0-1 of the day and the whole next day: two hour buckets and one day bucket.
    await periodCountsOf(db.pool, [id], [{ from: new Date(day), to: new Date(day + 2 * HOUR) }]);
    await periodCountsOf(db.pool, [id], [{ from: new Date(day + DAY), to: new Date(day + 2 * DAY) }]);
    expect(await bucketRows(id)).toBe(3);
    // Retention up to noon of the first day: that day's buckets go (the day bucket after it stays).
    await dropReadingBuckets(db.pool, new Date(day + 12 * HOUR), new Date(day + 40 * DAY), 1_000);
    expect(await bucketRows(id)).toBe(1);
    // Hour buckets counted longer ago than the limit go; day buckets stay.
    await periodCountsOf(db.pool, [id], [{ from: new Date(day + 3 * DAY), to: new Date(day + 3 * DAY + HOUR) }]);
    expect(await bucketRows(id)).toBe(2);
    await dropReadingBuckets(db.pool, new Date(0), new Date(Date.now() + 4 * DAY), 3);
    expect(await bucketRows(id)).toBe(1);
  });
});
