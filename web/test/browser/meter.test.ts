import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTeam, PASSWORD, type TeamFixture } from '@glucoboard/server/test-support/clinic';
import {
  BluetoothLab,
  EmulatedGlucoseMeter,
  storedRecord,
  wallClock,
  type EmulatedPeripheral,
} from './bluetooth-meter.ts';
import { openTab, screenshot, signIn, startBrowserTest, t, type BrowserTest, type Tab } from './support.ts';

// Issue 14, done when: in a real Chromium, an emulated standard glucose meter is read from the
// meter page, its readings appear on the team's board exactly once, and a re-read adds nothing.
// The meter is Chromium's emulated Bluetooth peripheral answering from EmulatedGlucoseMeter.

const EVENTUALLY = { timeout: 20_000, interval: 200 };
const PHONE = { width: 390, height: 844 };

describe('the meter page reads a Bluetooth glucose meter (issue 14)', () => {
  let env: BrowserTest['env'];
  let base: string;
  let browser: Browser;
  let sys: BrowserTest['sys'];
  let team: TeamFixture;
  let lab: BluetoothLab;
  let contour: EmulatedPeripheral;
  let admin: Tab;
  let nurse: Tab;
  let chosen: () => EmulatedPeripheral | 'cancel';

  // Web Bluetooth cannot read a meter's Serial Number String (GATT blocklist): the page names the
  // meter by its System ID, which this one has.
  const SYSTEM_ID = Uint8Array.of(0x00, 0x1b, 0xdc, 0xff, 0xfe, 0x12, 0x34, 0x56);
  const SERIAL = 'SID-001BDCFFFE123456';
  const meter = new EmulatedGlucoseMeter({
    serialNumber: 'CNX-5501234',
    clock: { dateTime: wallClock(new Date()) },
    records: [
      storedRecord(1, 300, { mmol: 6.2 }),
      storedRecord(2, 240, { mmol: 9.8, unit: 'kg/L', meal: 'postprandial' }),
      storedRecord(3, 180, { mmol: 5.5, control: true }),
      storedRecord(4, 150, { lo: true }),
      storedRecord(5, 120, { hi: true }),
      storedRecord(6, 60, { mmol: 7.1, meal: 'preprandial' }),
    ],
  });

  const stored = async (serial = SERIAL) =>
    (
      await env.system.db.pool.query<{
        seq: number;
        mmol: number | null;
        flag: string | null;
        kind: string;
        meal: string | null;
        source: string;
      }>(`select seq::int, mmol, flag, kind, meal, source from readings where device_serial = $1 order by seq`, [
        serial,
      ])
    ).rows;

  beforeAll(async () => {
    ({ browser, env, base, sys } = await startBrowserTest({ webBluetooth: true }));
    team = await buildTeam(sys, base, 'Meter visits');
    await buildTeam(sys, base, 'Other district');
    lab = await BluetoothLab.open(browser);
    contour = await lab.addMeter(meter, '09:00:00:00:00:01', 'Contour Next One', SYSTEM_ID);
    chosen = () => contour;
    admin = await openTab(browser);
    nurse = await openTab(browser);
    await nurse.page.setViewportSize(PHONE);
    for (const tab of [admin, nurse]) await lab.chooseFor(tab.page, () => chosen());

    await signIn(admin, base, 'admin@meter-visits.example.se', PASSWORD);
    await signIn(nurse, base, 'nurse@meter-visits.example.se', PASSWORD);
  });

  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  const openMeterPage = async (tab: Tab) => {
    await tab.page.goto(`${base}/meter`);
    await tab.page.getByRole('heading', { level: 1, name: t('meter.heading') }).waitFor();
    await tab.page.getByLabel(t('meter.patient')).selectOption({ label: 'Patient of Meter visits' });
  };
  const readMeter = (tab: Tab) =>
    tab.page
      .getByRole('button', { name: t('meter.read') })
      .first()
      .click();

  it("lists only the nurse's own team's patients, and refuses an unpaired meter to a nurse", async () => {
    await openMeterPage(nurse);
    const options = await nurse.page.getByLabel(t('meter.patient')).locator('option').allTextContents();
    expect(options).toContain('Patient of Meter visits');
    expect(options).not.toContain('Patient of Other district');

    await readMeter(nurse);
    await nurse.page
      .getByText(t('meter.unpairedNurse', { serial: SERIAL, patient: 'Patient of Meter visits' }))
      .waitFor(EVENTUALLY);
    expect(await nurse.page.getByRole('button', { name: t('meter.pair') }).count()).toBe(0);
    expect(await stored()).toEqual([]);
  });

  it('lets a team admin pair it there, then sends every record once, control and LO/HI as such', async () => {
    // The meter's clock (a fixed reading of its Current Time) is 7 minutes behind the phone's.
    meter.clock = { dateTime: wallClock(new Date(Date.now() - 7 * 60_000)) };
    await openMeterPage(admin);
    await readMeter(admin);
    await admin.page.getByRole('button', { name: t('meter.pair') }).click(EVENTUALLY);
    await admin.page.getByTestId('meter-summary').waitFor(EVENTUALLY);
    await expect.poll(() => admin.page.getByTestId('meter-sent').textContent(), EVENTUALLY).toBe('6');
    expect(await admin.page.getByTestId('meter-already').textContent()).toBe('0');
    // The first read asked the meter for all its records.
    expect(contour.racpWrites.at(-1)).toEqual([0x01, 0x01]);

    expect(await stored()).toEqual([
      { seq: 1, mmol: 6.2, flag: null, kind: 'bgm', meal: null, source: 'device' },
      { seq: 2, mmol: 9.8, flag: null, kind: 'bgm', meal: 'after', source: 'device' },
      { seq: 3, mmol: 5.5, flag: null, kind: 'control', meal: null, source: 'device' },
      { seq: 4, mmol: 0.6, flag: 'LO', kind: 'bgm', meal: null, source: 'device' },
      { seq: 5, mmol: 33.3, flag: 'HI', kind: 'bgm', meal: null, source: 'device' },
      { seq: 6, mmol: 7.1, flag: null, kind: 'bgm', meal: 'before', source: 'device' },
    ]);
    const shown = await admin.page.locator('.results').textContent();
    for (const text of [t('meter.value.control', { mmol: '5,5' }), t('meter.value.lo'), t('meter.value.hi')])
      expect(shown).toContain(text);
    expect(await admin.page.getByTestId('meter-clock').textContent()).toContain(
      t('meter.clockDriftBehind', { minutes: 7 }),
    );
    // Who read it, in the meter page's record and the audit trail.
    const transfers = await team.admin.get(`/api/patients/${team.patientId}/meter/transfers`);
    expect(transfers.body.transfers[0]).toMatchObject({ deviceSerial: SERIAL, readBy: team.adminId, accepted: 6 });
    await screenshot(admin.page, 'meter-results');
  });

  it('re-reads only what is new: nothing at first, then the new record alone', async () => {
    await openMeterPage(nurse);
    await readMeter(nurse);
    await nurse.page.getByTestId('meter-nothing-new').waitFor(EVENTUALLY);
    // Asked from the one after the last Glucoboard has: RACP >= 7.
    expect(contour.racpWrites.at(-1)).toEqual([0x01, 0x03, 0x01, 7, 0]);
    expect(await stored()).toHaveLength(6);

    meter.addRecord(storedRecord(7, 10, { mmol: 8.4 }));
    await nurse.page.getByRole('button', { name: t('meter.readAgain') }).click();
    await expect.poll(() => nurse.page.getByTestId('meter-sent').textContent(), EVENTUALLY).toBe('1');
    expect(await nurse.page.getByTestId('meter-already').textContent()).toBe('0');
    expect((await stored()).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('raises the alert on the team board for a hypo read from the meter', async () => {
    const board = await openTab(browser);
    await signIn(board, base, 'admin@meter-visits.example.se', PASSWORD);
    meter.addRecord(storedRecord(8, 2, { mmol: 2.3 }));
    await openMeterPage(nurse);
    await readMeter(nurse);
    await expect.poll(() => nurse.page.getByTestId('meter-sent').textContent(), EVENTUALLY).toBe('1');
    // On the board, live: the alert event for the patient, and the critical alert in its inbox.
    await expect
      .poll(
        () => board.frames.some((f) => f.includes('"alert"') && f.includes(team.patientId) && f.includes('urgent_low')),
        EVENTUALLY,
      )
      .toBe(true);
    const open = await team.nurse.get('/api/alerts?state=open');
    expect(
      open.body.alerts.filter(
        (a: { patientId: string; rule: string }) => a.patientId === team.patientId && a.rule === 'urgent_low',
      ),
    ).toHaveLength(1);
    await board.context.close();
  });

  it('resumes a transfer cut in the middle from the last record received; each is stored once', async () => {
    for (let seq = 9; seq <= 14; seq++) meter.addRecord(storedRecord(seq, 15 - seq, { mmol: 5 + seq / 10 }));
    meter.loseConnectionAfter(3);
    await openMeterPage(nurse);
    await readMeter(nurse);
    await nurse.page.getByRole('button', { name: t('meter.resume') }).waitFor(EVENTUALLY);
    expect(await nurse.page.getByTestId('meter-problem').textContent()).toBe(
      t('meter.error.connection-lost', { count: 3 }),
    );
    await screenshot(nurse.page, 'meter-resume');
    // Nothing sent yet: the read is not finished.
    expect((await stored()).map((r) => r.seq).at(-1)).toBe(8);

    await nurse.page.getByRole('button', { name: t('meter.resume') }).click();
    await nurse.page.getByTestId('meter-summary').waitFor(EVENTUALLY);
    await expect.poll(() => nurse.page.getByTestId('meter-sent').textContent(), EVENTUALLY).toBe('6');
    // Resumed from the last record received (11): RACP >= 11.
    expect(contour.racpWrites.at(-1)).toEqual([0x01, 0x03, 0x01, 11, 0]);
    expect((await stored()).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('keeps readings read offline in the phone and sends each exactly once when it is back online', async () => {
    meter.addRecord(storedRecord(15, 4, { mmol: 6.6 }));
    meter.addRecord(storedRecord(16, 3, { mmol: 6.9 }));
    await openMeterPage(nurse);
    await nurse.context.setOffline(true);
    await readMeter(nurse);
    await nurse.page.getByTestId('meter-waiting').waitFor(EVENTUALLY);
    expect(await nurse.page.getByTestId('meter-waiting').textContent()).toContain(
      t('meter.queue.waiting', { count: 2 }),
    );
    expect(await nurse.page.locator('.result.waiting').count()).toBe(2);
    // A 390 px phone: nothing wider than the screen.
    expect(await nurse.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(nurse.page, 'meter-offline');
    expect((await stored()).map((r) => r.seq).at(-1)).toBe(14);

    await nurse.context.setOffline(false);
    await nurse.page.getByTestId('meter-waiting').waitFor({ state: 'detached', ...EVENTUALLY });
    await expect.poll(() => nurse.page.getByTestId('meter-sent').textContent(), EVENTUALLY).toBe('2');
    const rows = await env.system.db.pool.query<{ seq: number; n: number }>(
      `select seq::int, count(*)::int as n from readings where device_serial = $1 and seq >= 15 group by seq order by seq`,
      [SERIAL],
    );
    expect(rows.rows).toEqual([
      { seq: 15, n: 1 },
      { seq: 16, n: 1 },
    ]);
    // Sent once: one more meter read recorded with them, none with duplicates.
    const transfers = await team.nurse.get(`/api/patients/${team.patientId}/meter/transfers`);
    const offline = transfers.body.transfers.filter((x: { seqFrom: number }) => x.seqFrom === 15);
    expect(offline).toEqual([expect.objectContaining({ accepted: 2, duplicates: 0 })]);
  });

  it('says what to do when no meter is picked, Bluetooth is off, or the device is no glucose meter', async () => {
    const problem = () => nurse.page.getByTestId('meter-problem').textContent();
    chosen = () => 'cancel';
    try {
      await openMeterPage(nurse);
      await readMeter(nurse);
      await expect.poll(problem, EVENTUALLY).toBe(t('meter.error.cancelled'));

      // No Bluetooth on the phone: the browser says it has none (getAvailability), the page says what to do.
      await lab.setState('absent');
      await openMeterPage(nurse);
      await readMeter(nurse);
      await expect.poll(problem, EVENTUALLY).toBe(t('meter.error.bluetooth-off'));
      await lab.setState('powered-on');

      const scale = await lab.addMeter(
        new EmulatedGlucoseMeter({ serialNumber: 'SCALE-1' }),
        '09:00:00:00:00:03',
        'Bathroom scale',
        undefined,
        false,
      );
      chosen = () => scale;
      await openMeterPage(nurse);
      await readMeter(nurse);
      await expect.poll(problem, EVENTUALLY).toBe(t('meter.error.no-glucose-service'));
    } finally {
      await lab.setState('powered-on');
      chosen = () => contour;
    }
  });

  it('names the browsers that can read a meter where this one cannot (Safari, Firefox)', async () => {
    const safari = await openTab(browser);
    // As in a browser without Web Bluetooth: navigator.bluetooth is not there.
    await safari.context.addInitScript(() => {
      Reflect.deleteProperty(Navigator.prototype, 'bluetooth');
    });
    await signIn(safari, base, 'nurse@meter-visits.example.se', PASSWORD);
    await safari.page.goto(`${base}/meter`);
    await safari.page.getByRole('heading', { level: 1, name: t('meter.heading') }).waitFor();
    expect(await safari.page.getByTestId('meter-problem').textContent()).toBe(t('meter.error.unsupported'));
    expect(await safari.page.getByRole('button', { name: t('meter.read') }).count()).toBe(0);
    await safari.context.close();
  });

  it("pairs a patient's phone with a link from the admin pages; it reads and sends without an account", async () => {
    const PHONE_SERIAL = 'GUIDE-88001';
    const own = new EmulatedGlucoseMeter({
      serialNumber: PHONE_SERIAL,
      records: [storedRecord(40, 90, { mmol: 5.9 }), storedRecord(41, 30, { mmol: 11.2, meal: 'postprandial' })],
    });
    const guide = await lab.addMeter(own, '09:00:00:00:00:02', 'Accu-Chek Guide');

    // The team admin pairs the meter in the admin pages; the token dialog offers the phone's link.
    const { page } = admin;
    await page.goto(`${base}/admin/patients`);
    await page.getByText('Patient of Meter visits', { exact: true }).click();
    await page.getByLabel(t('pair.serial'), { exact: true }).fill(PHONE_SERIAL);
    await page.getByRole('combobox', { name: t('devices.kind') }).selectOption('bgm');
    await page.getByRole('button', { name: t('pair.submit') }).click();
    const dialog = page.getByRole('dialog', { name: t('pair.tokenHeading') });
    await dialog.getByRole('region', { name: t('meter.link.heading') }).waitFor();
    await dialog.getByTestId('meter-link-qr').locator('svg').waitFor();
    const link = (await dialog.getByTestId('meter-link').getAttribute('href'))!;
    const token = (await dialog.locator('code.token').textContent())!.trim();
    expect(link).toBe(`${base}/meter/pair#device=${PHONE_SERIAL}&token=${encodeURIComponent(token)}`);
    await screenshot(page, 'meter-pairing-link');
    await dialog.getByRole('button', { name: t('pair.done') }).click();

    // The patient's phone: no account, only the link.
    const phone = await openTab(browser);
    await phone.page.setViewportSize(PHONE);
    await lab.chooseFor(phone.page, () => guide);
    const requested: string[] = [];
    phone.page.on('request', (r) => requested.push(r.url()));
    await phone.page.goto(link);
    await phone.page.getByText(t('meter.pairPage.done', { serial: PHONE_SERIAL })).waitFor(EVENTUALLY);
    // The token stays on the phone: not in the address bar, never in a request's URL.
    expect(phone.page.url()).toBe(`${base}/meter/pair`);
    expect(requested.some((u) => u.includes(token))).toBe(false);
    await phone.page.getByRole('link', { name: t('meter.pairPage.open') }).click();
    await phone.page.getByRole('heading', { level: 1, name: t('meter.phone.heading') }).waitFor();
    await phone.page.getByRole('button', { name: t('meter.read') }).click();
    await expect.poll(() => phone.page.getByTestId('meter-sent').textContent(), EVENTUALLY).toBe('2');
    await screenshot(phone.page, 'meter-phone');
    expect(await stored(PHONE_SERIAL)).toEqual([
      { seq: 40, mmol: 5.9, flag: null, kind: 'bgm', meal: null, source: 'device' },
      { seq: 41, mmol: 11.2, flag: null, kind: 'bgm', meal: 'after', source: 'device' },
    ]);
    expect(requested.some((u) => u.includes(token))).toBe(false);

    // Installed as a web app: the manifest starts at /meter, and the page opens without coverage.
    const manifest = await phone.page.request.get(`${base}/manifest.webmanifest`);
    expect(manifest.ok()).toBe(true);
    expect(await manifest.json()).toMatchObject({ start_url: '/meter', display: 'standalone' });
    await phone.page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await phone.context.setOffline(true);
    await phone.page.reload();
    await phone.page.getByRole('heading', { level: 1, name: t('meter.phone.heading') }).waitFor(EVENTUALLY);
    await phone.context.setOffline(false);
    await phone.page.reload();

    // Read again: the device's high-water mark says it has them all.
    await phone.page.getByRole('button', { name: t('meter.read') }).click();
    await phone.page.getByTestId('meter-nothing-new').waitFor(EVENTUALLY);
    expect(guide.racpWrites.at(-1)).toEqual([0x01, 0x03, 0x01, 42, 0]);
    expect(await stored(PHONE_SERIAL)).toHaveLength(2);
    await phone.context.close();
  });
});
