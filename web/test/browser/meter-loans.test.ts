import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTeam, PASSWORD, type TeamFixture } from '@glucoboard/server/test-support/clinic';
import { openTab, screenshot, signIn, startBrowserTest, t, type BrowserTest, type Tab } from './support.ts';

// Issue 15, section 5: a team admin lends a meter on to another patient, replaces one under
// complaint, and finds it in the replacements report, in a real browser against a real server.

describe('meters: lending, replacement and the replacements report (issue 15)', () => {
  let env: BrowserTest['env'];
  let base: string;
  let browser: Browser;
  let admin: Tab;
  let team: TeamFixture;
  const METER = 'meter-loans-meter';
  const NEXT = 'Anna Andersson';
  const CAUSE = 'Displayen slocknar efter varje mätning';

  beforeAll(async () => {
    let sys: BrowserTest['sys'];
    ({ browser, env, base, sys } = await startBrowserTest());
    team = await buildTeam(sys, base, 'Meter loans');
    await team.admin.post('/api/patients', { name: NEXT, teamId: team.teamId });
    admin = await openTab(browser);
    await signIn(admin, base, 'admin@meter-loans.example.se', PASSWORD);
  });

  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  /** A readings batch over the gateway with the token the screen showed. */
  const sendWith = async (deviceId: string, token: string) => {
    const answer = await fetch(`${base}/api/devices/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Device ${deviceId}:${token}` },
      body: JSON.stringify({ readings: [{ seq: Date.now() % 1e9, measuredAt: new Date().toISOString(), mmol: 6.4 }] }),
    });
    return answer.status === 200 ? ((await answer.json()) as { accepted: number }) : { status: answer.status };
  };

  const shownToken = async (tab: Tab) => {
    const dialog = tab.page.getByRole('dialog', { name: t('pair.tokenHeading') });
    await dialog.waitFor();
    const token = (await dialog.locator('code.token').textContent())!.trim();
    await dialog.getByRole('button', { name: t('pair.done') }).click();
    await dialog.waitFor({ state: 'hidden' });
    return token;
  };

  it('lends a meter on to another patient: a new token, and the history says who had it when', async () => {
    const { page } = admin;
    await page.goto(`${base}/admin/patients`);
    await page.getByText('Patient of Meter loans', { exact: true }).click();
    const row = page.getByRole('row', { name: new RegExp(METER) });
    await row.getByRole('button', { name: t('meterLoans.lend') }).click();

    const dialog = page.getByRole('dialog', { name: t('meterLoans.lendHeading', { device: METER }) });
    await dialog.waitFor();
    await dialog.getByLabel(t('meterLoans.lendTo')).selectOption({ label: NEXT });
    await screenshot(page, 'meters-lend');
    await dialog.getByRole('button', { name: t('meterLoans.lendSubmit') }).click();
    const token = await shownToken(admin);

    // The old patient's phone is cut off; the token on screen sends for the new patient.
    expect(await sendWith(METER, team.deviceToken)).toEqual({ status: 401 });
    expect(await sendWith(METER, token)).toMatchObject({ accepted: 1 });
    const readings = await team.admin.get(`/api/patients/${team.patientId}/readings`);
    expect(readings.body.readings).toEqual([]);

    // The first patient's history: paired, then lent on, with who did it.
    const history = page
      .getByRole('table', { name: t('meterLoans.historyHeading') })
      .filter({ hasText: t('meterLoans.end.loan') });
    await history.waitFor();
    expect(await history.textContent()).toContain('admin of Meter loans');
    await expect
      .poll(() => page.getByRole('row', { name: new RegExp(`${METER}.*${t('pair.rotate')}`) }).count())
      .toBe(0);
  });

  it('replaces a meter under complaint, which needs the cause in words', async () => {
    const { page } = admin;
    await page.getByText(NEXT, { exact: true }).click();
    const row = page.getByRole('row', { name: new RegExp(`${METER}.*${t('meterLoans.replace')}`) });
    await row.getByRole('button', { name: t('meterLoans.replace') }).click();
    const dialog = page.getByRole('dialog', { name: t('meterLoans.replaceHeading', { device: METER }) });
    await dialog.waitFor();
    await dialog.getByLabel(t('meterLoans.newSerial')).fill('ML-NEW-1');
    await dialog.getByLabel(t('meterLoans.reason')).selectOption('complaint');
    await dialog.getByRole('button', { name: t('meterLoans.replaceSubmit') }).click();
    // Without the cause the form does not go: the dialog stays, the meter is not replaced.
    expect(
      await dialog.getByLabel(t('meterLoans.cause')).evaluate((el) => (el as HTMLTextAreaElement).validity.valid),
    ).toBe(false);
    expect(await dialog.isVisible()).toBe(true);
    await dialog.getByLabel(t('meterLoans.cause')).fill(CAUSE);
    await screenshot(page, 'meters-replace');
    await dialog.getByRole('button', { name: t('meterLoans.replaceSubmit') }).click();
    const token = await shownToken(admin);
    expect(await sendWith('ML-NEW-1', token)).toMatchObject({ accepted: 1 });

    // The old meter shows as replaced and offers nothing any more.
    const old = page
      .getByRole('row', { name: new RegExp(`${METER}.*${t('meterLoans.retired')}`) })
      .filter({ hasNotText: 'ML-NEW-1' });
    await old.waitFor();
    expect(await old.getByRole('button').count()).toBe(0);
    const history = page.getByRole('table', { name: t('meterLoans.historyHeading') }).filter({ hasText: 'ML-NEW-1' });
    await expect.poll(() => history.textContent()).toContain(CAUSE);
    await screenshot(page, 'meters-history', true);
  });

  it('finds the meter replaced under complaint this year in the replacements report, and its whole history', async () => {
    const { page } = admin;
    await page.goto(`${base}/admin/patients`);
    await page.getByRole('link', { name: t('meterLoans.nav'), exact: true }).click();
    await page.waitForURL(/\/admin\/meters$/);
    const counts = page.getByRole('table', { name: t('meterLoans.reportHeading') }).first();
    const complaint = counts.getByRole('row', { name: new RegExp(t('meterLoans.reason.complaint')) });
    await expect.poll(() => complaint.locator('td').allTextContents()).toEqual(['1', '0', '1']);
    await page.getByLabel(t('meterLoans.filterReason')).selectOption('complaint');
    const listed = page.locator('tr.replacement');
    await expect.poll(() => listed.count()).toBe(1);
    const text = await listed.first().textContent();
    for (const expected of [METER, 'ML-NEW-1', CAUSE, NEXT, 'admin of Meter loans']) expect(text).toContain(expected);

    // The CSV behind the download link: the same replacement, without the patient.
    const href = await page.getByRole('link', { name: t('meterLoans.downloadCsv') }).getAttribute('href');
    const csv = await page.evaluate(async (url) => (await fetch(url!)).text(), href);
    expect(csv).toContain(`complaint,${CAUSE},${METER},ML-NEW-1`);
    expect(csv).not.toContain(NEXT);
    await screenshot(page, 'meters-report', true);

    await page.getByRole('textbox', { name: t('meterLoans.col.serial') }).fill(METER);
    await page.getByRole('button', { name: t('meterLoans.serialSearch') }).click();
    const serial = page.getByRole('table', { name: `${t('meterLoans.historyHeading')} ${METER}` });
    await serial.waitFor();
    const rows = serial.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    // Newest first: with Anna until replaced, before that with the first patient.
    expect(await rows.nth(0).textContent()).toContain(NEXT);
    expect(await rows.nth(1).textContent()).toContain('Patient of Meter loans');
    await screenshot(page, 'meters-serial');

    // On a 390 px phone the page fits its width (wide tables scroll inside their box).
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'meters-report-phone', true);
  });
});
