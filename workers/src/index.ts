import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RedisEndpoint } from '@glucoboard/core/platform';
import type { Database } from '@glucoboard/core/storage';
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
  settings: MaintenanceSettings;
  log: Logger;
  metrics: Registry;
}): Promise<Workers> {
  const maintenance = await startMaintenance(options.db, options.redis, options.settings, options.log, options.metrics);
  return {
    // worker.close() waits for jobs in progress, so none is cut off half done.
    close: () => maintenance.close(),
  };
}

export { runMaintenanceJob, MAINTENANCE_SCHEDULE } from './maintenance.ts';
export { evaluationJobId, JOB_RETENTION, producerConnection, queuePrefix, QUEUES } from './queues.ts';
export { startMaintenance } from './maintenance.ts';
