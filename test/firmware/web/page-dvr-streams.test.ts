// An analog stream's size and rate in the settings page, in Debian's
// Chromium against the web service alone: the generic form built from the
// config schema offers each stream only the sizes it takes, saves a rate by
// its path, and shows the box's refusal of a rate above PAL's beside it.
// The box's config is the judge.
import t from 'tap';
import { memoryLogger } from '../../../firmware/core/log.js';
import { browserReady, logIn, openBrowser, pageDir } from './browser.js';
import { caller, INSTALLER, startWeb } from './web-service.js';

if (browserReady(t, 'settings.js')) {
  t.setTimeout(120_000);

  t.test('resolution and fps of the main and sub streams from the schema, saved and refused by the box', async (t) => {
    const { web, config } = await startWeb({ log: memoryLogger('web'), pageDir });
    t.teardown(() => web.stop());
    await config.set('dvrChannels', [{ id: 'porch', name: 'Porch', device: '/dev/video0', standard: 'pal' }]);
    t.equal((await caller(web)('POST', '/api/v1/setup', {}, INSTALLER)).status, 201, 'the admin account exists');
    const { page, problems } = await openBrowser(t, { expected: /status of 401|\/api\/v1\/live\/.* 404/ });
    await logIn(page, `https://127.0.0.1:${web.ports!.https}/`);
    await page.click('nav button[data-view=settings]');
    await page.click('button[data-section=dvrChannels]');

    const options = (name: string) => page.locator(`select[name="${name}"] option`).evaluateAll((els) => els.map((e) => e.getAttribute('value')));
    await page.locator('select[name="dvrChannels.0.sub.resolution"]').waitFor();
    t.same(await options('dvrChannels.0.main.resolution'), ['D1', 'CIF'], 'the main stream: D1 or CIF');
    t.same(await options('dvrChannels.0.sub.resolution'), ['CIF', 'QCIF'], 'the sub stream: CIF or QCIF');
    t.equal(await page.inputValue('select[name="dvrChannels.0.sub.resolution"]'), 'CIF', 'the default shown');
    t.equal(await page.inputValue('input[name="dvrChannels.0.sub.fps"]'), '', 'every captured frame: an empty box');

    const row = (name: string) => page.locator('label.setting', { has: page.locator(`[name="${name}"]`) });
    await page.selectOption('select[name="dvrChannels.0.sub.resolution"]', 'QCIF');
    await row('dvrChannels.0.sub.resolution').locator('.note-inline.saved').waitFor();
    await page.fill('input[name="dvrChannels.0.sub.fps"]', '6');
    await page.press('input[name="dvrChannels.0.sub.fps"]', 'Tab');
    await row('dvrChannels.0.sub.fps').locator('.note-inline.saved').waitFor();
    t.match(config.get().dvrChannels[0]!.sub, { resolution: 'QCIF', fps: 6 }, 'saved by path');

    await page.fill('input[name="dvrChannels.0.main.fps"]', '30');
    await page.press('input[name="dvrChannels.0.main.fps"]', 'Tab');
    const refused = row('dvrChannels.0.main.fps').locator('.note-inline.error');
    await refused.waitFor();
    t.match(await refused.textContent(), /main\.fps: 30 is above the 25 frames per second of PAL/, "the box's reason beside the field");
    t.equal(config.get().dvrChannels[0]!.main.fps, null, 'nothing refused was kept');
    t.same(problems.filter((p) => !/status of 4\d\d/.test(p)), [], 'no script error or CSP violation in the page');
  });
}
