import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTeam, PASSWORD, type TeamFixture } from '@glucoboard/server/test-support/clinic';
import type { Client } from '@glucoboard/server/test-support/http';
import { formatNumber, formatPercent } from '../../src/lib/i18n/format.ts';
import { openTab, screenshot, signIn, startBrowserTest, t, type BrowserTest, type Tab } from './support.ts';

// Issue 15, item 2: the printable AGP report in Debian's Chromium against the real system. The
// report is printed to PDF as the browser's Print / Save as PDF does (print media, A4), and the
// PDF is read back with poppler-utils (pdftotext, pdfinfo): what a care meeting gets on paper.

const run = promisify(execFile);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const EVENTUALLY = { timeout: 30_000, interval: 200 };

/**
 * The PDF's text in its physical layout (a label and its value on one line, as printed) unless
 * `layout: false` asks for reading order; every run of whitespace (line breaks, no-break spaces
 * of number formats) made one space.
 */
async function pdfText(file: string, pages?: { first: number; last: number; layout: boolean }): Promise<string> {
  const range = pages ? ['-f', String(pages.first), '-l', String(pages.last)] : [];
  const layout = pages?.layout === false ? [] : ['-layout'];
  const { stdout } = await run('pdftotext', [...layout, '-enc', 'UTF-8', ...range, file, '-']);
  return stdout.replace(/\s+/g, ' ');
}

/** The PDF's lines in their physical layout, runs of spaces made one. */
async function pdfLines(file: string): Promise<string[]> {
  const { stdout } = await run('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-']);
  return stdout.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
}

async function pdfPages(file: string): Promise<number> {
  const { stdout } = await run('pdfinfo', [file]);
  return Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]);
}

