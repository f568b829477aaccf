/**
 * What the report page computes from a team report answer: its periods as Swedish calendar days,
 * shares of counts, the SÄBO row. Pure, so it is tested without a browser; the counts themselves
 * are the server's (core/src/domain/team-report.ts).
 */
import { swedishDayIndex } from '@glucoboard/core/domain';
import type { TeamReportView } from '@glucoboard/core/wire';

const DAY = 24 * 60 * 60_000;

/** A day index (days since 1970-01-01) as `YYYY-MM-DD`. */
export const dayText = (index: number): string => new Date(index * DAY).toISOString().slice(0, 10);

/** The last `days` Swedish calendar days up to and with today, as the report query's dates. */
export function lastDays(days: number, now: number): { from: string; to: string } {
  const today = swedishDayIndex(now);
  return { from: dayText(today - days + 1), to: dayText(today) };
}

/** The query string of a report (dates, or nothing for the server's default), with the format. */
export function reportQuery(period: { from: string; to: string } | null, format: 'json' | 'csv' = 'json'): string {
  const params = new URLSearchParams();
  if (period) {
    params.set('from', period.from);
    params.set('to', period.to);
  }
  if (format === 'csv') params.set('format', 'csv');
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** A calendar day of an instant, in the user's locale and time zone. */
export const formatDay = (iso: string, locale: string): string =>
  new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(new Date(iso));

/** Percent of `count` in `total`; null when there is nothing to share. */
export const shareOf = (count: number, total: number): number | null => (total > 0 ? (100 * count) / total : null);

const fold = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLocaleLowerCase();

/** The label the clinic uses for special housing (SÄBO, säbo, Säbo ...), matched without case or accents. */
export const isSaboLabel = (label: string): boolean => fold(label.trim()) === 'sabo';

/** Patients in special housing and how many of them have a responsible physician (all such labels together). */
export function saboRow(report: Pick<TeamReportView, 'labels' | 'followUp'>): {
  patients: number;
  withPhysician: number;
} {
  // Counted from the patients, not by adding label rows: a patient carrying both "SÄBO" and "säbo" counts once.
  const sabo = report.followUp.filter((p) => p.labels.some(isSaboLabel));
  return {
    patients: sabo.length,
    withPhysician: sabo.filter((p) => p.responsiblePhysician?.teamPhysician === true).length,
  };
}
