import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  addPatientsWithMeters,
  buildTeam,
  PASSWORD,
  type TeamFixture,
} from '@glucoboard/server/test-support/clinic';
import type { Client } from '@glucoboard/server/test-support/http';
import { sendReadings, Sockets } from '@glucoboard/server/test-support/sockets';
import { formatPercent } from '../../src/lib/i18n/format.ts';
import { addNurse, openTab, type BrowserTest, signIn, startBrowserTest, t, type Tab } from './support.ts';

// Issue 11: what a clinician's walk-through found, in a real browser against the real system.
// One system and one browser for every case; the cases run in order and build on each other.

const EVENTUALLY = { timeout: 20_000, interval: 50 };
const MINUTE = 60_000;
const PHONES = [
  { width: 360, height: 740 },
  { width: 390, height: 844 },
] as const;

let seq = 1;
const reading = (mmol: number, minutesAgo: number, kind = 'bgm') => ({
  seq: seq++,
  measuredAt: new Date(Date.now() - minutesAgo * MINUTE).toISOString(),
  mmol,
  kind,
});

const text = (locator: Locator) => async () => (await locator.allTextContents()).join('\n');

/** The time of an instant as the Swedish UI shows it in Stockholm ("09:30"). */
const stockholmTime = (iso: string) =>
  new Intl.DateTimeFormat('sv-SE', { timeStyle: 'short', timeZone: 'Europe/Stockholm' }).format(new Date(iso));

/** Whether the page is no wider than its viewport (nothing to scroll sideways). */
const fitsWidth = (page: Page) =>
  page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));

