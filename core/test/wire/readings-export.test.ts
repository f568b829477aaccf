import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWith } from '../../src/wire/people.ts';
import {
  READINGS_CSV_COLUMNS,
  readingCsvCells,
  readingsQueryAt,
  swedishIsoString,
} from '../../src/wire/readings-export.ts';

// The readings export's columns and times (docs/follow-up.md, "Exports"). The oracle for Swedish
// wall-clock time is the platform's time-zone database (Intl, Europe/Stockholm), not our EU rule.
const stockholm = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Stockholm',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const wallClock = (at: Date) => stockholm.format(at).replace(' ', 'T');

describe('swedishIsoString', () => {
  it('writes Swedish wall-clock time with its offset, the same instant', () => {
    expect(swedishIsoString(new Date('2026-12-03T09:04:00Z'))).toBe('2026-12-03T10:04:00+01:00');
    expect(swedishIsoString(new Date('2026-07-01T22:30:00.250Z'))).toBe('2026-07-02T00:30:00.250+02:00');
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }), (ms) => {
        const at = new Date(ms);
        const text = swedishIsoString(at);
        expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?\+0[12]:00$/);
        expect(new Date(text).getTime()).toBe(ms);
        expect(text.slice(0, 19)).toBe(wallClock(at));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('readingCsvCells', () => {
  it('gives one cell per column: mmol/L as stored, mg/dL rounded, empty where there is no value', () => {
    const receivedAt = new Date('2026-12-03T09:05:00Z');
    const cells = readingCsvCells({
      measuredAt: new Date('2026-12-03T09:04:00Z'),
      receivedAt,
      mmol: 5.5,
      flag: null,
      kind: 'bgm',
      meal: 'before',
      source: 'device',
      deviceSerial: 'SN-1',
      seq: 7,
    });
    expect(cells).toHaveLength(READINGS_CSV_COLUMNS.length);
    expect(cells).toEqual([
      '2026-12-03T10:04:00+01:00',
      5.5,
      99, // 5.5 x 18.0156 = 99.09
      null,
      'bgm',
      'before',
      'device',
      'SN-1',
      7,
      '2026-12-03T10:05:00+01:00',
    ]);
    const lo = readingCsvCells({
      measuredAt: receivedAt,
      receivedAt,
      mmol: null,
      flag: 'LO',
      kind: 'bgm',
      meal: null,
      source: 'manual',
      deviceSerial: null,
      seq: null,
    });
    expect(lo.slice(1, 4)).toEqual([null, null, 'LO']);
  });
});

describe('readingsQuery', () => {
  const NOW = new Date('2026-06-15T12:00:00Z');
  const query = readingsQueryAt(() => NOW);

  it('keeps the range of the readings API and adds the format', () => {
    expect(parseWith(query, { format: 'csv' })).toEqual({
      ok: true,
      value: { from: new Date('2026-06-14T12:00:00Z'), to: NOW, format: 'csv' },
    });
    expect(parseWith(query, {})).toEqual({
      ok: true,
      value: { from: new Date('2026-06-14T12:00:00Z'), to: NOW, format: undefined },
    });
  });

  it("gives the range's own errors, naming the field", () => {
    expect(parseWith(query, { from: '2026-06-15T12:00:00Z', format: 'csv' })).toEqual({
      ok: false,
      error: { code: 'VALIDATION_FAILED', field: 'from', message: 'from must be before now.' },
    });
    expect(parseWith(query, { from: '2026-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' })).toEqual({
      ok: false,
      error: { code: 'VALIDATION_FAILED', field: 'from', message: 'from must be at most 90 days before to.' },
    });
    expect(parseWith(query, { format: 'xlsx' })).toMatchObject({ ok: false, error: { field: 'format' } });
  });
});
