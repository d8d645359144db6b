// Adding IP cameras from the page, in Debian's Chromium (playwright-core)
// against the web service alone: log in, open the channels settings, find
// the ONVIF camera simulator, check it with its login, add it; then add a
// camera without ONVIF by its RTSP URL. The box's config is the judge.
import t from 'tap';
import { join } from 'node:path';
import { memoryLogger } from '../../../firmware/core/log.js';
import { OnvifCameraSim } from '../../fixtures/onvif-camera/simulator.js';
import { waitFor } from '../../helpers/firmware.js';
import { browserReady, logIn, openBrowser, pageDir, shots } from './browser.js';
import { caller, INSTALLER, startWeb } from './web-service.js';

const CAM_PW = 'Cam-Secret-4711';

if (browserReady(t, 'settings-cameras.js')) {
  t.setTimeout(120_000);

  t.test('find, check and add an ONVIF camera, and add one by RTSP URL', async (t) => {
    const streams = { main: { uri: 'rtsp://127.0.0.1:9/Streaming/Channels/101', width: 1920, height: 1080 }, sub: { uri: 'rtsp://127.0.0.1:9/Streaming/Channels/102', width: 640, height: 360 } };
    const sim = new OnvifCameraSim({ streams, password: CAM_PW });
    await sim.start();
    t.teardown(() => sim.stop());
    const log = memoryLogger('web');
    const { web, config } = await startWeb({ log, pageDir, onvif: { target: { address: '127.0.0.1', port: sim.discoveryPort! }, discoveryMs: 300, cameraTimeoutMs: 2000 } });
    t.teardown(() => web.stop());
    t.equal((await caller(web)('POST', '/api/v1/setup', {}, INSTALLER)).status, 201, 'the admin account exists');

    // The first visit's /me before the login (401) and a refused check (422) are answers the page shows; the browser reports them too.
    const { page, problems } = await openBrowser(t, { viewport: { width: 1280, height: 900 }, expected: /status of (401|422)/ });

    await logIn(page, `https://127.0.0.1:${web.ports!.https}/`);
    await page.click('nav button[data-view=settings]');
    await page.click('button[data-section=channels]');

    await page.click('#camera-find');
    await page.locator('button[data-camera="127.0.0.1"]').click();
    t.equal(await page.inputValue('input[name=camera-port]'), String(sim.port), "picking the found camera fills in its address and port");
    await page.fill('input[name=camera-user]', sim.username);
    await page.fill('input[name=camera-password]', 'Not-The-Pass-1');
    await page.click('#camera-check');
    const refused = page.locator('.cameras .note-inline.error');
    await refused.waitFor();
    t.match(await refused.textContent(), /refused the username or password/, 'a wrong password is said so');

    await page.fill('input[name=camera-password]', CAM_PW);
    await page.click('#camera-check');
    await page.locator('.camera-model').waitFor();
    t.match(await page.locator('.camera-model').textContent(), /HIKVISION DS-2DE2A404IW-DE3/, 'the check shows the model');
    const shown = (await page.locator('.camera-streams').textContent()) ?? '';
    t.ok(shown.includes(streams.main.uri) && shown.includes('1920×1080') && shown.includes(streams.sub.uri), `and its streams: ${shown}`);
    t.equal(await page.inputValue('input[name=new-id]'), 'ds-2de2a404iw-de3', 'an id proposed from the model');
    if (shots) await page.screenshot({ path: join(shots, 'settings-cameras.png'), fullPage: true });
    await page.fill('input[name=new-name]', 'Gate dome');
    await page.click('#camera-add');
    await waitFor('the channel in the config', async () => config.get().channels.length === 1, 10_000);
    t.match(config.get().channels[0], {
      id: 'ds-2de2a404iw-de3', name: 'Gate dome', main: { url: streams.main.uri }, sub: { url: streams.sub.uri },
      username: sim.username, password: CAM_PW, onvif: { host: '127.0.0.1', port: sim.port, path: '/onvif/device_service', ptz: true, events: true },
    }, "the new channel has the camera's streams, login and ONVIF service");
    // The tab is built again from the new config: the list has the channel.
    await page.locator('legend', { hasText: 'channels (1)' }).waitFor();

    await page.click('#camera-find');
    await page.locator('.camera-list li', { hasText: 'already channel ds-2de2a404iw-de3' }).waitFor();
    t.pass('discovery says the camera is already a channel');

    await page.click('summary:has-text("Add by RTSP URL")');
    await page.fill('input[name=rtsp-id]', 'ds-2de2a404iw-de3');
    await page.fill('input[name=rtsp-main]', 'rtsp://127.0.0.1:8554/gate');
    await page.click('#rtsp-add');
    await page.locator('.rtsp-add .note-inline.error', { hasText: 'taken' }).waitFor();
    t.pass('a taken id is refused');
    await page.fill('input[name=rtsp-id]', 'yard');
    await page.fill('input[name=rtsp-name]', 'Yard');
    await page.fill('input[name=rtsp-sub]', 'rtsp://127.0.0.1:8554/yard-sub');
    await page.click('#rtsp-add');
    await waitFor('the RTSP channel in the config', async () => config.get().channels.length === 2, 10_000);
    t.match(config.get().channels[1], { id: 'yard', name: 'Yard', main: { url: 'rtsp://127.0.0.1:8554/gate' }, sub: { url: 'rtsp://127.0.0.1:8554/yard-sub' }, username: null, password: null, onvif: null }, 'the RTSP camera is a channel without ONVIF');

    t.notMatch(JSON.stringify(log.ring.tail()), new RegExp(`${CAM_PW}|Not-The-Pass-1`), 'no camera password in the log');
    t.same(problems, [], 'no page errors');
  });
}
