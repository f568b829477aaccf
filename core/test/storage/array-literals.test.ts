import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numberArrayLiteral, textArrayLiteral, timestampArrayLiteral } from '../../src/storage/array-literals.ts';
import type { Database } from '../../src/storage/index.ts';
import { BACKENDS, openTestDatabase } from '../support/databases.ts';

/** Strings a literal could get wrong: quotes, backslashes, braces, commas, blanks, "NULL" and any text. */
const awkwardText = fc.oneof(
  fc.string({ unit: fc.constantFrom('"', '\\', '{', '}', ',', ' ', '\t', '\n', 'N', 'U', 'L', 'a', 'é') }),
  fc.constantFrom('NULL', 'null', '', ' ', '"', '\\'),
  fc.string({ unit: 'grapheme' }),
);
// PostgreSQL text cannot hold the NUL character.
const pgText = awkwardText.filter((s) => !s.includes('\u0000'));

describe.each(BACKENDS)('array literals read back by the %s database', (backend) => {
  let db: Database & { dispose(): Promise<void> };
  beforeAll(async () => {
    db = await openTestDatabase(backend);
  });
  afterAll(() => db.dispose());

  it('text[]: every string and null comes back as it went in, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(pgText), { maxLength: 12 }), async (values) => {
        const { rows } = await db.pool.query<{ v: string | null }>(
          'select v from unnest($1::text[]) with ordinality as t(v, i) order by i',
          [textArrayLiteral(values)],
        );
        expect(rows.map((r) => r.v)).toEqual(values);
      }),
      { numRuns: 60 },
    );
  });

  it('float8[] and bigint[]: the same numbers, nulls included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.double({ noNaN: true, noDefaultInfinity: true })), { maxLength: 12 }),
        fc.array(fc.option(fc.maxSafeInteger()), { maxLength: 12 }),
        async (doubles, integers) => {
          const { rows } = await db.pool.query<{ d: number[]; b: string[] }>(
            'select $1::float8[] as d, $2::bigint[] as b',
            [numberArrayLiteral(doubles), numberArrayLiteral(integers)],
          );
          // -0 reads back as 0 through text, as it does through pg's own arrays.
          expect(rows[0]!.d.map((v) => (v === null ? null : Number(v)))).toEqual(
            doubles.map((v) => (v === null ? null : v === 0 ? 0 : v)),
          );
          expect(rows[0]!.b.map((v) => (v === null ? null : Number(v)))).toEqual(integers);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('timestamptz[]: the same instants to the millisecond', async () => {
    const instant = fc.date({
      min: new Date('1970-01-01T00:00:00Z'),
      max: new Date('2200-01-01T00:00:00Z'),
      noInvalidDate: true,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(instant, { maxLength: 12 }), async (dates) => {
        const { rows } = await db.pool.query<{ ms: string }>(
          `select (extract(epoch from v) * 1000)::bigint::text as ms
           from unnest($1::timestamptz[]) with ordinality as t(v, i) order by i`,
          [timestampArrayLiteral(dates)],
        );
        expect(rows.map((r) => Number(r.ms))).toEqual(dates.map((d) => d.getTime()));
      }),
      { numRuns: 40 },
    );
  });
});

describe('array literals', () => {
  it('refuse a number that is not finite rather than write it', () => {
    expect(() => numberArrayLiteral([1, Number.NaN])).toThrow(RangeError);
    expect(() => numberArrayLiteral([Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});
