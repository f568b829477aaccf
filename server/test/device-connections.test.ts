import { describe, expect, it } from 'vitest';
import { silentLog } from '@glucoboard/core/test-support/databases';
import { DeviceConnections } from '../src/realtime/device-connections.ts';

describe('recording device connections', () => {
  it('gathers the connections of an interval into one write, each device once', async () => {
    const writes: string[][] = [];
    const connections = new DeviceConnections(async (serials) => void writes.push(serials), silentLog, 50);
    for (const serial of ['A', 'B', 'A', 'C']) connections.connected(serial);
    expect(writes).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(writes).toEqual([['A', 'B', 'C']]);
    connections.connected('D');
    await connections.close();
    expect(writes).toEqual([['A', 'B', 'C'], ['D']]);
  });

  it('writes one gathering after another, and a failed write does not stop the next', async () => {
    const writes: string[][] = [];
    let fail = true;
    const connections = new DeviceConnections(
      async (serials) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (fail) {
          fail = false;
          throw new Error('database away');
        }
        writes.push(serials);
      },
      silentLog,
      10_000,
    );
    connections.connected('A');
    await connections.close(); // the write fails: logged, not thrown
    connections.connected('B');
    await connections.close();
    expect(writes).toEqual([['B']]);
  });
});