describe("the clinician's walk-through in a browser (issue 11)", () => {
  let env: BrowserTest['env'];
  let base: string;
  let sys: Client;
  let A: TeamFixture;
  let browser: Browser;
  const tabs: Tab[] = [];
  const sockets = new Sockets(() => env.system.url);
  let alertId: string;
  let cgmPatientId: string;
  let colleague: Client;
  const teamName = 'Hemsjukvården Norra Storstockholm, kvällsteamet';
  const colleagueName = 'Sara Lind';

  beforeAll(async () => {
    ({ browser, env, base, sys } = await startBrowserTest());
    A = await buildTeam(sys, base, teamName);
    // A second team: the sysadmin chooses between teams (the team selector).
    await buildTeam(sys, base, 'Diabetesmottagningen');
    await addNurse(sys, A.teamId, 'sara.lind@hemsjukvarden.example.se', colleagueName);
    colleague = await env.client().login('sara.lind@hemsjukvarden.example.se', PASSWORD);

    // A hypo: a critical alert for team A's patient.
    const meter = await sockets.meter(A);
    expect(await sendReadings(meter, { readings: [reading(6.1, 30), reading(2.6, 5)] })).toMatchObject({ ok: true });
    alertId = await until(async () => (await A.nurse.get('/api/alerts?state=open')).body.alerts[0]?.id);

    // A CGM wearer with an hour of readings in 14 days: far below 70 % data sufficiency.
    const [cgm] = await addPatientsWithMeters(A.admin, A.teamId, 1, 'Sensorpatient', 'cgm');
    cgmPatientId = cgm!.patientId;
    const sensor = await sockets.meter(cgm!);
    const hour = Array.from({ length: 12 }, (_, i) => reading(6 + i / 10, 60 - 5 * i, 'cgm'));
    expect(await sendReadings(sensor, { readings: hour })).toMatchObject({ ok: true, accepted: 12 });
  }, 300_000);

  afterAll(async () => {
    sockets.closeAll();
    for (const tab of tabs) await tab.context.close().catch(() => undefined);
    await browser?.close();
    await env?.stop();
  });

  async function signedIn(email: string, password = PASSWORD): Promise<Tab> {
    const tab = await openTab(browser);
    tabs.push(tab);
    await signIn(tab, base, email, password);
    return tab;
  }

  it('updates an open acknowledge dialog when a colleague takes the alert, within 2 s, in Swedish (item 5)', async () => {
    const { page } = await signedIn(`nurse@${slug(teamName)}.example.se`);
    const alert = page.getByRole('article', {
      name: `${t('severity.critical')}: ${t('rule.urgent_low')}, Patient of ${teamName}`,
      exact: true,
    });
    await alert.getByRole('button', { name: t('inbox.acknowledge') }).click();
    const dialog = page.getByRole('dialog', { name: t('ack.heading') });
    await dialog.waitFor();
    await dialog.getByRole('radio', { name: t('action.phone') }).check();

    const taken = await colleague.post(`/api/alerts/${alertId}/ack`, { action: 'visit' });
    expect(taken.status).toBe(200);
    const at = stockholmTime(taken.body.alert.acknowledgedAt);
    const expected = t('ack.takenBy', { name: colleagueName, time: at });
    await expect.poll(text(dialog), { timeout: 2_000, interval: 25 }).toContain(expected);
    expect(await dialog.getByRole('button', { name: t('ack.submit') }).isDisabled()).toBe(true);
    expect(await dialog.textContent()).not.toMatch(/\d{4}-\d{2}-\d{2}T/);

    // Too late anyway: the server's 409 says who and when as fields, not only in an English sentence.
    const late = await A.nurse.post(`/api/alerts/${alertId}/ack`, { action: 'phone' });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({
      code: 'ALREADY_ACKNOWLEDGED',
      acknowledgedBy: { name: colleagueName },
      acknowledgedAt: taken.body.alert.acknowledgedAt,
    });
    await dialog.getByRole('button', { name: t('common.cancel') }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  it('lays the 1920 px wall display out over the width without overlaps (item 10)', async () => {
    const tab = await signedIn(`nurse@${slug(teamName)}.example.se`);
    const { page } = tab;
    await page.setViewportSize({ width: 1920, height: 1080 });
    const row = page
      .getByRole('list', { name: t('board.listLabel') })
      .getByRole('article', { name: `Patient of ${teamName}`, exact: true });
    const pill = row.getByText(t('badge.acknowledged', { count: 1 }));
    await pill.waitFor();
    const review = row.getByText(t('row.notReviewed'));
    const [p, r] = [await pill.boundingBox(), await review.boundingBox()];
    expect(p && r).toBeTruthy();
    const overlaps =
      p!.x < r!.x + r!.width && r!.x < p!.x + p!.width && p!.y < r!.y + r!.height && r!.y < p!.y + p!.height;
    expect(overlaps, `pill ${JSON.stringify(p)} and review text ${JSON.stringify(r)}`).toBe(false);
    // Most of the width: the rows and the inbox together span at least 90 % of the screen.
    const used = await page.evaluate(() => {
      const boxes = [...document.querySelectorAll('main ol, main aside')].map((el) => el.getBoundingClientRect());
      return Math.max(...boxes.map((b) => b.right)) - Math.min(...boxes.map((b) => b.left));
    });
    expect(used).toBeGreaterThanOrEqual(0.9 * 1920);
  });

  it("shows a sysadmin who is no member a board that is not 'Live', and the teams' full names (item 10)", async () => {
    const { page } = await signedIn(ADMIN.email, ADMIN.password);
    await page.setViewportSize({ width: 1920, height: 1080 });
    const select = page.getByRole('combobox', { name: t('team.label') });
    await select.selectOption({ label: teamName });
    await page.getByText(t('connection.notMember')).waitFor();
    const badge = page.getByRole('status').filter({ hasText: t('connection.notLive') });
    await badge.waitFor();
    const states = await page.getByRole('status').locator('.label').allTextContents();
    expect(states.map((s) => s.trim())).not.toContain(t('connection.connected'));
    // The dot beside it is not the green tick of a live board.
    expect(await badge.locator('.dot').evaluate((el) => el.classList.contains('ok'))).toBe(false);

    // The select is wide enough for the chosen name, and names it in full as its tooltip.
    expect(await select.getAttribute('title')).toBe(teamName);
    const fits = await select.evaluate((el: HTMLSelectElement) => {
      const probe = document.createElement('span');
      probe.style.font = getComputedStyle(el).font;
      probe.style.whiteSpace = 'nowrap';
      probe.textContent = el.selectedOptions[0]?.text ?? '';
      document.body.append(probe);
      const needed = probe.getBoundingClientRect().width;
      probe.remove();
      return { needed, has: el.clientWidth };
    });
    // Room for the text, the padding and the arrow.
    expect(fits.has).toBeGreaterThanOrEqual(fits.needed + 30);
  });

  it('warns next to the AGP and the statistics when data sufficiency is below 70 % (item 8)', async () => {
    const { page } = await signedIn(`nurse@${slug(teamName)}.example.se`);
    const summary = (await A.nurse.get(`/api/patients/${cgmPatientId}/summary?days=14`)).body;
    expect(summary.dataSufficiency).toBeLessThan(70);
    await page.goto(`${base}/patients/${cgmPatientId}`);
    const warning = t('sufficiency.warning', { value: formatPercent(summary.dataSufficiency, 'sv-SE') });
    for (const section of [t('agp.heading'), t('stats.heading')]) {
      const region = page.getByRole('region', { name: section });
      await region.getByRole('status').filter({ hasText: warning }).waitFor();
    }
    // A patient with enough data (a fingerstick meter, judged by no sufficiency) gets no warning.
    await page.goto(`${base}/patients/${A.patientId}`);
    await page
      .getByRole('region', { name: t('stats.heading') })
      .getByText(t('stats.count'))
      .waitFor();
    expect(await page.getByText(t('sufficiency.warning', { value: '' }).slice(0, 20)).count()).toBe(0);
  });

  it('shows and takes every glucose value in mg/dL once chosen: range table, thresholds, team defaults (item 6)', async () => {
    const { page } = await signedIn(`admin@${slug(teamName)}.example.se`);
    await page
      .getByRole('group', { name: t('unit.label') })
      .getByRole('button', { name: 'mg/dL' })
      .click();
    await page.goto(`${base}/patients/${A.patientId}`);
    const stats = page.getByRole('region', { name: t('stats.heading') });
    await stats.getByRole('columnheader', { name: t('stats.range', { unit: 'mg/dL' }) }).waitFor();
    const table = await stats.getByRole('table').textContent();
    expect(table).toContain('70–180');
    expect(table).toContain('< 54');
    expect(table).toContain('> 250');
    expect(table).not.toContain('3,9');

    const editor = page.getByRole('region', { name: t('thresholds.heading') });
    // Team defaults 3.0 / 4.0 / 13.9 / 20.0 mmol/L.
    const low = editor.getByLabel(t('thresholds.low'), { exact: true });
    expect(await low.getAttribute('placeholder')).toBe('72');
    expect(await editor.textContent()).toContain(t('thresholds.teamDefault', { value: '360' }));
    await low.fill('81');
    await editor.getByRole('button', { name: t('thresholds.save') }).click();
    await editor
      .getByRole('status')
      .filter({ hasText: t('thresholds.saved') })
      .waitFor();
    const stored = await A.nurse.get(`/api/patients/${A.patientId}/thresholds`);
    expect(stored.body.overrides.low).toBe(4.5);
    expect(await low.inputValue()).toBe('81');

    await page.goto(`${base}/admin`);
    const urgentLow = page.getByLabel(t('teamThresholds.urgentLow', { unit: 'mg/dL' }), { exact: true });
    await expect.poll(() => urgentLow.inputValue(), EVENTUALLY).toBe('54');
    expect(await page.getByLabel(t('teamThresholds.urgentHigh', { unit: 'mg/dL' }), { exact: true }).inputValue()).toBe(
      '360',
    );
    await page.getByLabel(t('teamThresholds.high', { unit: 'mg/dL' }), { exact: true }).fill('234');
    await page.getByRole('button', { name: t('thresholds.save') }).click();
    await page
      .getByRole('status')
      .filter({ hasText: t('thresholds.saved') })
      .waitFor();
    expect((await A.admin.get(`/api/teams/${A.teamId}/thresholds`)).body).toMatchObject({ high: 13, urgentLow: 3 });
    await page
      .getByRole('group', { name: t('unit.label') })
      .getByRole('button', { name: 'mmol/L' })
      .click();
  });

  it('offers the pregnancy profile and draws its range table at 3.5-7.8 mmol/L (item 7)', async () => {
    const { page } = await signedIn(`admin@${slug(teamName)}.example.se`);
    await page.goto(`${base}/patients/${A.patientId}`);
    const profile = page.getByRole('combobox', { name: t('patient.profile') });
    await profile.selectOption({ label: t('patient.profile.pregnancy') });
    await expect
      .poll(async () => (await A.nurse.get(`/api/patients/${A.patientId}`)).body.targetProfile, EVENTUALLY)
      .toBe('pregnancy');
    const stats = page.getByRole('region', { name: t('stats.heading') });
    await expect.poll(text(stats.getByRole('table')), EVENTUALLY).toContain('3,5–7,8');
    expect(await page.getByText(t('timeline.legend.target', { band: '3,5–7,8', unit: 'mmol/L' })).count()).toBe(1);
  });

  it('works on a phone at 360 and 390 px: no page wider than the screen, the form inside it, a small header (item 3)', async () => {
    const signedOut = await openTab(browser);
    tabs.push(signedOut);
    const admin = await signedIn(`admin@${slug(teamName)}.example.se`);
    const pages = [
      '/board',
      '/alerts',
      `/patients/${A.patientId}`,
      `/patients/${cgmPatientId}`,
      '/admin',
      '/admin/members',
      '/admin/patients',
    ];
    for (const size of PHONES) {
      await signedOut.page.setViewportSize(size);
      await signedOut.page.goto(`${base}/login`);
      await signedOut.page.getByLabel(t('login.email')).waitFor();
      expect(await fitsWidth(signedOut.page), `/login at ${size.width}`).toEqual({
        scroll: size.width,
        width: size.width,
      });

      const { page } = admin;
      await page.setViewportSize(size);
      for (const path of pages) {
        await page.goto(`${base}${path}`);
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        await page.waitForLoadState('networkidle');
        const fit = await fitsWidth(page);
        expect(fit.scroll, `${path} at ${size.width}: ${fit.scroll} px wide`).toBeLessThanOrEqual(size.width);
        const header = await page.locator('.site-header').boundingBox();
        expect(header!.height, `the header of ${path} at ${size.width}`).toBeLessThanOrEqual(0.3 * size.height);
      }

      await page.goto(`${base}/patients/${A.patientId}`);
      const entry = page.getByRole('region', { name: t('entry.heading') });
      await entry.waitFor();
      const fields = [
        entry.getByLabel(t('entry.measuredAt'), { exact: true }),
        entry.getByLabel(t('entry.note'), { exact: true }),
        entry.getByRole('combobox', { name: new RegExp(`^${t('entry.meal')}`) }),
      ];
      for (const [i, field] of fields.entries()) {
        const box = await field.boundingBox();
        expect(box!.x, `field ${i} at ${size.width}`).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width, `field ${i} at ${size.width}`).toBeLessThanOrEqual(size.width);
      }
      const header = await page.locator('.patient-header').boundingBox();
      expect(header!.width).toBeLessThanOrEqual(size.width);
    }
  });
});

/** The first defined answer of `probe`, asked again until it comes (hooks have no expect.poll). */
async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (const stop = Date.now() + EVENTUALLY.timeout; Date.now() < stop; ) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, EVENTUALLY.interval));
  }
  throw new Error('gave up waiting');
}

function slug(name: string): string {
  return name.toLowerCase().replace(/\W+/g, '-');
}
