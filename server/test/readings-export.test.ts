import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClinic, type Clinic, type TeamFixture } from './support/clinic.ts';

// Issue 15, item 3: a patient's readings as a CSV file (GET /api/patients/:id/readings?format=csv),
// against a real server and database. Readings go in through the device gateway and manual entry;
// the file that comes out is read back cell by cell. The oracle for Swedish local time is the
// platform's time-zone database (Intl), not the app's own EU rule.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const HEADER = 'measured_at,mmol_l,mg_dl,flag,kind,meal,source,device_serial,seq,received_at';

const stockholm = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Stockholm',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const wallClock = (at: Date) => stockholm.format(at).replace(' ', 'T');

/** RFC 4180 lines of a file without quoted line breaks (ours has none): cells, quotes removed. */
const rowsOf = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].slice(0, -1).map((m) => m[1]!));
const unquote = (cell: string) => (cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell);

let env: Clinic;
let A: TeamFixture;
let B: TeamFixture;
/** The start of the period the tests export: 3 days back, on a whole minute. */
let from: Date;
let to: Date;
let lentSerial: string;
const measured: Date[] = [];

async function gateway(deviceId: string, token: string, readings: Array<Record<string, unknown>>) {
  const answer = await fetch(`${env.system.url}/api/devices/readings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Device ${deviceId}:${token}` },
    body: JSON.stringify({ readings }),
  });
  expect(await answer.json()).toMatchObject({ ok: true, accepted: readings.length, rejected: [] });
}

