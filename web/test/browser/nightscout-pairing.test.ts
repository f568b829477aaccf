import { createHash } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTeam, PASSWORD } from '@glucoboard/server/test-support/clinic';
import { openTab, signIn, startBrowserTest, t, type BrowserTest, type Tab } from './support.ts';

// Issue 13: "The admin UI's pairing dialog shows, once, the base URL and the secret with short
// set-up steps" for the Nightscout uploader apps. A real browser pairs a CGM on the admin page.

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

describe('pairing a CGM shows its Nightscout set-up once (issue 13)', () => {
  let env: BrowserTest['env'];
  let base: string;
  let browser: Browser;
  let admin: Tab;

  beforeAll(async () => {
    let sys: BrowserTest['sys'];
    ({ browser, env, base, sys } = await startBrowserTest());
    await buildTeam(sys, base, 'Nightscout pairing');
    admin = await openTab(browser);
    await signIn(admin, base, 'admin@nightscout-pairing.example.se', PASSWORD);
  });

  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  it('shows the base URL, the token as API secret and its SHA-1, and the apps upload with them', async () => {
    const { page } = admin;
    await page.goto(`${base}/admin/patients`);
    await page.getByText('Patient of Nightscout pairing', { exact: true }).click();
    await page.getByLabel(t('pair.serial'), { exact: true }).fill('XDRIP-PHONE-1');
    await page.getByRole('combobox', { name: t('devices.kind') }).selectOption('cgm');
    await page.getByRole('button', { name: t('pair.submit') }).click();

    const dialog = page.getByRole('dialog', { name: t('pair.tokenHeading') });
    await dialog.waitFor();
    const setup = dialog.getByRole('region', { name: t('pair.nightscoutHeading') });
    await setup.waitFor();
    const token = (await dialog.locator('code.token').textContent())!.trim();
    expect(await setup.getByTestId('nightscout-url').textContent()).toBe(base);
    await expect.poll(() => setup.getByTestId('nightscout-sha1').textContent()).toBe(sha1(token));
    const shown = await setup.textContent();
    for (const key of ['pair.nightscoutSecret', 'pair.nightscoutJuggluco', 'pair.nightscoutAaps'] as const) {
      expect(shown).toContain(t(key));
    }
    expect(shown).toContain(`${new URL(base).protocol}//${token}@${new URL(base).host}/api/v1/`);
    expect(await setup.getByRole('link', { name: t('pair.nightscoutDocs') }).getAttribute('href')).toMatch(
      /^https:\/\//,
    );

    // What the screen says works: an uploader with that URL and that SHA-1 as its api-secret.
    const upload = await fetch(`${base}/api/v1/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-secret': sha1(token) },
      body: JSON.stringify([{ type: 'sgv', sgv: 104, date: Date.now() - 60_000, device: 'xDrip-DexcomG6' }]),
    });
    expect(upload.status).toBe(200);

    // Shown once: closed, the secret is gone from the page.
    await dialog.getByRole('button', { name: t('pair.done') }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => page.content()).not.toContain(token);

    // A new token for the CGM shows the set-up again, with the new secret; the old one is refused.
    page.once('dialog', (confirm) => void confirm.accept());
    await page
      .getByRole('row')
      .filter({ hasText: 'XDRIP-PHONE-1' })
      .getByRole('button', { name: t('pair.rotate') })
      .click();
    await dialog.waitFor();
    const rotated = (await dialog.locator('code.token').textContent())!.trim();
    expect(rotated).not.toBe(token);
    await expect.poll(() => setup.getByTestId('nightscout-sha1').textContent()).toBe(sha1(rotated));
    const old = await fetch(`${base}/api/v1/experiments/test`, { headers: { 'api-secret': sha1(token) } });
    expect(old.status).toBe(401);
    await dialog.getByRole('button', { name: t('pair.done') }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  it("shows no Nightscout set-up for a blood glucose meter's token", async () => {
    const { page } = admin;
    await page.getByLabel(t('pair.serial'), { exact: true }).fill('BGM-1');
    await page.getByRole('combobox', { name: t('devices.kind') }).selectOption('bgm');
    await page.getByRole('button', { name: t('pair.submit') }).click();
    const dialog = page.getByRole('dialog', { name: t('pair.tokenHeading') });
    await dialog.waitFor();
    expect(await dialog.getByRole('region', { name: t('pair.nightscoutHeading') }).count()).toBe(0);
    expect(await dialog.textContent()).not.toContain(t('pair.nightscoutUrl'));
    await dialog.getByRole('button', { name: t('pair.done') }).click();
  });
});
