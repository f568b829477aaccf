/**
 * PostgreSQL array literals for the group commit's parameters, written in one pass.
 *
 * `pg` turns a JavaScript array into the same text, but element by element through its generic
 * value preparation, and a Date through a local-time formatter: in the 2026-12-04 storm that was
 * about 5 % of the server's CPU for nine arrays of up to 2,000 elements per flush
 * (docs/benchmarks.md). The database parses the same text either way.
 */

/** A text[] literal: every element quoted, so none is read as NULL or split. */
export function textArrayLiteral(values: readonly (string | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    out += v === null || v === undefined ? 'NULL' : `"${v.replace(/[\\"]/g, '\\$&')}"`;
  }
  return out + '}';
}

/** A float8[] or bigint[] literal of finite numbers (JavaScript's shortest round-trip digits). */
export function numberArrayLiteral(values: readonly (number | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) {
      out += 'NULL';
    } else if (Number.isFinite(v)) {
      out += String(v);
    } else {
      throw new RangeError(`not a finite number: ${v}`);
    }
  }
  return out + '}';
}

/** A timestamptz[] literal, to the millisecond in UTC (toISOString), as the Dates hold them. */
export function timestampArrayLiteral(values: readonly Date[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += values[i]!.toISOString();
  }
  return out + '}';
}
