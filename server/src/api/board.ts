import { z } from 'zod';
import {
  BOARD_SPARKLINE_BIN_MINUTES,
  BOARD_SPARKLINE_HOURS,
  BOARD_TREND_MINUTES,
  cgmSufficiencyOf,
  GLUCOSE_RANGES,
  compareTriage,
  profileTargets,
  rangeCountsOfBands,
  targetShares,
  tooLittleData,
  triage,
  TRIAGE_DAYS,
  type BandCounts,
  type RangeShares,
  type Severity,
} from '@glucoboard/core/domain';
import {
  boardCountsOf,
  boardPatientsOf,
  SparklineMemo,
  type BoardPatientCounts,
  type BoardPatientLive,
} from '@glucoboard/core/storage';
import { boardView, type BoardPatientView, type BoardView } from '@glucoboard/core/wire';
import { teamAccess } from '../access/policy.ts';
import { recordAuditForPatients, userActor } from '../audit/trail.ts';
import { route, type RouteSpec } from '../http/routes.ts';
import type { ApiDependencies } from './context.ts';

const DAY_MS = 24 * 60 * 60_000;

/** How long a team's 14-day counts are reused (see StatisticsMemo). */
export const BOARD_STATISTICS_TTL_MS = 60_000;

type Counts = Map<string, BoardPatientCounts>;

/**
 * The 14 + 14-day range counts are the board's one heavy query (for 200 CGM wearers, 1.6 million
 * readings: about a second on PostgreSQL, several on the embedded database, which serves one query
 * at a time). Boards ask again after every reconnect, so a server restart would have every open
 * board ask at once. A team's counts are therefore computed at most once per minute per server and
 * shared by requests in flight; a minute moves a 14-day share by at most a few readings' weight.
 * For `staleMs` after that minute a request is still answered from them at once while one
 * recount runs behind it, so no nurse waits for the recount (it was the served board's slowest
 * request, docs/benchmarks.md); counts older than that are recounted while the request waits. The
 * board says how old its counts are (`statisticsAt`). Everything else on the board (last
 * readings, sparklines, alerts, triage by alerts) is fresh. A patient the cached counts do not know
 * (just registered) makes them be computed again.
 */
export class StatisticsMemo {
  readonly #entries = new Map<string, { at: number; counts: Promise<Counts> }>();
  /** Teams whose counts are being recounted behind the requests. */
  readonly #recounting = new Set<string>();

  constructor(
    private readonly ttlMs = BOARD_STATISTICS_TTL_MS,
    private readonly clock = () => Date.now(),
    private readonly staleMs = ttlMs,
  ) {}

