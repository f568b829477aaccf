import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPatient, createTeam, statisticsInputOf, type Database } from '../../src/storage/index.ts';
import { BACKENDS, openTestDatabase } from '../support/databases.ts';
import { insertReadings } from '../support/readings.ts';

// A summary's readings come as one row of arrays (issue 17): whatever the readings, they must be
// exactly the patient's readings in [from, to), control solution left out, oldest first, each
// with its value, flag and kind.

const MINUTE = 60_000;
const FROM = Date.parse('2026-11-01T00:00:00.000Z');
const TO = FROM + 3 * 24 * 60 * MINUTE;

interface Reading {
  at: number;
  mmol: number | null;
  flag: 'LO' | 'HI' | null;
  kind: 'cgm' | 'bgm' | 'control';
}

const reading: fc.Arbitrary<Reading> = fc
  .record({
    // Around the period, its edges included.
    at: fc.oneof(
      fc.integer({ min: FROM - 60 * MINUTE, max: TO + 60 * MINUTE }),
      fc.constantFrom(FROM - 1, FROM, TO - 1, TO),
    ),
    value: fc.oneof(
      fc.integer({ min: 6, max: 333 }).map((t) => ({ mmol: t / 10, flag: null })),
      fc.constantFrom(
        { mmol: null, flag: 'LO' as const },
        { mmol: null, flag: 'HI' as const },
        { mmol: 2.0, flag: 'LO' as const },
      ),
    ),
    kind: fc.constantFrom('cgm' as const, 'cgm' as const, 'bgm' as const, 'control' as const),
  })
  .map(({ at, value, kind }) => ({ at, mmol: value.mmol, flag: value.flag, kind }));

describe.each(BACKENDS)('statistics input on %s', (backend) => {
  let db: Database & { dispose(): Promise<void> };
  let teamId: string;
  beforeAll(async () => {
    db = await openTestDatabase(backend);
    teamId = (await createTeam(db.pool, { name: 'Statistics input' })).id;
  });
  afterAll(() => db?.dispose());

  it('is every reading of the period but control solution, oldest first, for any readings', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        // Distinct instants: "oldest first" then has one answer.
        fc.uniqueArray(reading, { selector: (r) => r.at, maxLength: 60 }),
        async (readings) => {
          const { id } = await createPatient(db.pool, { teamId, name: `Patient ${run++}` });
          await insertReadings(
            db,
            id,
            readings.map((r) => ({ ...r, source: 'manual' as const })),
          );
          const input = await statisticsInputOf(db.pool, id, new Date(FROM), new Date(TO));
          const expected = readings
            .filter((r) => r.kind !== 'control' && r.at >= FROM && r.at < TO)
            .sort((a, b) => a.at - b.at)
            .map((r) => ({ measuredAt: new Date(r.at), mmol: r.mmol, flag: r.flag, kind: r.kind }));
          expect(input.readings).toEqual(expected);
          expect(input.monitoring).toBe(expected.some((r) => r.kind === 'cgm') ? 'cgm' : 'bgm');
        },
      ),
      { numRuns: backend === 'embedded' ? 20 : 50 },
    );
  }, 120_000);
});