describe('the printable AGP report (issue 15, item 2)', () => {
  let env: BrowserTest['env'];
  let base: string;
  let sys: Client;
  let A: TeamFixture;
  let browser: Browser;
  let nurse: Tab;
  let full: string; // 14 days of CGM, every 5 minutes
  let sparse: string; // two days of CGM in the last 14
  let lowAlertId = '';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agp-report-'));
  const teamName = 'Diabetesmottagningen Väst';
  const physicianName = 'Dr Karin Berg';
  const fullName = 'Astrid Lindqvist';
  const fullIdentity = '195805010237';

  /** Readings through the device gateway, 500 to a batch (the most the gateway takes). */
  async function upload(deviceId: string, token: string, readings: Array<Record<string, unknown>>) {
    for (let i = 0; i < readings.length; i += 500) {
      const answer = await fetch(`${base}/api/devices/readings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Device ${deviceId}:${token}` },
        body: JSON.stringify({ readings: readings.slice(i, i + 500) }),
      });
      const ack = (await answer.json()) as { ok: boolean; accepted: number };
      expect(ack).toMatchObject({ ok: true, accepted: Math.min(500, readings.length - i) });
    }
  }

  /** A CGM patient of team A with readings every 5 minutes from `startMs` back to now. */
  async function cgmPatient(body: Record<string, unknown>, serial: string, startMs: number, spanMs: number) {
    const patient = await A.admin.post('/api/patients', { teamId: A.teamId, ...body });
    expect(patient.status).toBe(201);
    const device = await A.admin.post('/api/devices', { serial, kind: 'cgm', patientId: patient.body.id });
    expect(device.status).toBe(201);
    const readings = [];
    for (let at = startMs, seq = 1; at < startMs + spanMs && at < Date.now(); at += 5 * MINUTE, seq++) {
      // A day's swing of 5-9 mmol/L, in range all along.
      const hour = (at / (60 * MINUTE)) % 24;
      readings.push({
        seq,
        kind: 'cgm',
        measuredAt: new Date(at).toISOString(),
        mmol: Math.round((7 + 2 * Math.sin((hour / 24) * 2 * Math.PI)) * 10) / 10,
      });
    }
    return {
      patientId: patient.body.id as string,
      device: device.body as { deviceId: string; token: string },
      readings,
    };
  }

  beforeAll(async () => {
    ({ browser, env, base, sys } = await startBrowserTest());
    A = await buildTeam(sys, base, teamName);
    const physician = await sys.post('/api/users', {
      email: 'karin.berg@diabetes-vast.example.se',
      name: physicianName,
      password: PASSWORD,
    });
    await sys.post(`/api/teams/${A.teamId}/members`, { userId: physician.body.id, role: 'physician' });

    // Ten minutes inside the period's start, so the period (which ends when asked) keeps them all.
    const start = Date.now() - 14 * DAY + 10 * MINUTE;
    const wearer = await cgmPatient(
      { name: fullName, identityNumber: '19580501-0237', responsiblePhysicianId: physician.body.id },
      'agp-full-cgm',
      start,
      14 * DAY,
    );
    full = wearer.patientId;
    // A low episode on the third day (three readings at 3.4 mmol/L, then back in range: resolved),
    // and one in the last quarter of an hour, still open, for the nurse to acknowledge.
    const lowAt = start + 2 * DAY;
    const lastLow = Date.now() - 16 * MINUTE;
    for (const r of wearer.readings) {
      const at = Date.parse(r.measuredAt as string);
      if ((at >= lowAt && at < lowAt + 15 * MINUTE) || at >= lastLow) r.mmol = 3.4;
    }
    await upload(wearer.device.deviceId, wearer.device.token, wearer.readings);

    const few = await cgmPatient(
      { name: 'Bengt Sparre', identityNumber: '19450607-9872' },
      'agp-sparse-cgm',
      Date.now() - 3 * DAY,
      2 * DAY,
    );
    sparse = few.patientId;
    await upload(few.device.deviceId, few.device.token, few.readings);

    // The workers open the low alert from the backfilled readings; the nurse acknowledges it.
    const openLow = async () => {
      const alerts = await A.nurse.get(`/api/alerts?patientId=${full}&state=open`);
      return (alerts.body.alerts.find((a: { rule: string }) => a.rule === 'low')?.id as string | undefined) ?? null;
    };
    for (const deadline = Date.now() + EVENTUALLY.timeout; !lowAlertId; ) {
      lowAlertId = (await openLow()) ?? '';
      if (Date.now() > deadline) throw new Error('the low alert never opened');
      await new Promise((r) => setTimeout(r, EVENTUALLY.interval));
    }
    const ack = await A.nurse.post(`/api/alerts/${lowAlertId}/ack`, { action: 'phone', note: 'Ringde, åt för lite' });
    expect(ack.status).toBe(200);

    nurse = await openTab(browser);
    await signIn(nurse, base, `nurse@${teamName.toLowerCase().replace(/\W+/g, '-')}.example.se`, PASSWORD);
  }, 300_000); // a fresh clone builds the web app first

  afterAll(async () => {
    await nurse?.context.close().catch(() => undefined);
    await browser?.close();
    await env?.stop();
    // REPORT_PDF_DIR=dir keeps the printed PDFs there, to look at them.
    if (process.env.REPORT_PDF_DIR) fs.cpSync(tmp, process.env.REPORT_PDF_DIR, { recursive: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Opens the report and waits until every part of it is drawn. */
  async function openReport(page: Page, patientId: string, days = 14): Promise<void> {
    await page.goto(`${base}/patients/${patientId}/report?days=${days}`);
    await page.locator('.agp-report[data-ready="true"]').waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: t('print.agp') }).waitFor();
  }

  /** Prints the page as Print / Save as PDF does (print media, A4) and returns the file. */
  async function printToPdf(page: Page, name: string): Promise<string> {
    await page.emulateMedia({ media: 'print' });
    const file = path.join(tmp, `${name}.pdf`);
    await page.pdf({ path: file, format: 'A4', printBackground: true, preferCSSPageSize: true });
    await page.emulateMedia({ media: 'screen' });
    return file;
  }

  it('is linked from the patient page, with the readings download beside it', async () => {
    const { page } = nurse;
    await page.goto(`${base}/patients/${full}`);
    const link = page.getByRole('link', { name: t('print.openReport') });
    await link.waitFor();
    const download = page.getByRole('link', { name: t('print.exportReadings') });
    expect(await download.getAttribute('href')).toMatch(new RegExp(`^/api/patients/${full}/readings\\?format=csv&`));
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    expect(file.suggestedFilename()).toMatch(
      new RegExp(`^readings-${full}-\\d{4}-\\d\\d-\\d\\d-\\d{4}-\\d\\d-\\d\\d\\.csv$`),
    );
    const csv = fs.readFileSync(await file.path(), 'utf8');
    expect(csv.split('\n')[0]).toBe('measured_at,mmol_l,mg_dl,flag,kind,meal,source,device_serial,seq,received_at');

    await link.click();
    await page.waitForURL(new RegExp(`/patients/${full}/report$`));
    await page.locator('.agp-report[data-ready="true"]').waitFor({ timeout: 30_000 });
    // On screen: the period choices and the print button.
    await page.getByRole('button', { name: t('print.button') }).waitFor();
    for (const days of [7, 14, 30, 90])
      await page.getByRole('link', { name: t('print.daysOption', { days }), exact: true }).waitFor();
  });

  it('prints two A4 pages: identity, statistics as the API gives them, AGP, daily profiles; alerts on page 2', async () => {
    const { page } = nurse;
    await openReport(page, full);
    await screenshot(page, 'agp-report', true);
    const file = await printToPdf(page, 'full');
    const summary = (await A.nurse.get(`/api/patients/${full}/summary?days=14`)).body;
    expect(await pdfPages(file)).toBe(2);
    const text = await pdfText(file);

    // Identity, as the app shows it to members of the responsible team.
    for (const expected of [fullName, fullIdentity, physicianName, teamName]) expect(text).toContain(expected);
    expect(text).toContain(t('print.periodValue', { from: '', to: '', days: 14 }).split('(')[1]!.replace(')', ''));

    // The statistics are the summary's, formatted as the report formats them, each on its label's
    // line of the printed page.
    expect(summary.count).toBeGreaterThan(4000);
    const sv = 'sv-SE';
    const lines = await pdfLines(file);
    const line = (label: string) => lines.find((l) => l.includes(label)) ?? `(no line with ${label})`;
    expect(line(t('print.count'))).toContain(String(summary.count));
    expect(line(t('print.mean'))).toContain(`${formatNumber(summary.mean, sv, 1)} mmol/L`);
    expect(line(t('print.gmi').split(' ')[0]!)).toContain(
      `${formatPercent(summary.gmi, sv)} (${formatNumber(summary.gmiMmolMol, sv, 0)} mmol/mol)`,
    );
    expect(line(t('print.cvTarget'))).toContain(formatPercent(summary.cv, sv));
    expect(summary.dataSufficiency).toBeGreaterThanOrEqual(70);
    expect(line(t('print.timeActive'))).toContain(formatPercent(summary.dataSufficiency, sv));
    // Time in ranges by the patient's target profile, with the profile's targets.
    const shares = summary.targets.shares;
    expect(line(t('range.inRange'))).toMatch(new RegExp(`${formatPercent(shares.inRange, sv)} \\(.*\\) > 70 %`));
    expect(line(t('range.veryLow'))).toContain(`${formatPercent(shares.veryLow, sv)} (`);
    expect(text).toContain(t('patient.profile.standard'));

    // The sections of the AGP report, and no warning for a patient with enough data.
    for (const heading of [
      'print.statistics',
      'print.timeInRanges',
      'print.agp',
      'print.daily',
      'print.alerts',
    ] as const)
      expect(text).toContain(t(heading));
    expect(text).not.toContain('AGP:n är inte tillförlitlig');

    // Page 2: the alert and its acknowledgement (who, what was done, the note).
    // In reading order: a table cell's lines together, not interleaved with its row's neighbours.
    const page2 = await pdfText(file, { first: 2, last: 2, layout: false });
    expect(page2).toContain(t('print.alerts'));
    expect(page2).toContain(t('rule.low'));
    expect(page2).toContain(t('action.phone'));
    expect(page2).toContain('Ringde, åt för lite');
    expect(page2).toContain(`nurse of ${teamName}`);

    // None of the app around the report: navigation, header, footer, buttons, period choices.
    for (const chrome of [
      t('nav.board'),
      t('nav.alerts'),
      t('nav.signOut'),
      t('footer.text'),
      t('app.skipToContent'),
      t('print.button'),
      t('print.back'),
      t('print.daysOption', { days: 90 }),
    ])
      expect(text).not.toContain(chrome);
  });

  it('warns on the report that the AGP is not reliable when data sufficiency is below 70 %', async () => {
    const { page } = nurse;
    await openReport(page, sparse);
    const file = await printToPdf(page, 'sparse');
    const summary = (await A.nurse.get(`/api/patients/${sparse}/summary?days=14`)).body;
    expect(summary.dataSufficiency).toBeLessThan(70);
    const text = await pdfText(file);
    expect(text).toContain('AGP:n är inte tillförlitlig');
    expect(text).toContain(t('print.lowSufficiency', { value: formatPercent(summary.dataSufficiency, 'sv-SE') }));
    expect(text).toContain(t('print.alertsNone'));
    expect(await pdfPages(file)).toBe(2);
  });

  it('offers 7, 14, 30 and 90 days; a longer period keeps one page of profiles', async () => {
    const { page } = nurse;
    await openReport(page, full);
    await page.getByRole('link', { name: t('print.daysOption', { days: 30 }), exact: true }).click();
    await page.waitForURL(/\?days=30$/);
    await expect.poll(() => page.locator('.agp-report .identity').count(), EVENTUALLY).toBe(1);
    await page.getByText(t('print.dailyLast', { days: 14 })).waitFor();
    const file = await printToPdf(page, 'thirty');
    expect(await pdfText(file)).toContain('(30 dygn)');
    expect(await pdfPages(file)).toBe(2);
  });

  it('fits a 390 px phone on screen: nothing wider than the screen', async () => {
    const { page } = nurse;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await openReport(page, full);
      const fit = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        width: window.innerWidth,
      }));
      expect(fit.scroll).toBeLessThanOrEqual(fit.width);
      await page.getByRole('button', { name: t('print.button') }).waitFor();
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('reads the patient through routes that write each read to the audit trail', async () => {
    const { rows: before } = await env.system.db.pool.query<{ id: number }>(
      'select coalesce(max(id), 0)::int as id from audit_events',
    );
    await openReport(nurse.page, full);
    const { rows } = await env.system.db.pool.query<{ action: string }>(
      `select distinct action from audit_events
       where id > $1 and actor_user_id = $2 and patient_id = $3`,
      [before[0]!.id, A.nurseId, full],
    );
    expect(rows.map((r) => r.action)).toEqual(
      expect.arrayContaining(['patient.read', 'summary.read', 'agp.read', 'readings.read', 'alert.list', 'alert.read']),
    );
  });
});
