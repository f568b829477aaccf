/** Numbers, times and durations in the user's language (Intl does the wording). */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type ElapsedUnit = 'second' | 'minute' | 'hour' | 'day';

/** How long ago, in the largest whole unit (under a minute in seconds, rounded down to 10 s). */
export function elapsed(fromMs: number, nowMs: number): { value: number; unit: ElapsedUnit } {
  const ms = Math.max(0, nowMs - fromMs);
  if (ms < MINUTE) return { value: Math.floor(ms / (10 * SECOND)) * 10, unit: 'second' };
  if (ms < HOUR) return { value: Math.floor(ms / MINUTE), unit: 'minute' };
  if (ms < 2 * DAY) return { value: Math.floor(ms / HOUR), unit: 'hour' };
  return { value: Math.floor(ms / DAY), unit: 'day' };
}

/** "3 min sedan" / "3 min ago". */
export function formatAgo(iso: string, nowMs: number, locale: string): string {
  const { value, unit } = elapsed(Date.parse(iso), nowMs);
  return new Intl.RelativeTimeFormat(locale, { numeric: 'always', style: 'short' }).format(-value, unit);
}

export function formatDateTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}

/** The time alone for an instant of today, else date and time. */
export function formatWhen(iso: string, nowMs: number, locale: string): string {
  const date = new Date(iso);
  return date.toDateString() === new Date(nowMs).toDateString() ? formatTime(iso, locale) : formatDateTime(iso, locale);
}

export function formatTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { timeStyle: 'short' }).format(new Date(iso));
}

/** A share in percent: one decimal under 10 % (where 1 % and 4 % are targets), else whole. */
export function formatPercent(value: number | null, locale: string): string {
  if (value === null || !Number.isFinite(value)) return '–';
  const digits = value < 10 && value !== 0 ? 1 : 0;
  return (
    new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(value) + ' %'
  );
}

export function formatNumber(value: number | null, locale: string, digits = 1): string {
  if (value === null || !Number.isFinite(value)) return '–';
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
}

/** The value of an `<input type="datetime-local">` for an instant, in the browser's time zone. */
export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** An `<input type="datetime-local">` value as ISO-8601 with offset (UTC), or null. */
export function fromLocalInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
