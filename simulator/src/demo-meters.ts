import type pg from 'pg';
import { readDeviceFile, writeDeviceFile } from './device-file.ts';
import { startLiveMeters } from './live-meters.ts';
import { continueAfterStored } from './verify.ts';

export interface DemoMeters {
  /** How many meters measure. */
  meters: number;
  /** Stops them and keeps their next seqs in the device file, for the next start. */
  stop(): Promise<void>;
}

/**
 * The server's demo mode in one call (`@glucoboard/simulator/demo`): the meters of the device file
 * the demo seed wrote connect to `url` like real meters and measure in real time until stopped.
 * They start past every seq already stored, since meters that ran before (and a restart) leave
 * later seqs than the file's.
 */
export async function startDemoMeters(options: { pool: pg.Pool; url: string; file: string }): Promise<DemoMeters> {
  const devices = await continueAfterStored(options.pool, await readDeviceFile(options.file));
  const meters = startLiveMeters({ url: options.url, devices });
  return {
    meters: devices.length,
    async stop() {
      const report = await meters.stop();
      const next = new Map(report.devices.map((d) => [d.deviceId, d.nextSeq]));
      await writeDeviceFile(
        options.file,
        devices.map((d) => ({ ...d, nextSeq: next.get(d.deviceId) ?? d.nextSeq })),
      );
    },
  };
}
