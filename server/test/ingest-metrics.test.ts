import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClinic, type TeamFixture, type TestSystem } from './support/clinic.ts';
import { nightscout, sha1 } from './support/nightscout.ts';
import { sendReadings, Sockets } from './support/sockets.ts';
import { xdripEntries } from './fixtures/nightscout/clients.ts';

// Issue 13, "metrics (labelled by protocol)": readings from meters on /devices, gateways over
// HTTP and Nightscout uploaders share the ingest counters, each counted under its own protocol.

let env: TestSystem;
let team: TeamFixture;
const meters = new Sockets(() => env.system.url);

beforeAll(async () => {
  [env, team] = await startClinic('Metrics ward');
});
afterAll(async () => {
  meters.closeAll();
  await env?.stop();
});

/** The value of one counter series in /metrics (0 when absent). */
async function counter(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${env.system.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels},process="server"} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

const readings = (seq: number, count: number, mmol = 6) =>
  Array.from({ length: count }, (_, i) => ({
    seq: seq + i,
    measuredAt: new Date(Date.now() - (count - i) * 60_000).toISOString(),
    mmol,
  }));

describe('ingest metrics by protocol', () => {
  it('counts readings and batches of /devices, the HTTP gateway and Nightscout apart', async () => {
    const meter = await meters.meter(team);
    expect(await sendReadings(meter, { readings: [...readings(1, 2), ...readings(3, 1, 50)] })).toMatchObject({
      ok: true,
      accepted: 2,
    });

    const gateway = (body: unknown) =>
      fetch(`${env.system.url}/api/devices/readings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Device ${team.deviceId}:${team.deviceToken}` },
        body: JSON.stringify(body),
      });
    const batch = { readings: readings(100, 3) };
    expect((await gateway(batch)).status).toBe(200);
    expect(await (await gateway(batch)).json()).toMatchObject({ ok: true, duplicates: 3 });
    expect((await gateway({ readings: readings(200, 501) })).status).toBe(413);

    const cgm = await team.admin.post('/api/devices', {
      serial: 'metrics-cgm',
      kind: 'cgm',
      patientId: team.patientId,
    });
    const entries = xdripEntries([100, 110, 120, 130]).filter((e) => e.type === 'sgv');
    const upload = () =>
      nightscout(env.system.url, '/api/v1/entries', { body: entries, headers: { 'api-secret': sha1(cgm.body.token) } });
    expect((await upload()).status).toBe(200);
    expect((await upload()).status).toBe(200);

    const readingsTotal = (outcome: string, code: string, protocol: string) =>
      counter('glucoboard_readings_total', `outcome="${outcome}",code="${code}",protocol="${protocol}"`);
    const batches = (result: string, protocol: string) =>
      counter('glucoboard_reading_batches_total', `result="${result}",protocol="${protocol}"`);
    expect({
      socketio: {
        accepted: await readingsTotal('accepted', '', 'socketio'),
        rejected: await readingsTotal('rejected', 'OUT_OF_RANGE', 'socketio'),
        batches: await batches('ok', 'socketio'),
      },
      gateway: {
        accepted: await readingsTotal('accepted', '', 'gateway'),
        duplicates: await readingsTotal('duplicate', '', 'gateway'),
        batches: await batches('ok', 'gateway'),
        tooLarge: await batches('BATCH_TOO_LARGE', 'gateway'),
      },
      nightscout: {
        accepted: await readingsTotal('accepted', '', 'nightscout'),
        duplicates: await readingsTotal('duplicate', '', 'nightscout'),
        batches: await batches('ok', 'nightscout'),
      },
    }).toEqual({
      socketio: { accepted: 2, rejected: 1, batches: 1 },
      gateway: { accepted: 3, duplicates: 3, batches: 2, tooLarge: 1 },
      nightscout: { accepted: 4, duplicates: 4, batches: 2 },
    });
  });
});
