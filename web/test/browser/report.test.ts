import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTeam, PASSWORD, type TeamFixture } from '@glucoboard/server/test-support/clinic';
import type { Client } from '@glucoboard/server/test-support/http';
import { formatPercent } from '../../src/lib/i18n/format';
import { openTab, type BrowserTest, screenshot, signIn, startBrowserTest, t, type Tab } from './support.ts';

// Issue 15, sections 1 and 6, in a real browser against the real system: a team admin answers
// "what share of our SÄBO patients has a responsible physician" from the report page, follows the
// patients in need of follow-up to their page, downloads the CSV, and sets a patient's physician
// in the admin form, then sees it on the board row and in the patient's header.

const EVENTUALLY = { timeout: 20_000, interval: 100 };
const MINUTE = 60_000;
let seq = 1;

describe('the team report and the responsible physician in a browser (issue 15)', () => {
  let env: BrowserTest['env'];
  let base: string;
  let sys: Client;
  let browser: Browser;
  let A: TeamFixture;
  let admin: Tab;
  const physician = 'Doktor Gunilla Ek';
  /** Four SÄBO patients: the fixture's (with a hypo) and three more; three of the four get a physician. */
  const sabo = ['Patient of Hemtjänst Söder', 'Astrid Holm', 'Bengt Rask', 'Cecilia Lund'];
  const ids: Record<string, string> = {};

  const gateway = async (readings: Array<{ minutesAgo: number; mmol: number }>) => {
    const answer = await fetch(`${base}/api/devices/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Device ${A.deviceId}:${A.deviceToken}` },
      body: JSON.stringify({
        readings: readings.map((r) => ({
          seq: seq++,
          measuredAt: new Date(Date.now() - r.minutesAgo * MINUTE).toISOString(),
          mmol: r.mmol,
        })),
      }),
    });
    expect(await answer.json()).toMatchObject({ ok: true, rejected: [] });
  };

  beforeAll(async () => {
    ({ browser, env, base, sys } = await startBrowserTest());
    A = await buildTeam(sys, base, 'Hemtjänst Söder');
    ids[sabo[0]!] = A.patientId;
    const doctor = await sys.post('/api/users', {
      email: 'gunilla.ek@hemtjanst.example.se',
      name: physician,
      password: PASSWORD,
    });
    expect(
      (await sys.post(`/api/teams/${A.teamId}/members`, { userId: doctor.body.id, role: 'physician' })).status,
    ).toBe(201);
    for (const name of sabo.slice(1)) {
      const made = await A.admin.post('/api/patients', { name, teamId: A.teamId, labels: ['säbo', 'typ 2'] });
      ids[name] = made.body.id;
    }
    const other = await A.admin.post('/api/patients', { name: 'Dagny Öst', teamId: A.teamId, labels: ['typ 1'] });
    ids['Dagny Öst'] = other.body.id;
    for (const name of sabo.slice(0, 3)) {
      const set = await A.admin.request('PATCH', `/api/patients/${ids[name]}`, {
        responsiblePhysicianId: doctor.body.id,
      });
      expect(set.status).toBe(200);
    }
    // The fixture's patient: a day of readings in range, then a hypo now (a critical alert).
    await gateway([
      ...[6.1, 7.4, 8.2, 5.9, 9.6, 6.8].map((mmol, i) => ({ minutesAgo: 600 - 90 * i, mmol })),
      { minutesAgo: 2, mmol: 2.6 },
    ]);
    for (let tries = 0; ; tries++) {
      const open = (await A.nurse.get(`/api/alerts?teamId=${A.teamId}&state=open`)).body?.alerts ?? [];
      if (open.some((x: { rule: string }) => x.rule === 'urgent_low')) break;
      if (tries > 200) throw new Error('the hypo opened no alert');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    admin = await openTab(browser);
    await signIn(admin, base, 'admin@hemtj-nst-s-der.example.se', PASSWORD);
  }, 300_000);

  afterAll(async () => {
    await admin?.context.close();
    await browser?.close();
    await env?.stop();
  });

  const followUp = (page: Page) => page.getByRole('list', { name: t('report.followUpHeading') });

  it('shows the SÄBO physician share against the 80 % target and the follow-up list', async () => {
    const { page } = admin;
    await page
      .getByRole('navigation', { name: t('nav.label') })
      .getByRole('link', { name: t('nav.report') })
      .click();
    await page.waitForURL(/\/report$/);
    await page.getByRole('heading', { level: 1, name: t('report.heading') }).waitFor();

    const share = page.getByTestId('sabo-share');
    await expect
      .poll(async () => share.textContent(), EVENTUALLY)
      .toContain(t('report.saboShare', { count: 3, total: 4, share: formatPercent(75, 'sv-SE') }));
    expect(await share.textContent()).toContain(t('report.saboNotMet'));
    expect(await share.textContent()).toContain(t('report.saboTarget', { target: 80 }));

    // Every patient, the hypo first, each a link to the patient.
    const items = followUp(page).getByRole('listitem');
    await expect.poll(async () => items.count(), EVENTUALLY).toBe(5);
    const first = items.first();
    expect(await first.getByRole('link').textContent()).toBe(sabo[0]);
    expect(await first.textContent()).toContain(t('triage.critical_alert'));
    expect(await first.textContent()).toContain(physician);
    const dagny = followUp(page).getByRole('listitem').filter({ hasText: 'Dagny Öst' });
    expect(await dagny.textContent()).toContain(t('report.noPhysician'));
    await page.getByRole('img', { name: new RegExp(`^${t('report.tirHeading')}`) }).waitFor();
    await screenshot(page, 'report-page', true);

    // The CSV downloads with the session, one row per patient.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-csv').click()]);
    expect(download.suggestedFilename()).toMatch(/^team-report-\d{8}T\d{4}Z-\d{8}T\d{4}Z\.csv$/);
    const csv = fs
      .readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\n');
    expect(csv[0]!.startsWith('period_from,period_to,patient_id,patient_name')).toBe(true);
    expect(csv).toHaveLength(6);

    // On a phone the report still reads, one column.
    await page.setViewportSize({ width: 390, height: 844 });
    await share.waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await screenshot(page, 'report-phone', true);
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(overflow).toBeLessThanOrEqual(0);

    await first.getByRole('link').click();
    await page.waitForURL(new RegExp(`/patients/${A.patientId}$`));
    await page.getByRole('heading', { level: 1, name: sabo[0] }).waitFor();
  });

  it('sets a patient’s physician in the admin form, shown on the board row and in the header', async () => {
    const { page } = admin;
    const patient = sabo[3]!;
    await page.goto(`${base}/admin/patients`);
    const entry = page.locator('details', { has: page.getByText(patient, { exact: true }) });
    await entry.locator('summary').click();
    await entry.getByLabel(t('physician.label')).selectOption({ label: physician });
    await entry.getByRole('button', { name: t('physician.save') }).click();
    await entry
      .getByRole('status')
      .filter({ hasText: t('physician.saved') })
      .waitFor();
    await screenshot(page, 'report-physician-form');

    await page
      .getByRole('navigation', { name: t('nav.label') })
      .getByRole('link', { name: t('nav.board') })
      .click();
    await page.waitForURL(/\/board$/);
    const row = page
      .getByRole('list', { name: t('board.listLabel') })
      .getByRole('article', { name: patient, exact: true });
    await expect
      .poll(async () => row.getByTestId('row-physician').textContent(), EVENTUALLY)
      .toContain(t('physician.shown', { name: physician }));

    // Filtered by physician: the four SÄBO patients are hers, Dagny has none.
    const articles = page.getByRole('list', { name: t('board.listLabel') }).getByRole('article');
    await page.getByLabel(t('physician.filter')).selectOption({ label: physician });
    await expect.poll(async () => articles.count(), EVENTUALLY).toBe(4);
    await screenshot(page, 'report-board-physician');
    await page.getByLabel(t('physician.filter')).selectOption({ label: t('physician.filterNone') });
    await expect.poll(async () => articles.count(), EVENTUALLY).toBe(1);
    expect(await articles.first().getByRole('link').textContent()).toBe('Dagny Öst');

    await page.goto(`${base}/patients/${ids[patient]}`);
    await expect
      .poll(async () => page.getByTestId('patient-physician').textContent(), EVENTUALLY)
      .toBe(t('physician.shown', { name: physician }));

    // The report counts her now: all four SÄBO patients have a physician, the target is met.
    await page.goto(`${base}/report`);
    await expect
      .poll(async () => page.getByTestId('sabo-share').textContent(), EVENTUALLY)
      .toContain(t('report.saboShare', { count: 4, total: 4, share: formatPercent(100, 'sv-SE') }));
    expect(await page.getByTestId('sabo-share').textContent()).toContain(t('report.saboMet'));
  });
});
