import { profileTargets } from '@glucoboard/core/domain';
import type { AlertView, BoardPatientView } from '@glucoboard/core/wire';

/** Test data of the app's own tests: an alert and a board row as the server sends them. */

let n = 0;
export function alert(overrides: Partial<AlertView> = {}): AlertView {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    patientId: '10000000-0000-4000-8000-000000000001',
    teamId: '20000000-0000-4000-8000-000000000001',
    rule: 'urgent_low',
    severity: 'critical',
    state: 'open',
    escalated: false,
    openedAt: '2025-03-01T10:00:00.000Z',
    worstMmol: 2.4,
    worstFlag: null,
    patientName: 'Patient',
    retrospective: false,
    notifiedAt: '2025-03-01T10:00:00.500Z',
    escalatedAt: null,
    escalationTeamId: null,
    firstReadingAt: null,
    lastReadingAt: null,
    lastMmol: null,
    worstReadingAt: null,
    readingCount: 1,
    acknowledgedAt: null,
    acknowledgedBy: null,
    action: null,
    note: null,
    resolvedAt: null,
    resolvedBy: null,
    snoozedUntil: null,
    updatedAt: '2025-03-01T10:00:00.500Z',
    ...overrides,
  };
}

const ranges = (inRange: number | null, rest: Partial<BoardPatientView['statistics']['ranges']> = {}) => ({
  veryLow: inRange === null ? null : 0,
  low: inRange === null ? null : 0,
  inRange,
  high: inRange === null ? null : 100 - inRange,
  veryHigh: inRange === null ? null : 0,
  ...rest,
});

type Ranges = ReturnType<typeof ranges>;
const sum = (...shares: Array<number | null>) =>
  shares.includes(null) ? null : shares.reduce<number>((a, s) => a + s!, 0);
/** The standard profile's shares of consensus range shares (the fixture's targets follow its ranges). */
const standardShares = (r: Ranges) => ({
  veryLow: r.veryLow,
  belowRange: sum(r.veryLow, r.low),
  inRange: r.inRange,
  aboveRange: sum(r.high, r.veryHigh),
  veryHigh: r.veryHigh,
});

export function row(overrides: Partial<BoardPatientView> & { id: string; name: string }): BoardPatientView {
  const made = rowWithout(overrides);
  const s = made.statistics;
  return {
    ...made,
    statistics: {
      ...s,
      targets: {
        ...profileTargets('standard'),
        shares: standardShares(s.ranges),
        previousShares: standardShares(s.previousRanges),
      },
    },
  };
}

function rowWithout(overrides: Partial<BoardPatientView> & { id: string; name: string }): BoardPatientView {
  return {
    labels: [],
    targetProfile: 'standard',
    monitoring: 'bgm',
    lastReading: { measuredAt: new Date().toISOString(), mmol: 6, flag: null, kind: 'bgm', source: 'device' },
    recentCgm: [],
    sparkline: [],
    statistics: {
      ranges: ranges(100),
      count: 50,
      previousRanges: ranges(100),
      previousCount: 50,
      dataSufficiency: null,
      tooLittleData: false,
      noDataMinutes: 2880,
      targets: {
        ...profileTargets('standard'),
        shares: standardShares(ranges(100)),
        previousShares: standardShares(ranges(100)),
      },
    },
    alerts: { open: 0, acknowledged: 0, worstSeverity: null, escalated: false },
    lastReviewed: null,
    responsiblePhysician: null,
    triage: { category: 'rest', rank: 8, since: null, measure: null },
    ...overrides,
  };
}

export { ranges };
