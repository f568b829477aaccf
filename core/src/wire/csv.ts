/**
 * CSV for exports that people open in a spreadsheet (RFC 4180 quoting). A cell that starts with
 * `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a formula there (a name such as
 * `=HYPERLINK(...)` turns into a link that sends data away), so it is prefixed with `'` and
 * quoted, as OWASP's guidance on CSV injection says. Numbers are written as numbers.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  const text = value instanceof Date ? value.toISOString() : String(value ?? '');
  const neutral = FORMULA_START.test(text) ? `'${text}` : text;
  return neutral !== text || /[",\r\n]/.test(neutral) ? `"${neutral.replace(/"/g, '""')}"` : neutral;
}

/** Lines ending in CRLF would be RFC 4180; LF is what every spreadsheet reads and what we keep. */
export function csvDocument(header: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string {
  return (
    [header.map(csvCell), ...rows.map((row) => row.map(csvCell))].map((cells) => cells.join(',')).join('\n') + '\n'
  );
}
