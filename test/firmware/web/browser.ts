// Debian's Chromium through playwright-core for the page's tests: a skip that
// says why when the browser or the built page is missing, a headless browser
// with what a test needs from it (the page, every script and console error
// it logged), and the login a user does.
import type { Test } from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { packageRoot } from '../../../firmware/core/paths.js';
import type { WebService } from '../../../firmware/web/web-service.js';
import { caller, INSTALLER } from './web-service.js';

export const CHROMIUM = '/usr/bin/chromium';
export const pageDir = join(packageRoot(), 'dist', 'firmware', 'web', 'page');
/** Where `DVR_SCREENSHOTS=1` keeps the screenshots under docs/, or null. */
export const shots = process.env.DVR_SCREENSHOTS === '1' ? join(packageRoot(), 'docs', 'screenshots') : null;

/** Plans 0 with the reason when Chromium or the built page file is missing; true when the test can run. */
export function browserReady(t: Test, pageFile: string): boolean {
  if (!existsSync(CHROMIUM)) t.plan(0, `no ${CHROMIUM}: run make deps-test (installs Debian's chromium)`);
  else if (!existsSync(join(pageDir, pageFile))) t.plan(0, 'the page is not built: run make page');
  else return true;
  return false;
}

/**
 * A new headless browser and page, closed at the test's end. `problems`
 * gathers page errors and console errors; `expected` names the console lines
 * that are answers the test asked for (a refused save's 422, the 401 of the
 * first visit), which the browser logs too.
 */
export async function openBrowser(t: Test, o: { viewport?: { width: number; height: number }; expected?: RegExp } = {}): Promise<{ page: Page; problems: string[] }> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  // The box's certificate is its own, made on first boot: a user accepts it once, as here.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: o.viewport ?? { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && !o.expected?.test(m.text()) && problems.push(`console: ${m.text()}`));
  return { page, problems };
}

/** Opens the page at `url` and logs in as the installer; resolves once the navigation shows. */
export async function logIn(page: Page, url: string, who = INSTALLER): Promise<void> {
  await page.goto(url);
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await page.fill('input[name=name]', who.name);
  await page.fill('input[name=password]', who.password);
  await page.click('button[type=submit]');
  await page.locator('nav button[data-view=settings]').waitFor();
}

/**
 * The first-boot admin made, a browser logged in as it, and the settings tab
 * `section` open: where every settings editor's test starts. `expected` as
 * for openBrowser.
 */
export async function openSettings(t: Test, web: WebService, section: string, o: { viewport?: { width: number; height: number }; expected?: RegExp } = {}): Promise<{ page: Page; problems: string[] }> {
  t.equal((await caller(web)('POST', '/api/v1/setup', {}, INSTALLER)).status, 201, 'the admin account exists');
  const opened = await openBrowser(t, o);
  await logIn(opened.page, `https://127.0.0.1:${web.ports!.https}/`);
  await opened.page.click('nav button[data-view=settings]');
  await opened.page.click(`button[data-section=${section}]`);
  return opened;
}
