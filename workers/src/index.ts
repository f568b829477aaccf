import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RedisEndpoint } from '@glucoboard/core/platform';
import type { Database } from '@glucoboard/core/storage';
import { startAlerting } from './alerting.ts';
import { startMaintenance, type MaintenanceSettings } from './maintenance.ts';

export interface Workers {
  close(): Promise<void>;
}

/**
 * Every BullMQ worker of Glucoboard. The server runs them in its own process for the embedded
 * database; `node workers/src/main.ts` runs them on their own against a PostgreSQL server.
 */
export async function startWorkers(options: {
  db: Database;
  redis: RedisEndpoint;
  settings: MaintenanceSettings & {
    alertJobs: { noDataScanMs: number; lockDurationMs: number; escalationSweepMs?: number };
  };
  log: Logger;
  metrics: Registry;
  /** Parallel rule evaluations (the embedded database has one connection: 1). */
  evaluationConcurrency?: number;
}): Promise<Workers> {
  const sweepMs = options.settings.alertJobs.escalationSweepMs;
  const maintenance = await startMaintenance(
    options.db,
    options.redis,
    { ...options.settings, schedulerCheckMs: sweepMs },
    options.log,
    options.metrics,
  );
  const alerting = await startAlerting({
    db: options.db,
    redis: options.redis,
    redisPrefix: options.settings.redisPrefix,
    log: options.log,
    metrics: options.metrics,
    concurrency: options.evaluationConcurrency ?? (options.db.backend === 'embedded' ? 1 : 4),
    noDataScanMs: options.settings.alertJobs.noDataScanMs,
    escalationSweepMs: sweepMs,
    lockDurationMs: options.settings.alertJobs.lockDurationMs,
    stalledIntervalMs: options.settings.alertJobs.lockDurationMs,
  });
  return {
    async close() {
      await alerting.close();
      await maintenance.close();
    },
  };
}

export { runMaintenanceJob, MAINTENANCE_SCHEDULE } from './maintenance.ts';
export { startAlerting } from './alerting.ts';
export { startMaintenance } from './maintenance.ts';
