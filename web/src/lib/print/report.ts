/**
 * The arithmetic of the printable AGP report (International Diabetes Center's AGP Report v5 as the
 * model): the periods offered, the days of the daily profiles, time per day of a share, and the
 * alerts of the period. Pure, so it is tested without a browser.
 */
import { swedishDayIndex, swedishLocalTime } from '@glucoboard/core/domain';
import type { AlertView, ReadingView } from '@glucoboard/core/wire';

/** Periods offered on screen; 14 days is the consensus' period for a reliable AGP. */
export const REPORT_DAY_CHOICES = [7, 14, 30, 90] as const;
export const REPORT_DAYS_DEFAULT = 14;

/**
 * The daily profiles show at most the last 14 days: the report's first page holds two rows of
 * seven, and a longer period's days would push the AGP off it (the v5 report shows 14 too).
 */
export const DAILY_PROFILES_MAX = 14;

/** `?days=` of the report's address; anything else than a choice is the default. */
export function reportDays(param: string | null): number {
  const days = Number(param);
  return (REPORT_DAY_CHOICES as readonly number[]).includes(days) ? days : REPORT_DAYS_DEFAULT;
}

export interface ReportDay {
  /** Days since 1970-01-01, Swedish local calendar. */
  index: number;
  /** Local midnight that starts it and the next one, epoch ms. */
  start: number;
  end: number;
}

/**
 * The Swedish calendar days of the daily profiles, oldest first: the `count` days up to and with the
 * one holding `to` (today, still running), midnight to midnight as the AGP's time of day is.
 */
export function reportDaysUpTo(to: Date, count: number): ReportDay[] {
  const last = swedishDayIndex(to.getTime());
  return Array.from({ length: count }, (_, k) => {
    const index = last - count + 1 + k;
    return { index, start: swedishLocalTime(index, 0), end: swedishLocalTime(index + 1, 0) };
  });
}

/** The readings of each day, in the days' order (readings come oldest first). */
export function readingsByDay(readings: readonly ReadingView[], days: readonly ReportDay[]): ReadingView[][] {
  const byIndex = new Map(days.map((d) => [d.index, [] as ReadingView[]]));
  for (const r of readings) {
    if (r.kind === 'control') continue; // control solution is not the patient's glucose
    byIndex.get(swedishDayIndex(Date.parse(r.measuredAt)))?.push(r);
  }
  return days.map((d) => byIndex.get(d.index)!);
}

/** A share of the time as hours and minutes per day ("16 h 48 min"): how the v5 report says it. */
export function timePerDay(share: number | null): { hours: number; minutes: number } | null {
  if (share === null || !Number.isFinite(share)) return null;
  const total = Math.round((Math.max(0, Math.min(100, share)) / 100) * 24 * 60);
  return { hours: Math.floor(total / 60), minutes: total % 60 };
}

/**
 * When an episode began: its first reading. An alert opened from backfilled readings (a meter that
 * uploads a day late) was opened long after the glucose it is about; the report is about the glucose.
 */
export const episodeStart = (a: Pick<AlertView, 'firstReadingAt' | 'openedAt'>): string =>
  a.firstReadingAt ?? a.openedAt;

/**
 * The alerts of the period, oldest first: begun before its end and not resolved before its start
 * (an episode running into the period belongs to it).
 */
export function alertsOfPeriod(alerts: readonly AlertView[], from: Date, to: Date): AlertView[] {
  return alerts
    .filter(
      (a) =>
        Date.parse(episodeStart(a)) < to.getTime() &&
        (a.resolvedAt === null || Date.parse(a.resolvedAt) >= from.getTime()),
    )
    .sort((a, b) => Date.parse(episodeStart(a)) - Date.parse(episodeStart(b)));
}

/**
 * The address of the readings export for the last `days` days, resolved when asked for (a page
 * left open must not ask for a period that has grown past the 90 days allowed).
 */
export function readingsExportUrl(patientId: string, days: number, now = new Date()): string {
  const from = new Date(now.getTime() - days * 24 * 60 * 60_000);
  const query = new URLSearchParams({ format: 'csv', from: from.toISOString(), to: now.toISOString() });
  return `/api/patients/${encodeURIComponent(patientId)}/readings?${query}`;
}