const csvOf = (query: string) => A.nurse.get(`/api/patients/${A.patientId}/readings?format=csv&${query}`);
const period = () => `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;

beforeAll(async () => {
  [env, A, B] = await startClinic('Export A', 'Export B');
  to = new Date(Math.floor(Date.now() / MINUTE) * MINUTE);
  from = new Date(to.getTime() - 3 * DAY);
  // Three days of the team's meter, one reading exactly where the export's first day-page ends
  // (from + 24 h), so a reading on a page boundary must come once, in order.
  for (const at of [from.getTime(), from.getTime() + DAY, from.getTime() + DAY + HOUR, to.getTime() - 2 * HOUR])
    measured.push(new Date(at));
  await gateway(A.deviceId, A.deviceToken, [
    { seq: 1, measuredAt: measured[0]!.toISOString(), mmol: 5.5, meal: 'before' },
    { seq: 2, measuredAt: measured[1]!.toISOString(), mmol: null, flag: 'LO' },
    { seq: 3, measuredAt: measured[2]!.toISOString(), mmol: 12.3, kind: 'control' },
    { seq: 4, measuredAt: measured[3]!.toISOString(), mmol: 22.2 },
    // Outside the period, on either side.
    { seq: 5, measuredAt: new Date(from.getTime() - MINUTE).toISOString(), mmol: 7 },
    { seq: 6, measuredAt: to.toISOString(), mmol: 7 },
  ]);
  // A second meter whose serial starts like a formula ("-..." is a valid serial).
  lentSerial = '-SN-4711';
  const meter = await A.admin.post('/api/devices', { serial: lentSerial, kind: 'bgm', patientId: A.patientId });
  expect(meter.status).toBe(201);
  measured.push(new Date(to.getTime() - HOUR));
  await gateway(meter.body.deviceId, meter.body.token, [{ seq: 9, measuredAt: measured[4]!.toISOString(), mmol: 6.1 }]);
  // A value typed in by the nurse.
  measured.push(new Date(to.getTime() - 30 * MINUTE));
  const typed = await A.nurse.post(`/api/patients/${A.patientId}/readings`, {
    measuredAt: measured[5]!.toISOString(),
    mmol: 4.2,
    meal: 'after',
  });
  expect(typed.status).toBe(201);
});
afterAll(() => env?.stop());

describe('the readings CSV export', () => {
  it('gives every reading of the period once, oldest first, with documented columns and values', async () => {
    const answer = await csvOf(period());
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = rowsOf(answer.text);
    expect(answer.text.split('\n')[0]).toBe(HEADER);
    expect(rows).toHaveLength(1 + 6);
    const body = rows.slice(1);
    for (const [i, row] of body.entries()) {
      expect(row).toHaveLength(10);
      const at = row[0]!;
      expect(at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00$/);
      expect(new Date(at).getTime()).toBe(measured[i]!.getTime());
      expect(at.slice(0, 19)).toBe(wallClock(measured[i]!));
      // Received by the server after the reading was measured, and within this test's run.
      const received = new Date(row[9]!).getTime();
      expect(row[9]!.slice(0, 19)).toBe(wallClock(new Date(received)));
      expect(received).toBeGreaterThan(Date.now() - 10 * MINUTE);
    }
    const cells = body.map((row) => row.slice(1, 9).map(unquote));
    expect(cells).toEqual([
      ['5.5', '99', '', 'bgm', 'before', 'device', 'export-a-meter', '1'],
      ['', '', 'LO', 'bgm', '', 'device', 'export-a-meter', '2'],
      ['12.3', '222', '', 'control', '', 'device', 'export-a-meter', '3'],
      ['22.2', '400', '', 'bgm', '', 'device', 'export-a-meter', '4'],
      ['6.1', '110', '', 'bgm', '', 'device', `'${lentSerial}`, '9'],
      ['4.2', '76', '', 'bgm', 'after', 'manual', '', ''],
    ]);
  });

  it('neutralises a cell that a spreadsheet would run as a formula', async () => {
    const answer = await csvOf(period());
    // The serial "-SN-4711" is written as the text "'-SN-4711", quoted.
    expect(answer.text).toContain(`,"'${lentSerial}",`);
    expect(answer.text).not.toMatch(/(^|,)-SN-4711/m);
  });

  it('is a download named by the patient id, never by the name or identity number', async () => {
    const answer = await csvOf(period());
    const disposition = answer.headers.get('content-disposition') ?? '';
    expect(disposition).toMatch(/^attachment; filename="readings-[0-9a-f-]{36}-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv"$/);
    expect(disposition).toContain(A.patientId);
    expect(disposition).not.toMatch(/Patient|Export|1912/);
  });

  it('is recorded in the audit trail as an export, told apart from a view', async () => {
    const mark = await env.system.db.pool.query<{ id: number }>(
      'select coalesce(max(id), 0)::int as id from audit_events',
    );
    expect((await csvOf(period())).status).toBe(200);
    expect((await A.nurse.get(`/api/patients/${A.patientId}/readings?${period()}`)).status).toBe(200);
    const events = await env.system.db.pool.query(
      `select action, actor_user_id, patient_id, team_id, detail from audit_events
       where id > $1 and action like 'readings.%' order by id`,
      [mark.rows[0]!.id],
    );
    expect(events.rows.map((r) => r.action)).toEqual(['readings.export', 'readings.read']);
    expect(events.rows[0]).toMatchObject({
      actor_user_id: A.nurseId,
      patient_id: A.patientId,
      team_id: A.teamId,
      detail: { format: 'csv', from: from.toISOString(), to: to.toISOString(), count: 6 },
    });
  });

  it("answers another team's patient with 404, and records no export", async () => {
    const mark = await env.system.db.pool.query<{ id: number }>(
      'select coalesce(max(id), 0)::int as id from audit_events',
    );
    const answer = await B.nurse.get(`/api/patients/${A.patientId}/readings?format=csv&${period()}`);
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(answer.text).not.toContain('measured_at');
    const exports = await env.system.db.pool.query(
      `select 1 from audit_events where id > $1 and action = 'readings.export'`,
      [mark.rows[0]!.id],
    );
    expect(exports.rowCount).toBe(0);
  });

  it('refuses a bad period or format with a clear error naming the field', async () => {
    const at = (d: Date) => encodeURIComponent(d.toISOString());
    const backwards = await csvOf(`from=${at(to)}&to=${at(from)}`);
    expect(backwards.status).toBe(400);
    expect(backwards.headers.get('content-type')).toMatch(/^application\/json/);
    expect(backwards.headers.get('content-disposition')).toBeNull();
    expect(backwards.body).toEqual({
      error: { code: 'VALIDATION_FAILED', field: 'from', message: 'from must be before to.' },
    });
    const tooLong = await csvOf(`from=${at(new Date(to.getTime() - 91 * DAY))}&to=${at(to)}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toMatchObject({ field: 'from', message: 'from must be at most 90 days before to.' });
    const format = await A.nurse.get(`/api/patients/${A.patientId}/readings?format=xlsx`);
    expect(format.status).toBe(400);
    expect(format.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'format' });
  });

  it('leaves the JSON answer (SPEC section 4) exactly as it was; Accept: text/csv asks for the file', async () => {
    const json = await A.nurse.get(`/api/patients/${A.patientId}/readings?${period()}`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(json.body)).toEqual(['readings']);
    expect(json.body.readings).toHaveLength(6);
    expect(json.body.readings[0]).toEqual({
      measuredAt: measured[0]!.toISOString(),
      mmol: 5.5,
      flag: null,
      kind: 'bgm',
      source: 'device',
      seq: 1,
    });
    const path = `/api/patients/${A.patientId}/readings?${period()}`;
    const byAccept = await A.nurse.request('GET', path, undefined, { accept: 'text/csv' });
    expect(byAccept.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(byAccept.text.split('\n')[0]).toBe(HEADER);
    // A browser's Accept (anything) and an explicit format=json keep the JSON.
    const browser = await A.nurse.request('GET', path, undefined, { accept: 'text/html,*/*;q=0.8' });
    expect(browser.headers.get('content-type')).toMatch(/^application\/json/);
    const named = await A.nurse.request('GET', `${path}&format=json`, undefined, { accept: 'text/csv' });
    expect(named.body).toEqual(json.body);
  });
});
