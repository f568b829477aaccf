import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { swedishDayIndex, swedishLocalTime } from '@glucoboard/core/domain';
import { buildTeam, PASSWORD, type TeamFixture } from '@glucoboard/server/test-support/clinic';
import { openTab, screenshot, signIn, startBrowserTest, t, type BrowserTest, type Tab } from './support.ts';

// Issue 15, section 4, in a real browser: a team admin answers "who looked at this patient last
// month" from the audit page, prints and downloads the patient's extract (PDL 8:5), and runs and
// records the month's log review (HSLF-FS 2016:40 4:9). Last month's events are planted in the
// trail at known Swedish hours, as the server writes them.

const run = promisify(execFile);
const EVENTUALLY = { timeout: 20_000, interval: 50 };

describe('the audit page (issue 15, section 4)', () => {
  let env: BrowserTest['env'];
  let base: string;
  let browser: Browser;
  let admin: Tab;
  let ward: TeamFixture;
  let consult: TeamFixture;
  let heavyId: string;
  const tmp = path.join(os.tmpdir(), `glucoboard-audit-${process.pid}`);

  // The 10th to 12th of last month, Swedish time (the page's "last month" in Stockholm).
  const now = new Date();
  const day10 = swedishDayIndex(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 10, 12));
  const at = (day: number, hours: number) => new Date(swedishLocalTime(day10 + day, hours));

  beforeAll(async () => {
    let sys: BrowserTest['sys'];
    ({ browser, env, base, sys } = await startBrowserTest());
    await fs.mkdir(tmp, { recursive: true });
    ward = await buildTeam(sys, base, 'Diabetesmottagningen');
    consult = await buildTeam(sys, base, 'Medicinkonsult');
    await ward.admin.post(`/api/patients/${ward.patientId}/access`, { teamId: consult.teamId });
    const extra: string[] = [];
    for (let i = 0; i < 12; i++)
      extra.push((await ward.admin.post('/api/patients', { name: `Patient ${i + 1}`, teamId: ward.teamId })).body.id);
    const heavy = await sys.post('/api/users', { email: 'heavy@example.se', name: 'Vera Vikarie', password: PASSWORD });
    heavyId = heavy.body.id;
    await sys.post(`/api/teams/${ward.teamId}/members`, { userId: heavyId, role: 'nurse' });

    const plant = (when: Date, userId: string, patientId: string, detail: Record<string, unknown> = {}) =>
      env.system.db.pool.query(
        `insert into audit_events (at, actor_kind, actor_user_id, action, patient_id, team_id, origin, detail)
         values ($1, 'user', $2, 'patient.read', $3, $4, '10.20.30.40', $5)`,
        [when, userId, patientId, ward.teamId, JSON.stringify(detail)],
      );
    await plant(at(0, 9), ward.nurseId, ward.patientId);
    await plant(at(0, 10), consult.nurseId, ward.patientId, { via: 'granted' });
    await plant(at(1, 22), ward.nurseId, ward.patientId);
    for (const [i, p] of extra.entries()) await plant(at(2, 13 + i / 60), heavyId, p);

    admin = await openTab(browser);
    await signIn(admin, base, 'admin@diabetesmottagningen.example.se', PASSWORD);
  });

  afterAll(async () => {
    await browser?.close();
    await env?.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('finds who looked at the patient last month, newest first, through the header link', async () => {
    const { page } = admin;
    await page
      .getByRole('navigation', { name: t('nav.label') })
      .getByRole('link', { name: t('audit.nav') })
      .click();
    await page.waitForURL(/\/audit$/);
    await page.getByRole('heading', { level: 2, name: t('audit.search.heading') }).waitFor();
    await page
      .getByRole('combobox', { name: t('audit.search.patient') })
      .selectOption({ label: 'Patient of Diabetesmottagningen' });
    await expect.poll(() => page.getByRole('combobox', { name: t('audit.period') }).inputValue()).toBe('lastMonth');
    await page.getByRole('button', { name: t('audit.search.submit') }).click();

    const rows = page.locator('table.events tbody tr');
    await expect.poll(() => rows.count(), EVENTUALLY).toBe(3);
    const texts = await rows.allTextContents();
    expect(texts[0]).toContain('nurse of Diabetesmottagningen'); // 22:00 on the 11th
    expect(texts[1]).toContain('nurse of Medicinkonsult');
    expect(texts[1]).toContain(t('audit.reach.granted'));
    expect(texts[1]).toContain(t('audit.action.patient.read'));
    expect(texts[2]).toContain('nurse of Diabetesmottagningen');
    await screenshot(page, 'audit-search', true);
  });

  it('prints the extract with no navigation or buttons on paper, and downloads it as CSV', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: t('audit.search.extract') }).click();
    await page.waitForURL(/\/audit\/patients\//);
    await page.getByRole('heading', { level: 1, name: t('audit.extract.heading') }).waitFor();
    const rows = page.locator('table.extract tbody tr');
    await expect.poll(() => rows.count(), EVENTUALLY).toBe(3);
    expect(await rows.nth(1).textContent()).toContain('Medicinkonsult');
    expect(await page.locator('.identity').textContent()).toContain('191212121212');
    await screenshot(page, 'audit-extract', true);

    const file = path.join(tmp, 'extract.pdf');
    await page.pdf({ path: file, format: 'A4', printBackground: true });
    const { stdout: paper } = await run('pdftotext', ['-enc', 'UTF-8', '-layout', file, '-']);
    expect(paper).toContain(t('audit.extract.heading'));
    expect(paper).toContain('Patient of Diabetesmottagningen');
    expect(paper).toContain('nurse@medicinkonsult.example.se');
    for (const screenOnly of [t('audit.extract.print'), t('audit.extract.csv'), t('nav.board'), t('audit.nav')])
      expect(paper).not.toContain(screenOnly);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: t('audit.extract.csv') }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`access-log-${ward.patientId}.csv`);
    const csv = await fs.readFile((await download.path())!, 'utf8');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe("time,action,outcome,user,email,care unit,origin,reached via,user's teams");
    expect(lines.slice(1).filter((l) => l.includes('10.20.30.40'))).toHaveLength(3);
    expect(csv).toContain('nurse@medicinkonsult.example.se,Diabetesmottagningen,10.20.30.40,granted,Medicinkonsult');
  });

  it("runs last month's review, sees what deserves a look, and records who reviewed it", async () => {
    const { page } = admin;
    await page.goto(`${base}/audit`);
    await page.getByRole('link', { name: t('audit.nav.review') }).click();
    await page.waitForURL(/\/audit\/review$/);
    await page.getByRole('button', { name: t('audit.review.run') }).click();
    const findings = page.locator('table.findings tbody tr');
    await expect.poll(() => findings.count(), EVENTUALLY).toBe(3);
    const byReason = async (reason: string) =>
      (await page.locator(`tr[data-reason="${reason}"]`).allTextContents()).join();
    expect(await byReason('granted')).toContain('nurse of Medicinkonsult');
    expect(await byReason('off_hours')).toContain('22:00');
    expect(await byReason('high_volume')).toContain('Vera Vikarie');
    expect(await byReason('high_volume')).toContain(t('audit.review.volumeDetail', { count: 12, threshold: 10 }));
    await screenshot(page, 'audit-review', true);

    await page
      .getByLabel(t('audit.review.conclusion'))
      .fill('Konsultens åtkomst avtalad. Kvällsläsningen var ett telefonsamtal.');
    await page.getByRole('button', { name: t('audit.review.record') }).click();
    await page
      .getByRole('status')
      .filter({ hasText: t('audit.review.recorded') })
      .waitFor();
    const history = page.locator('table.reviews tbody tr');
    await expect.poll(() => history.count(), EVENTUALLY).toBe(1);
    expect(await history.first().textContent()).toContain('admin of Diabetesmottagningen');
    expect(await history.first().textContent()).toContain('Konsultens åtkomst avtalad');

    // Recorded on the server, and the reviewing itself is in the trail.
    const actions = await env.system.db.pool.query<{ action: string }>(
      `select distinct action from audit_events where actor_user_id = $1 and action like 'audit.%'`,
      [ward.adminId],
    );
    expect(actions.rows.map((r) => r.action).sort()).toEqual(
      ['audit.extract', 'audit.read', 'audit.review.list', 'audit.review.record', 'audit.review.run'].sort(),
    );
  });

  it('fits a 390 px phone, and shows a nurse neither the link nor the log', async () => {
    const { page } = admin;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/audit/review`);
    await page.getByRole('button', { name: t('audit.review.run') }).click();
    await page.locator('table.findings').waitFor();
    await page.getByRole('heading', { level: 2, name: t('audit.review.findingsHeading') }).scrollIntoViewIfNeeded();
    const width = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      view: window.innerWidth,
    }));
    expect(width.scroll).toBeLessThanOrEqual(width.view);
    await screenshot(page, 'audit-review-phone');

    const nurse = await openTab(browser);
    await signIn(nurse, base, 'nurse@diabetesmottagningen.example.se', PASSWORD);
    const nav = nurse.page.getByRole('navigation', { name: t('nav.label') });
    expect(await nav.getByRole('link', { name: t('audit.nav') }).count()).toBe(0);
    await nurse.page.goto(`${base}/audit`);
    await nurse.page.getByText(t('audit.notAllowed')).waitFor();
    await nurse.context.close();
  });
});
