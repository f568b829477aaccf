import { noDataDue } from '@glucoboard/core/domain';
import {
  noDataCandidates,
  openNoDataEpisodes,
  thresholdsOfPatients,
  type AlertChange,
  type Database,
} from '@glucoboard/core/storage';

/**
 * The no-data scan: patients with a paired meter whose newest reading is older than their no-data
 * period (patient override, else the team's default for a CGM if one is paired, else for a
 * fingerstick meter) get a no_data warning. The clock starts at the newest reading, or at pairing
 * for a meter that never sent one. A snoozed no_data is recorded without paging. The partial unique
 * index makes a second scan (or one on another machine) a no-op for patients already alerted.
 */
export async function openNoDataAlerts(db: Database, now: Date): Promise<AlertChange[]> {
  const candidates = await noDataCandidates(db.pool);
  // The no-data period in effect: the one definition the board and the API show too.
  const thresholds = await thresholdsOfPatients(
    db.pool,
    candidates.map((c) => c.patientId),
  );
  const due = candidates.filter((c) => {
    const minutes = thresholds.get(c.patientId)?.effective.noDataMinutes;
    return minutes !== undefined && noDataDue(c.since, minutes, now);
  });
  if (due.length === 0) return [];
  const opened = await openNoDataEpisodes(db.pool, due, now);
  return opened.map((r) => ({ alertId: r.alertId, change: 'opened', notify: r.notify, severity: 'warning' }));
}
