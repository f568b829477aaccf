import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgmSlotOf } from '../../src/domain/statistics.ts';
import { bandOf, BAND_COUNT } from '../../src/domain/targets.ts';
import { boardCountsOf, createPatient, createTeam, type Database } from '../../src/storage/index.ts';
import { BACKENDS, openTestDatabase } from '../support/databases.ts';

// The board's 14 + 14-day counts, added up from hour and day buckets (reading-buckets.ts; issue
// 17), must give exactly what counting the readings one by one gives: bands as `bandOf` sorts
// them, control solution left out, slots the clock's 5-minute slots (`cgmSlotOf`).

const MINUTE = 60_000;
const DAYS = 2;
const SLOT_MINUTES = 5;
const NOW = new Date('2026-11-30T12:02:30.000Z');
const PERIOD_MS = DAYS * 24 * 60 * MINUTE;
const CURRENT_FROM = NOW.getTime() - PERIOD_MS;
const PREVIOUS_FROM = NOW.getTime() - 2 * PERIOD_MS;

interface Reading {
  at: number;
  mmol: number | null;
  flag: 'LO' | 'HI' | null;
  kind: 'cgm' | 'bgm' | 'control';
}

/** Instants in and around both periods, their edges included. */
const instant = fc.oneof(
  fc.integer({ min: PREVIOUS_FROM - 60 * MINUTE, max: NOW.getTime() + 60 * MINUTE }),
  fc.constantFrom(PREVIOUS_FROM - 1, PREVIOUS_FROM, CURRENT_FROM - 1, CURRENT_FROM, NOW.getTime() - 1, NOW.getTime()),
  // Edges of the clock's slots (and so of hours and days) inside the current period.
  fc
    .integer({ min: cgmSlotOf(CURRENT_FROM), max: cgmSlotOf(NOW.getTime()) })
    .chain((slot) => fc.constantFrom(slot * SLOT_MINUTES * MINUTE, (slot + 1) * SLOT_MINUTES * MINUTE - 1)),
);
const reading: fc.Arbitrary<Reading> = fc
  .record({
    at: instant,
    value: fc.oneof(
      fc.integer({ min: 6, max: 333 }).map((t) => ({ mmol: t / 10, flag: null })),
      fc.constantFrom(3.0, 3.5, 3.9, 7.8, 10.0, 13.9).map((mmol) => ({ mmol, flag: null })),
      fc.constantFrom(
        { mmol: null, flag: 'LO' as const },
        { mmol: null, flag: 'HI' as const },
        { mmol: 2.0, flag: 'LO' as const },
      ),
    ),
    kind: fc.constantFrom('cgm', 'cgm', 'bgm', 'control'),
  })
  .map(({ at, value, kind }) => ({ at, mmol: value.mmol, flag: value.flag, kind }) as Reading);

/** The slow path: every reading counted on its own. */
function countedOneByOne(readings: readonly Reading[]) {
  const current = new Array<number>(BAND_COUNT).fill(0);
  const previous = new Array<number>(BAND_COUNT).fill(0);
  const slots = new Set<number>();
  let cgmSeen = false;
  for (const r of readings) {
    if (r.kind === 'control' || r.at < PREVIOUS_FROM || r.at >= NOW.getTime()) continue;
    const cur = r.at >= CURRENT_FROM;
    (cur ? current : previous)[bandOf(r.mmol, r.flag)]!++;
    if (cur && r.kind === 'cgm') {
      cgmSeen = true;
      slots.add(cgmSlotOf(r.at));
    }
  }
  return { current, previous, cgmSlots: slots.size, cgmSeen };
}

describe.each(BACKENDS)('board counts on %s', (backend) => {
  let db: Database & { dispose(): Promise<void> };
  let teamId: string;
  beforeAll(async () => {
    db = await openTestDatabase(backend);
    teamId = (await createTeam(db.pool, { name: 'Counts' })).id;
  });
  afterAll(() => db?.dispose());

  it('equal counting every reading one by one, for any readings', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(reading, { maxLength: 40 }), { minLength: 1, maxLength: 3 }),
        async (patients) => {
          const ids: string[] = [];
          for (const readings of patients) {
            const { id } = await createPatient(db.pool, { teamId, name: `Patient ${run++}` });
            ids.push(id);
            if (readings.length === 0) continue;
            await db.pool.query(
              `insert into readings (measured_at, patient_id, mmol, flag, kind, source)
             select to_timestamp(t / 1000.0), $1, m, f, k, 'manual'
             from unnest($2::float8[], $3::float8[], $4::text[], $5::text[]) as x(t, m, f, k)`,
              [
                id,
                readings.map((r) => r.at),
                readings.map((r) => r.mmol),
                readings.map((r) => r.flag),
                readings.map((r) => r.kind),
              ],
            );
          }
          // Twice: counted from the readings, then from the buckets the first count stored.
          for (let pass = 0; pass < 2; pass++) {
            const counts = await boardCountsOf(db.pool, ids, { now: NOW, days: DAYS });
            expect(ids.map((id) => counts.get(id))).toEqual(patients.map(countedOneByOne));
          }
        },
      ),
      { numRuns: backend === 'embedded' ? 15 : 40 },
    );
  }, 120_000);
});
