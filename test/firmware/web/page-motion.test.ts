// The motion grid of the analog channels tab, in Debian's Chromium against the
// web service alone: log in, open the analog channels settings, drag over the
// picture to mask cells, drag again to unmask, move the sensitivity, save; the
// box's config is the judge. The web service runs here without the channels'
// live feeds (no capture card), so the picture under the grid says so; the
// picture itself is the live view's player, which page.test.ts watches play.
import t from 'tap';
import { join } from 'node:path';
import { memoryLogger } from '../../../firmware/core/log.js';
import { waitFor } from '../../helpers/firmware.js';
import { browserReady, logIn, openBrowser, pageDir, shots } from './browser.js';
import { caller, INSTALLER, startWeb } from './web-service.js';

const COLS = 22;

if (browserReady(t, 'settings-motion.js')) {
  t.setTimeout(120_000);

  t.test('mask cells of the motion grid by dragging, save, and see the config hold them', async (t) => {
    const { web, config } = await startWeb({ log: memoryLogger('web'), pageDir });
    t.teardown(() => web.stop());
    await config.set('dvrChannels', [
      { id: 'porch', name: 'Porch', device: '/dev/video0' },
      { id: 'yard', name: 'Yard', device: '/dev/video1', motion: { sensitivity: 40, cells: Array.from({ length: 396 }, (_, k) => (k === 5 ? 0 : 40)) } },
    ]);
    const yardBefore = structuredClone(config.get().dvrChannels[1]);
    t.equal((await caller(web)('POST', '/api/v1/setup', {}, INSTALLER)).status, 201, 'the admin account exists');
    // The first visit's /me (401) and the refused live sockets (no feeds here) are logged by the browser too.
    const { page, problems } = await openBrowser(t, { expected: /status of 401|\/api\/v1\/live\/.* 404/ });
    await logIn(page, `https://127.0.0.1:${web.ports!.https}/`);
    await page.click('nav button[data-view=settings]');
    await page.click('button[data-section=dvrChannels]');

    const grid = page.locator('.motion-grid[data-channel=porch]');
    await grid.waitFor();
    t.equal(await grid.locator('.cell').count(), 396, '22 × 18 cells over the picture');
    t.equal(await grid.locator('.cell.masked').count(), 0, 'a channel without a mask detects everywhere');

    // One stroke from cell (row 2, col 3) to (row 2, col 8): six cells masked.
    const centre = async (k: number) => {
      const b = (await grid.locator(`.cell[data-cell="${k}"]`).boundingBox())!;
      return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    };
    const drag = async (from: number, to: number) => {
      const a = await centre(from);
      const b = await centre(to);
      await page.mouse.move(a.x, a.y);
      await page.mouse.down();
      await page.mouse.move(b.x, b.y, { steps: 12 });
      await page.mouse.up();
    };
    const row2 = (c: number) => 2 * COLS + c;
    await drag(row2(3), row2(8));
    const masked = async () => (await grid.locator('.cell.masked').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-cell'))))).sort((a, b) => a - b);
    t.same(await masked(), [3, 4, 5, 6, 7, 8].map(row2), 'the dragged cells are masked');
    // A stroke that starts on a masked cell unmasks.
    await drag(row2(7), row2(8));
    t.same(await masked(), [3, 4, 5, 6].map(row2), 'a stroke from a masked cell unmasks');

    await page.locator('input[name=motion-sensitivity]').evaluate((el: { value: string; dispatchEvent(e: unknown): boolean }) => {
      el.value = '75';
      el.dispatchEvent(new (globalThis as unknown as { Event: new (type: string) => unknown }).Event('input'));
    });
    t.equal(await page.textContent('.motion-editor .level'), '75', 'the slider shows its level');
    if (shots) await page.locator('.motion-editor').screenshot({ path: join(shots, 'settings-motion.png') });
    t.equal(config.get().dvrChannels[0]!.motion.cells, null, 'nothing saved before Save');
    await page.click('button[data-motion=save]');
    await page.locator('.motion-editor .note-inline.ok').waitFor();
    t.match(await page.textContent('.motion-editor .note-inline'), /4 of 396 cells masked/, 'the page says what it saved');
    const saved = config.get().dvrChannels[0]!.motion;
    t.equal(saved.sensitivity, 75, 'the sensitivity is saved');
    t.same(
      saved.cells!.flatMap((v, k) => (v === 0 ? [k] : [])),
      [3, 4, 5, 6].map(row2),
      'the config masks exactly the painted cells',
    );
    t.ok(saved.cells!.every((v) => v === 0 || v === 75), 'every other cell detects at the slider level');
    t.same(config.get().dvrChannels[1], yardBefore, 'the other channel is untouched');

    // The other channel's saved mask is shown; "Detect everywhere" and Save clear it to null.
    await waitFor('the tab reloaded after the save', async () => (await page.locator('.motion-editor .note-inline.ok').count()) === 0, 10_000);
    await page.selectOption('select[name=motion-channel]', '1');
    const yard = page.locator('.motion-grid[data-channel=yard]');
    await yard.waitFor();
    t.same(await yard.locator('.cell.masked').evaluateAll((els) => els.map((e) => e.getAttribute('data-cell'))), ['5'], "the yard's saved mask is drawn");
    await page.click('button[data-motion=clear]');
    await page.click('button[data-motion=save]');
    await page.locator('.motion-editor .note-inline.ok').waitFor();
    t.equal(config.get().dvrChannels[1]!.motion.cells, null, 'Detect everywhere saves no mask (null)');
    t.equal(config.get().dvrChannels[1]!.motion.sensitivity, 40, 'and keeps the sensitivity');
    t.same(problems, [], 'no script error or CSP violation in the page');
  });
}
