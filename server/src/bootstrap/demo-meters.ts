import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Database } from '@glucoboard/core/storage';
import { continueAfterStored, readDeviceFile, startLiveMeters, writeDeviceFile } from '@glucoboard/simulator';
import { DEMO_DEVICES_FILE } from './demo.ts';

/**
 * The demo clinic's meters, live: the simulator's devices (one per demo patient, the same glucose
 * profile their seeded history came from) connect to this server over Socket.IO like real meters
 * and measure in real time until the server stops. A client of the server, started after it; the
 * server itself does not depend on it.
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
  // Past every seq already stored (the meters may have run before a restart).
  const devices = await continueAfterStored(options.db.pool, await readDeviceFile(file));
  const meters = startLiveMeters({ url: options.url, devices });
  options.log.info({ meters: devices.length }, 'demo meters measuring live');
  return {
    async stop() {
      const report = await meters.stop();
      const next = new Map(report.devices.map((d) => [d.deviceId, d.nextSeq]));
      await writeDeviceFile(
        file,
        devices.map((d) => ({ ...d, nextSeq: next.get(d.deviceId) ?? d.nextSeq })),
      );
    },
  };
}
