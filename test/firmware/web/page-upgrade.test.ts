// The maintenance tab's firmware upgrade in Debian's Chromium, against a
// WebService alone with a real installer: a refused bundle's reason shown
// and nothing installed, then a good bundle uploaded with its progress,
// installed, the restart asked for, and the page back with the new slot.
import t from 'tap';
import { join } from 'node:path';
import { readlinkSync } from 'node:fs';
import { browserReady, logIn, openBrowser, pageDir } from './browser.js';
import { caller, INSTALLER, startWeb } from './web-service.js';
import { scriptBundle, upgradeRig } from '../upgrade/helpers.js';

if (browserReady(t, 'maintenance.js')) {
  t.setTimeout(120_000);

  t.test('upload a firmware bundle from the maintenance tab', async (t) => {
    const { dir, key, up, tree, good } = await upgradeRig(t);
    const wrong = await scriptBundle({ tree, key: key.file, out: join(dir, 'wrong.bundle'), boards: ['rpi-cm4io'] });
    let restarts = 0;
    const { web } = await startWeb({ version: '1.0.0', upgrader: () => up, restart: { kind: 'firmware', run: () => restarts++ }, pageDir });
    t.teardown(() => web.stop());
    t.equal((await caller(web)('POST', '/api/v1/setup', {}, INSTALLER)).status, 201, 'the admin account exists');

    // The first visit's 401 (who is logged in?) and the refused bundle's 422 are answers the test asks for.
    const { page, problems } = await openBrowser(t, { expected: /status of (401|422)/ });
    await logIn(page, `https://127.0.0.1:${web.ports!.https}/`);
    await page.click('nav button[data-view=settings]');
    await page.click('button[data-section=maintenance]');
    await page.locator('#upgrade-status', { hasText: 'Firmware 1.0.0' }).waitFor();
    t.pass('the tab shows the running version');

    const note = page.locator('#maintenance .note-inline');
    await page.setInputFiles('input[name=firmware-file]', wrong);
    page.once('dialog', (d) => void d.accept());
    await page.click('#upgrade');
    await note.filter({ hasText: 'not installed' }).waitFor();
    t.match(await note.textContent(), /firmware not installed, 1\.0\.0 stays: the bundle is for rpi-cm4io, not for this board \(sim\)/, "the box's verdict is shown in words");
    t.equal((await up.status()).current, null, 'nothing was installed');
    t.notOk(await page.locator('#upgrade').isDisabled(), 'the button works again');

    await page.setInputFiles('input[name=firmware-file]', good);
    page.once('dialog', (d) => void d.accept());
    await page.click('#upgrade');
    await note.filter({ hasText: 'is installed' }).waitFor();
    t.match(await note.textContent(), /version 1\.1\.0 is installed; the firmware restarts now and the new version takes over at that restart/, 'the verdict says what was installed and when it runs');
    t.equal(await page.locator('#upgrade-progress').evaluate((p) => (p as unknown as { value: number }).value), 100, 'the progress bar reached the end');
    t.equal(readlinkSync(join(dir, 'root', 'current')), 'slots/1.1.0', 'the new slot is current on disk');

    // The page waits for the box and reloads; this web service never went away, so the session stays.
    await page.locator('nav button[data-view=settings]').waitFor();
    await page.waitForEvent('load', { timeout: 30_000 });
    await page.click('nav button[data-view=settings]');
    await page.click('button[data-section=maintenance]');
    await page.locator('#upgrade-status', { hasText: 'version 1.1.0 is installed and runs from the next restart' }).waitFor();
    t.pass('after the reload the tab shows the installed version waiting for the restart');
    t.equal(restarts, 1, 'the restart was asked for once');
    t.same(problems, [], 'no script error or CSP violation in the page');
  });
}
