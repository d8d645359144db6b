// The weekly recording schedule from the page, in Debian's Chromium
// (playwright-core) against the web service alone: log in, open the
// channels settings, pick a channel, paint half hours by dragging, use the
// fill and copy buttons, save; the box's config is the judge, and a value
// it refuses shows its verdict.
import t from 'tap';
import { join } from 'node:path';
import { memoryLogger } from '../../../firmware/core/log.js';
import { waitFor } from '../../helpers/firmware.js';
import { browserReady, openSettings, pageDir, shots } from './browser.js';
import { startWeb } from './web-service.js';

if (browserReady(t, 'settings-schedule.js')) {
  t.setTimeout(120_000);

  t.test('paint a week, save it, and see a refused one refused', async (t) => {
    const { web, config } = await startWeb({ log: memoryLogger('web'), pageDir });
    t.teardown(() => web.stop());
    await config.set('channels', [
      { id: 'door', name: 'Front door', main: { url: 'rtsp://127.0.0.1:9/door' } },
      { id: 'drive', name: 'Drive', main: { url: 'rtsp://127.0.0.1:9/drive' }, recording: { mode: 'events' } },
    ]);
    // The first visit's /me before the login (401) and the refused save (4xx) are answers the page shows; the browser reports them too.
    // The web service runs here without the channels' live feeds, so the live view's sockets after the login are refused.
    const { page, problems } = await openSettings(t, web, 'channels', { viewport: { width: 1280, height: 900 }, expected: /status of (400|401|422)|\/api\/v1\/live\/.* 404/ });

    const editor = page.locator('.schedule-editor[data-section=channels]');
    await editor.waitFor();
    const cell = (day: number, slot: number) => editor.locator(`.slot[data-day="${day}"][data-slot="${slot}"]`);
    t.match(await cell(0, 0).getAttribute('class'), /slot-C/, 'a continuous channel without a schedule starts all continuous');
    await editor.locator('select[name=schedule-channel]').selectOption('1');
    t.match(await cell(3, 20).getAttribute('class'), /slot-E/, 'an events channel starts as motion or alarm all week');
    t.equal(await editor.locator('.slot').count(), 7 * 48, 'seven days of 48 half hours');
    t.equal(await editor.locator('.hour').count(), 24, 'hours across, labelled');

    await editor.locator('button[name=schedule-clear]').click();
    t.match(await cell(3, 20).getAttribute('class'), /slot-none/, 'Clear empties the week');
    /** Drags along one day from one half hour to another with the chosen mode. */
    const drag = async (mode: string, day: number, from: number, to: number) => {
      await editor.locator(`button[data-paint="${mode}"]`).click();
      const a = (await cell(day, from).boundingBox())!;
      const b = (await cell(day, to).boundingBox())!;
      await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
      await page.mouse.down();
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
      await page.mouse.up();
    };
    await drag('M', 0, 16, 19); // Monday 08:00-10:00 motion
    await drag('A', 0, 40, 47); // Monday 20:00-24:00 alarm
    await editor.locator('button[name=schedule-copy]').click();
    await drag('C', 5, 0, 47); // Saturday continuous
    await drag('E', 6, 47, 46); // Sunday 23:00-24:00, dragged backwards
    await page.mouse.move(10, 10); // moving over the grid without a button pressed paints nothing
    await editor.locator('input[name=schedule-pre]').fill('3');
    await editor.locator('input[name=schedule-post]').fill('20');
    if (shots) await editor.screenshot({ path: join(shots, 'settings-schedule.png') });
    await editor.locator('button[name=schedule-save]').click();
    await editor.locator('.note-inline.saved').waitFor();

    const weekday = '-'.repeat(16) + 'MMMM' + '-'.repeat(20) + 'A'.repeat(8);
    const want = { days: [weekday, weekday, weekday, weekday, weekday, 'C'.repeat(48), '-'.repeat(46) + 'EE'], preSec: 3, postSec: 20 };
    t.same(config.get().channels[1]!.recording, { mode: 'events', schedule: want, maxDays: null, quotaPercent: null }, 'the box has the painted week');
    t.equal(config.get().channels[0]!.recording.schedule, null, 'the other channel is untouched');

    await editor.locator('input[name=schedule-post]').fill('601');
    await editor.locator('button[name=schedule-save]').click();
    const refused = editor.locator('.note-inline.error');
    await refused.waitFor();
    t.match(await refused.textContent(), /postSec: 601 is outside 0\.\.600/, "the box's verdict is shown");
    t.same(config.get().channels[1]!.recording.schedule, want, 'and nothing refused is kept');

    await editor.locator('select[name=schedule-channel]').selectOption('0');
    await editor.locator('select[name=schedule-channel]').selectOption('1');
    t.match(await cell(5, 10).getAttribute('class'), /slot-C/, 'back on the channel, the saved week is shown');
    await editor.locator('button[name=schedule-none]').click();
    await waitFor('the schedule removed', async () => config.get().channels[1]!.recording.schedule === null, 10_000);
    t.pass('"No schedule" gives the decision back to the recording mode');
    t.same(problems, [], 'no page errors');
  });
}