  async countsOf(
    teamId: string,
    patientIds: readonly string[],
    compute: (now: Date) => Promise<Counts>,
  ): Promise<{ at: Date; counts: Counts }> {
    const now = this.clock();
    for (const [key, entry] of this.#entries) {
      if (now - entry.at >= this.ttlMs + this.staleMs) this.#entries.delete(key);
    }
    const cached = this.#entries.get(teamId);
    if (cached) {
      const counts = await cached.counts.catch(() => undefined);
      if (counts && patientIds.every((id) => counts.has(id))) {
        if (now - cached.at >= this.ttlMs) this.#recount(teamId, compute, now);
        return { at: new Date(cached.at), counts };
      }
    }
    const entry = { at: now, counts: compute(new Date(now)) };
    this.#entries.set(teamId, entry);
    try {
      return { at: new Date(now), counts: await entry.counts };
    } catch (err) {
      if (this.#entries.get(teamId) === entry) this.#entries.delete(teamId);
      throw err;
    }
  }

  /** One recount at a time per team; a failed one leaves the old counts to age out. */
  #recount(teamId: string, compute: (now: Date) => Promise<Counts>, now: number): void {
    if (this.#recounting.has(teamId)) return;
    this.#recounting.add(teamId);
    compute(new Date(now))
      .then(
        (counts) => {
          // Unless a newer count (a new patient's) landed meanwhile.
          if ((this.#entries.get(teamId)?.at ?? -Infinity) < now) {
            this.#entries.set(teamId, { at: now, counts: Promise.resolve(counts) });
          }
        },
        () => undefined,
      )
      .finally(() => this.#recounting.delete(teamId));
  }
}

const SEVERITY_ORDER: readonly Severity[] = ['critical', 'warning', 'info'];

/** Percent of the readings in each consensus range, as `summarize` gives them (null without readings). */
function sharesOf(bands: BandCounts): { ranges: RangeShares; count: number } {
  const counts = rangeCountsOfBands(bands);
  const count = GLUCOSE_RANGES.reduce((sum, range) => sum + counts[range], 0);
  const ranges = Object.fromEntries(
    GLUCOSE_RANGES.map((range) => [range, count > 0 ? (100 * counts[range]) / count : null]),
  ) as RangeShares;
  return { ranges, count };
}

/** One board row: the domain's statistics and triage over the counts storage made. */
function rowOf(
  p: BoardPatientLive,
  counts: BoardPatientCounts,
  countedAt: Date,
  now: Date,
): { view: BoardPatientView; key: ReturnType<typeof triage> } {
  const current = sharesOf(counts.current);
  const previous = sharesOf(counts.previous);
  // As the summary: a CGM paired, or CGM readings in the period.
  const monitoring = p.cgmPaired || counts.cgmSeen ? 'cgm' : 'bgm';
  const countedTo = countedAt.getTime();
  const dataSufficiency =
    monitoring === 'cgm' ? cgmSufficiencyOf(counts.cgmSlots, countedTo - TRIAGE_DAYS * DAY_MS, countedTo) : null;
  const little = tooLittleData({
    dataSufficiency,
    lastReadingAt: p.lastReading?.measuredAt ?? null,
    noDataMinutes: p.noDataMinutes,
    now,
  });
  const open = p.alerts.filter((a) => a.state === 'open');
  const targets = targetShares(counts.current, p.targetProfile);
  const previousTargets = targetShares(counts.previous, p.targetProfile);
  const key = triage({
    alerts: p.alerts,
    profile: p.targetProfile,
    current: current.count > 0 ? targets : null,
    previous: previous.count > 0 ? previousTargets : null,
    tooLittleData: little,
  });
  const worstSeverity = SEVERITY_ORDER.find((severity) => p.alerts.some((a) => a.severity === severity)) ?? null;
  const view: BoardPatientView = {
    id: p.id,
    name: p.name,
    labels: p.labels,
    targetProfile: p.targetProfile,
    monitoring,
    lastReading: p.lastReading && { ...p.lastReading, measuredAt: p.lastReading.measuredAt.toISOString() },
    recentCgm: p.recentCgm.map((r) => ({ measuredAt: r.measuredAt.toISOString(), mmol: r.mmol })),
    sparkline: p.sparkline,
    statistics: {
      ranges: current.ranges,
      count: current.count,
      previousRanges: previous.ranges,
      previousCount: previous.count,
      targets: { ...profileTargets(p.targetProfile), shares: targets, previousShares: previousTargets },
      dataSufficiency,
      tooLittleData: little,
      noDataMinutes: p.noDataMinutes,
    },
    alerts: {
      open: open.length,
      acknowledged: p.alerts.length - open.length,
      worstSeverity,
      escalated: p.alerts.some((a) => a.escalated),
    },
    lastReviewed: p.lastReviewedAt
      ? {
          at: p.lastReviewedAt.toISOString(),
          by: p.lastReviewedById ? { id: p.lastReviewedById, name: p.lastReviewedByName ?? '' } : null,
        }
      : null,
    responsiblePhysician: p.responsiblePhysician,
    triage: {
      category: key.category,
      rank: key.rank,
      since: key.since?.toISOString() ?? null,
      measure: key.measure,
    },
  };
  return { view, key };
}

/**
 * The live board's first paint and every resync (SPEC section 3, "The board's order (triage)"):
 * the team's patients, most urgent first. Members of the team only (another team's board answers
 * 404, as `teamAccess` does); every patient shown is an access to that patient's data, so each gets
 * a `board.read` audit event, like the patient list.
 */
export function boardRoutes(
  deps: ApiDependencies,
  memo = new StatisticsMemo(),
  sparklines = new SparklineMemo(),
): RouteSpec[] {
  const db = deps.db.pool;
  return [
    route({
      method: 'get',
      path: '/api/board',
      tag: 'board',
      summary:
        "A team's live board: every patient of the team in triage order, with the last reading, 24 h sparkline, 14-day time in ranges and open alerts",
      signedIn: true,
      query: z.strictObject({ teamId: z.uuid() }),
      responses: { 200: { description: 'The board', schema: boardView } },
      async handle({ user, query, origin }) {
        await teamAccess(db, user, query.teamId, 'member');
        const now = new Date();
        const patients = await boardPatientsOf(
          db,
          query.teamId,
          {
            now,
            sparklineHours: BOARD_SPARKLINE_HOURS,
            sparklineBinMinutes: BOARD_SPARKLINE_BIN_MINUTES,
            trendMinutes: BOARD_TREND_MINUTES,
          },
          sparklines,
        );
        const ids = patients.map((p) => p.id);
        const statistics = await memo.countsOf(query.teamId, ids, (at) =>
          boardCountsOf(db, ids, { now: at, days: TRIAGE_DAYS }),
        );
        // Storage gives the patients by name; a stable sort keeps that order within equal keys.
        const rows = patients
          .map((p) => rowOf(p, statistics.counts.get(p.id)!, statistics.at, now))
          .sort((a, b) => compareTriage(a.key, b.key));
        await recordAuditForPatients(
          db,
          { action: 'board.read', actor: userActor(user.userId), origin, teamId: query.teamId },
          rows.map((r) => r.view.id),
        );
        const body: BoardView = {
          teamId: query.teamId,
          generatedAt: now.toISOString(),
          statisticsAt: statistics.at.toISOString(),
          days: TRIAGE_DAYS,
          sparklineHours: BOARD_SPARKLINE_HOURS,
          sparklineBinMinutes: BOARD_SPARKLINE_BIN_MINUTES,
          patients: rows.map((r) => r.view),
        };
        return { status: 200, body };
      },
    }),
  ];
}
