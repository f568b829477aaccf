/**
 * Periods of the audit page as whole calendar days in the browser's time zone (a care unit's own
 * clock): `from` is the first day's midnight, `to` the midnight after the last day, so "last
 * month" is exactly the days of that month.
 */
export type PeriodPreset = 'last7' | 'last30' | 'lastMonth' | 'thisMonth';
export const PERIOD_PRESETS: readonly PeriodPreset[] = ['lastMonth', 'last30', 'last7', 'thisMonth'];

/** Two dates (YYYY-MM-DD), both days included. */
export interface DayRange {
  first: string;
  last: string;
}

const pad = (n: number) => String(n).padStart(2, '0');
export const dayOf = (date: Date) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;

export function presetRange(preset: PeriodPreset, today: Date): DayRange {
  const y = today.getFullYear();
  const m = today.getMonth();
  const d = today.getDate();
  switch (preset) {
    case 'last7':
      return { first: dayOf(new Date(y, m, d - 6)), last: dayOf(today) };
    case 'last30':
      return { first: dayOf(new Date(y, m, d - 29)), last: dayOf(today) };
    case 'lastMonth':
      return { first: dayOf(new Date(y, m - 1, 1)), last: dayOf(new Date(y, m, 0)) };
    case 'thisMonth':
      return { first: dayOf(new Date(y, m, 1)), last: dayOf(today) };
  }
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The instants [from, to) of a day range, as the API takes them; null when a date is missing or reversed. */
export function rangeToPeriod(range: DayRange): { from: string; to: string } | null {
  const a = DAY.exec(range.first);
  const b = DAY.exec(range.last);
  if (!a || !b) return null;
  const from = new Date(Number(a[1]), Number(a[2]) - 1, Number(a[3]));
  const to = new Date(Number(b[1]), Number(b[2]) - 1, Number(b[3]) + 1);
  if (!(from.getTime() < to.getTime())) return null;
  return { from: from.toISOString(), to: to.toISOString() };
}

/** The day range of a period [from, to) (the inverse of rangeToPeriod). */
export function periodToRange(period: { from: string; to: string }): DayRange {
  const to = new Date(period.to);
  return {
    first: dayOf(new Date(period.from)),
    last: dayOf(new Date(to.getFullYear(), to.getMonth(), to.getDate() - 1)),
  };
}
