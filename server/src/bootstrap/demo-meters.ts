import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Database } from '@glucoboard/core/storage';
import { startDemoMeters as startSimulatedMeters } from '@glucoboard/simulator/demo';
import { DEMO_DEVICES_FILE } from './demo.ts';

/**
 * The demo clinic's meters, live: the simulator's devices (one per demo patient, the same glucose
 * profile their seeded history came from) connect to this server over Socket.IO like real meters
 * and measure in real time until the server stops. A client of the server, started after it, and
 * reached through the simulator's one demo entry (`@glucoboard/simulator/demo`) only.
 */
export async function startDemoMeters(options: {
  db: Database;
  url: string;
  dataDir: string;
  log: Logger;
}): Promise<{ stop(): Promise<void> }> {
  const file = path.join(options.dataDir, DEMO_DEVICES_FILE);
  const exists = await fs.stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) {
    options.log.warn({ file }, 'no demo device file; the demo runs without live meters');
    return { stop: async () => undefined };
  }
  const meters = await startSimulatedMeters({ pool: options.db.pool, url: options.url, file });
  options.log.info({ meters: meters.meters }, 'demo meters measuring live');
  return meters;
}
