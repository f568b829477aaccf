import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN, PASSWORD, startTestSystem } from '@glucoboard/server/test-support/clinic';
import type { Client } from '@glucoboard/server/test-support/http';
import { translate, type MessageKey, type MessageParams } from '../../src/lib/i18n/translate.ts';

/**
 * Support for the browser tests: the built web app, Debian's Chromium (never a downloaded one),
 * one signed-in browser context per user, the app's own Swedish texts and optional screenshots.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const WEB = path.join(ROOT, 'web');
const BUILT = path.join(WEB, 'build', 'index.html');
export const CHROMIUM = '/usr/bin/chromium';

/** Everything the built app is made from: the web sources and the shared domain code it bundles. */
const SOURCES = [
  'web/src',
  'web/static',
  'web/svelte.config.js',
  'web/vite.config.ts',
  'web/package.json',
  'core/src/domain',
  'core/src/wire',
  'core/src/bluetooth',
].map((p) => path.join(ROOT, p));

function newestMtime(target: string): number {
  if (!fs.existsSync(target)) return 0;
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/** Builds the web app (`npm run build:web`) when web/build is missing or older than its sources. */
export async function ensureWebBuild(): Promise<void> {
  const built = fs.existsSync(BUILT) ? fs.statSync(BUILT).mtimeMs : 0;
  const sources = Math.max(...SOURCES.map(newestMtime));
  if (built > sources) return;
  try {
    await promisify(execFile)('npm', ['run', 'build:web'], {
      cwd: ROOT,
      timeout: 240_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const failed = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`npm run build:web failed: ${failed.message}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`);
  }
  if (!fs.existsSync(BUILT)) throw new Error(`npm run build:web did not write ${BUILT}`);
}

/** Debian's Chromium; a missing browser fails the run with what to install (it is never skipped). */
export async function launchChromium(options: { webBluetooth?: boolean } = {}): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` ` +
        '(they use the system browser and never download one).',
    );
  }
  // Web Bluetooth (the meter page's tests, with an emulated adapter): experimental on Linux.
  const bluetooth = options.webBluetooth
    ? ['--enable-experimental-web-platform-features', '--enable-features=WebBluetooth']
    : [];
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...bluetooth] });
}

/** The app's own text (Swedish, its default language), so the tests follow its wording. */
export const t = (key: MessageKey, params?: MessageParams): string => translate('sv', key, params);

/** The text of a message up to its first placeholder left unfilled: "Kvitterat av Anna kl." */
export function textUpTo(key: MessageKey, params: MessageParams, unfilled: string): string {
  const text = t(key, { ...params, [unfilled]: `{${unfilled}}` });
  return text.slice(0, text.indexOf(`{${unfilled}}`)).trim();
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** Every WebSocket frame the page received, as text (Socket.IO's /board events among them). */
  frames: string[];
}

/** A new browser context (own cookies and storage) for one user, with her WebSocket frames recorded. */
export async function openTab(browser: Browser): Promise<Tab> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'sv-SE',
    timezoneId: 'Europe/Stockholm',
  });
  const page = await context.newPage();
  const frames: string[] = [];
  page.on('websocket', (socket) => {
    socket.on('framereceived', ({ payload }) => {
      frames.push(typeof payload === 'string' ? payload : payload.toString('utf8'));
    });
  });
  return { context, page, frames };
}

/** Signs in through the login form and waits for the board the app lands on. */
export async function signIn(tab: Tab, base: string, email: string, password: string): Promise<void> {
  const { page } = tab;
  await page.goto(`${base}/`);
  await page.waitForURL(/\/login/);
  await page.getByLabel(t('login.email')).fill(email);
  await page.getByLabel(t('login.password')).fill(password);
  await page.getByRole('button', { name: t('login.submit') }).click();
  await page.waitForURL(/\/board$/);
  await page.getByRole('heading', { level: 1, name: t('board.heading') }).waitFor();
}

/** Writes docs/screenshots/<name>.png, only when SCREENSHOTS=1 (CI leaves the tracked files alone). */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  if (process.env.SCREENSHOTS !== '1') return;
  await page.screenshot({
    path: path.join(ROOT, 'docs', 'screenshots', `${name}.png`),
    fullPage,
    animations: 'disabled',
  });
}

export interface BrowserTest {
  browser: Browser;
  env: Awaited<ReturnType<typeof startTestSystem>>;
  base: string;
  /** The sysadmin, signed in over the API. */
  sys: Client;
}

/** What every browser test starts from: Chromium, the built app, a real system and its sysadmin. */
export async function startBrowserTest(options: { webBluetooth?: boolean } = {}): Promise<BrowserTest> {
  const browser = await launchChromium(options);
  await ensureWebBuild();
  const env = await startTestSystem('postgres');
  const sys = await env.client().login(ADMIN.email, ADMIN.password);
  return { browser, env, base: env.system.url, sys };
}

/** One more nurse in a team (the colleague of a test with two nurses); her password is PASSWORD. */
export async function addNurse(sys: Client, teamId: string, email: string, name: string): Promise<void> {
  const user = await sys.post('/api/users', { email, name, password: PASSWORD });
  if (user.status !== 201) throw new Error(`creating ${email}: ${user.status} ${user.text}`);
  const member = await sys.post(`/api/teams/${teamId}/members`, { userId: user.body.id, role: 'nurse' });
  if (member.status !== 201) throw new Error(`adding ${email}: ${member.status} ${member.text}`);
}
