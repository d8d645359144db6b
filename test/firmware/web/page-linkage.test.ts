// The linkage rules' form from the page, in Debian's Chromium
// (playwright-core) against the web service alone: log in, open the linkage
// settings, make a rule in the form (alarm input in1 → record cam1 and pulse
// relay out1), save it, change it, have a value refused, delete it; the
// box's config is the judge, and what it refuses shows its verdict.
import t from 'tap';
import { join } from 'node:path';
import { memoryLogger } from '../../../firmware/core/log.js';
import { waitFor } from '../../helpers/firmware.js';
import { browserReady, openSettings, pageDir, shots } from './browser.js';
import { startWeb } from './web-service.js';

if (browserReady(t, 'settings-linkage.js')) {
  t.setTimeout(120_000);

  t.test('make, change and delete a rule in the form', async (t) => {
    const { web, config } = await startWeb({ log: memoryLogger('web'), pageDir });
    t.teardown(() => web.stop());
    await config.set('channels', [
      { id: 'cam1', name: 'Gate', main: { url: 'rtsp://127.0.0.1:9/cam1' } },
      { id: 'cam2', name: 'Yard', main: { url: 'rtsp://127.0.0.1:9/cam2' } },
    ]);
    await config.set('alarms.inputs', [{ input: 'in1', name: 'Front door' }]);
    await config.set('alarms.relays', [{ relay: 'out1', mode: 'momentary' }]);
    // The first visit's /me (401) and the refused save (422) are answers the page shows; the live view's sockets have no feeds here (404).
    const { page, problems } = await openSettings(t, web, 'linkage', { viewport: { width: 1280, height: 1400 }, expected: /status of (400|401|422)|\/api\/v1\/live\/.* 404/ });

    const editor = page.locator('.linkage-editor');
    await editor.waitFor();
    t.equal(await editor.locator('.linkage-rule').count(), 0, 'no rules to begin with');
    await editor.locator('button[name=linkage-add]').click();
    const rule = editor.locator('.linkage-rule').first();
    const field = (name: string) => rule.locator(`[name="${name}"]`);

    t.same(await field('trigger.type').locator('option').allTextContents(), ['alarm', 'motion', 'tamper', 'video loss', 'camera offline', 'disk failed', 'disk full'], "the schema's trigger types");
    t.equal(await field('trigger.input').inputValue(), '', 'a new rule starts on an alarm input, to be named');
    t.equal(await rule.locator('datalist option[value=in1]').textContent(), 'Front door (in1)', "the alarms config's inputs are offered");
    await field('name').fill('Door opens');
    await field('trigger.input').fill('in1');
    await rule.locator('button[name=add-action]').click();
    t.same(await field('actions.0.type').locator('option').allTextContents(), ['record', 'lock', 'ptz preset', 'ptz tour', 'relay', 'buzzer', 'mqtt', 'snapshot', 'popup', 'webhook'], "the schema's action types");
    await rule.locator('input[name="actions.0.channels"][value=cam1]').check();
    await rule.locator('button[name=add-action]').click();
    await field('actions.1.type').selectOption('relay');
    await field('actions.1.output').fill('out1');
    await field('actions.1.seconds').fill('3');
    if (shots) await editor.screenshot({ path: join(shots, 'settings-linkage.png') });
    await rule.locator('button[name=rule-save]').click();
    await rule.locator('.note-inline.saved').waitFor();
    const made = {
      id: 'rule1',
      name: 'Door opens',
      enabled: true,
      trigger: { type: 'alarm', input: 'in1' },
      schedule: null,
      actions: [
        { type: 'record', channels: ['cam1'], preSec: 5, postSec: 30 },
        { type: 'relay', output: 'out1', mode: 'momentary', seconds: 3 },
      ],
    };
    t.same(config.get().linkage.rules, [made], 'the box holds exactly the rule made in the form');

    // Changed: motion on the yard, weekday nights only, and the recording dropped.
    await field('trigger.type').selectOption('motion');
    await field('trigger.channel').selectOption('cam2');
    await field('schedule.null').uncheck();
    await rule.locator('button[name=add-schedule]').click();
    for (const day of ['mon', 'tue', 'wed', 'thu', 'fri']) await rule.locator(`input[name="schedule.0.days"][value=${day}]`).check();
    await field('schedule.0.from').fill('22:00');
    await field('schedule.0.to').fill('06:00');
    await rule.locator('button[name=remove-action]').first().click();
    t.equal(await field('actions.0.type').inputValue(), 'relay', 'the relay is the first action now');
    await rule.locator('button[name=rule-save]').click();
    await waitFor('the changed rule saved', async () => config.get().linkage.rules[0]?.trigger.type === 'motion', 10_000);
    const changed = {
      ...made,
      trigger: { type: 'motion', channel: 'cam2' },
      schedule: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '22:00', to: '06:00' }],
      actions: [made.actions[1]],
    };
    t.same(config.get().linkage.rules, [changed], 'the box holds the changed rule');

    await field('actions.0.seconds').fill('4000');
    await rule.locator('button[name=rule-save]').click();
    const refused = rule.locator('.note-inline.error');
    await refused.waitFor();
    t.match(await refused.textContent(), /actions\[0\]\.seconds: 4000 is outside 0\.\.3600/, "the box's verdict is shown as it says it");
    t.same(config.get().linkage.rules, [changed], 'nothing refused is kept');
    t.equal(await field('actions.0.seconds').inputValue(), '4000', 'the form stays as typed');

    // Drawn again from the box's config, the saved rule comes back in the form.
    await page.click('button[data-section=mqtt]');
    await page.click('button[data-section=linkage]');
    await editor.locator('.linkage-rule').first().waitFor();
    t.equal(await field('trigger.channel').inputValue(), 'cam2', 'the saved trigger is shown');
    t.equal(await field('actions.0.seconds').inputValue(), '3', 'the saved value, not the refused one');

    page.once('dialog', (d) => void d.dismiss());
    await rule.locator('button[name=rule-delete]').click();
    t.equal(config.get().linkage.rules.length, 1, 'a delete not confirmed deletes nothing');
    page.once('dialog', (d) => void d.accept());
    await rule.locator('button[name=rule-delete]').click();
    await waitFor('the rule deleted', async () => config.get().linkage.rules.length === 0, 10_000);
    await editor.locator('.linkage-rule').first().waitFor({ state: 'detached' });
    t.pass('a confirmed delete removes the rule from the box and the page');
    t.same(problems, [], 'no page errors');
  });
}
