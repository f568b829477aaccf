/**
 * The live board's state between two answers of `GET /api/board`: readings from the socket update
 * their patient's row, alerts re-triage it. The order is the domain's own `triage` and
 * `compareTriage` (the server sorts with the same functions), fed with the row's 14-day statistics
 * and the alerts the board holds now, so a new critical alert moves its patient up at once.
 */
import { compareTriage, tooLittleData, triage, type TriageKey } from '@glucoboard/core/domain';
import type { AlertView, BoardPatientView, BoardReading, BoardView } from '@glucoboard/core/wire';

const MINUTE = 60_000;

/** CGM values kept for the trend arrow (the server sends as many minutes). */
export const TREND_KEEP_MINUTES = 20;

type Spark = BoardPatientView['sparkline'][number];

/** The bin at `at` with the reading added (a new bin if there was none), bins oldest first. */
function mergeSpark(bins: readonly Spark[], at: number, reading: BoardReading): Spark[] {
  const index = bins.findIndex(([start]) => start === at);
  const numeric = reading.flag === null && reading.mmol !== null ? reading.mmol : null;
  const flagWith = (current: Spark[5]): Spark[5] =>
    reading.flag === 'LO' || current === 'LO' ? 'LO' : (reading.flag ?? current);
  if (index < 0) {
    const bin: Spark = [at, numeric, numeric, numeric, numeric === null ? 0 : 1, flagWith(null)];
    return [...bins, bin].sort((a, b) => a[0] - b[0]);
  }
  const [, mmol, min, max, count, flag] = bins[index]!;
  const merged: Spark =
    numeric === null
      ? [at, mmol, min, max, count, flagWith(flag)]
      : [
          at,
          ((mmol ?? 0) * count + numeric) / (count + 1),
          min === null ? numeric : Math.min(min, numeric),
          max === null ? numeric : Math.max(max, numeric),
          count + 1,
          flag,
        ];
  return bins.map((bin, i) => (i === index ? merged : bin));
}

/**
 * A row after a live reading. Idempotent where it matters: the last reading and the trend values
 * are replaced, not added to. A reading from before the board's answer (a resync's overlap) only
 * opens a sparkline bin the answer did not have, so it never counts twice in a bin's mean.
 */
export function applyReading(
  row: BoardPatientView,
  reading: BoardReading,
  board: Pick<BoardView, 'generatedAt' | 'sparklineHours' | 'sparklineBinMinutes'>,
  now: number,
): BoardPatientView {
  if (reading.kind === 'control' || reading.patientId !== row.id) return row;
  const t = Date.parse(reading.measuredAt);
  if (!Number.isFinite(t)) return row;
  const kind = reading.kind;
  const last = row.lastReading;
  const lastReading =
    !last || t >= Date.parse(last.measuredAt)
      ? { measuredAt: reading.measuredAt, mmol: reading.mmol, flag: reading.flag, kind, source: reading.source }
      : last;

  const recentCgm =
    kind === 'cgm' && reading.flag === null && reading.mmol !== null
      ? [
          ...row.recentCgm.filter((p) => Date.parse(p.measuredAt) !== t),
          { measuredAt: reading.measuredAt, mmol: reading.mmol },
        ]
          .filter((p) => Date.parse(p.measuredAt) >= now - TREND_KEEP_MINUTES * MINUTE)
          .sort((a, b) => Date.parse(a.measuredAt) - Date.parse(b.measuredAt))
      : row.recentCgm;

  // Bins lie on the clock's grid of their width, as the server makes them.
  const binMs = board.sparklineBinMinutes * MINUTE;
  const windowStart = now - board.sparklineHours * 60 * MINUTE;
  let sparkline = row.sparkline.filter(([start]) => start + binMs > windowStart);
  if (t >= windowStart && t <= now + 5 * MINUTE) {
    const bin = Math.floor(t / binMs) * binMs;
    const known = sparkline.some(([start]) => start === bin);
    if (!(known && t <= Date.parse(board.generatedAt))) sparkline = mergeSpark(sparkline, bin, reading);
  }

  return {
    ...row,
    monitoring: kind === 'cgm' ? 'cgm' : row.monitoring,
    lastReading,
    recentCgm,
    sparkline,
  };
}

/** Where the row goes now: the domain's triage with the alerts the board holds. */
export function rowTriage(row: BoardPatientView, alerts: readonly AlertView[], now: number): TriageKey {
  const s = row.statistics;
  return triage({
    alerts: alerts.flatMap((a) =>
      a.state === 'resolved' ? [] : [{ severity: a.severity, state: a.state, openedAt: new Date(a.openedAt) }],
    ),
    profile: row.targetProfile,
    current: s.count > 0 ? s.targets.shares : null,
    previous: s.previousCount > 0 ? s.targets.previousShares : null,
    tooLittleData: tooLittleData({
      dataSufficiency: s.dataSufficiency,
      lastReadingAt: row.lastReading ? new Date(row.lastReading.measuredAt) : null,
      noDataMinutes: s.noDataMinutes,
      now: new Date(now),
    }),
  });
}

export interface OrderedRow {
  row: BoardPatientView;
  key: TriageKey;
  alerts: AlertView[];
}

/** Rows most urgent first; equal keys by name, as the server orders them. */
export function orderRows(
  rows: readonly BoardPatientView[],
  alertsOf: (patientId: string) => AlertView[],
  now: number,
  locale: string,
): OrderedRow[] {
  const collator = new Intl.Collator(locale);
  return rows
    .map((row) => {
      const alerts = alertsOf(row.id);
      return { row, alerts, key: rowTriage(row, alerts, now) };
    })
    .sort((a, b) => collator.compare(a.row.name, b.row.name))
    .sort((a, b) => compareTriage(a.key, b.key));
}

export interface BoardFilter {
  /** A label the patient must carry; '' for any. */
  label: string;
  /** Text in the name or a label, ignoring case and accents; '' for any. */
  text: string;
  /** The responsible physician's user id, PHYSICIAN_NONE for patients without one; '' or absent for any. */
  physician?: string;
}

/** The physician filter's value for patients without a responsible physician. */
export const PHYSICIAN_NONE = 'none';

const fold = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLocaleLowerCase();

export function matchesFilter(
  row: Pick<BoardPatientView, 'name' | 'labels'> & Partial<Pick<BoardPatientView, 'responsiblePhysician'>>,
  filter: BoardFilter,
): boolean {
  if (filter.label && !row.labels.includes(filter.label)) return false;
  if (filter.physician) {
    const id = row.responsiblePhysician?.id ?? null;
    if (filter.physician === PHYSICIAN_NONE ? id !== null : id !== filter.physician) return false;
  }
  const wanted = fold(filter.text.trim());
  if (!wanted) return true;
  return fold(row.name).includes(wanted) || row.labels.some((label) => fold(label).includes(wanted));
}

/** Every label on the board, sorted. */
export function labelsOf(rows: readonly Pick<BoardPatientView, 'labels'>[], locale: string): string[] {
  return [...new Set(rows.flatMap((r) => r.labels))].sort(new Intl.Collator(locale).compare);
}

/** Every responsible physician on the board, by name. */
export function physiciansOf(
  rows: readonly Pick<BoardPatientView, 'responsiblePhysician'>[],
  locale: string,
): Array<{ id: string; name: string }> {
  const byId = new Map<string, string>();
  for (const r of rows) if (r.responsiblePhysician) byId.set(r.responsiblePhysician.id, r.responsiblePhysician.name);
  const collator = new Intl.Collator(locale);
  return [...byId].map(([id, name]) => ({ id, name })).sort((a, b) => collator.compare(a.name, b.name));
}
