// The live view where Chromium cannot play a stream, against the firmware on
// the sim board (real, not a WebService alone): "yard" is a GStreamer x265
// camera with no sub stream and the ONVIF camera simulator as its snapshot
// source; "drive" has an x265 main stream and an x264 sub stream. What a
// user would check: yard shows a picture with a note saying why, the picture
// refreshes about once a second, stops while the tab is hidden and when the
// live view is left; drive alone plays its sub stream as video.
import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_VERSION } from '../../../firmware/config/schema.js';
import { dvr, freePort, startFirmware, waitFor } from '../../helpers/firmware.js';
import { OnvifCameraSim } from '../../fixtures/onvif-camera/simulator.js';
import { startCamera } from '../media/rtsp/camera.js';
import { browserReady, openBrowser, shots } from './browser.js';
import { INSTALLER } from './web-service.js';

// Run in the page (strings: the tests are type-checked without the DOM library).
const YARD = `(() => {
  const tile = document.querySelector('#grid .tile[data-channel=yard]');
  const img = tile && tile.querySelector('img.snapshot');
  const video = tile && tile.querySelector('video');
  return img ? { loads: Number(img.dataset.loads || 0), width: img.naturalWidth, note: tile.querySelector('.fallback-note')?.textContent ?? '', state: tile.querySelector('.state')?.textContent ?? '', videoShown: getComputedStyle(video).display !== 'none' } : null;
})()`;
const hidden = (on: boolean) => `(() => { Object.defineProperty(document, 'hidden', { value: ${on}, configurable: true }); document.dispatchEvent(new Event('visibilitychange')); })()`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (browserReady(t, 'snapshot-view.js')) {
  t.setTimeout(240_000);

  t.test('an H.265 channel shows snapshots once a second, with a note', async (t) => {
    const h265 = await startCamera({ codec: 'h265' });
    t.teardown(() => h265.stop());
    const h264 = await startCamera();
    t.teardown(() => h264.stop());
    const sim = new OnvifCameraSim({ streams: { main: { uri: h265.url, width: 320, height: 240 }, sub: { uri: h265.url, width: 320, height: 240 } }, discoveryPort: null });
    await sim.start();
    t.teardown(() => sim.stop());
    const varDir = mkdtempSync(join(tmpdir(), 'dvr-fallback-'));
    mkdirSync(join(varDir, 'data', 'config'), { recursive: true });
    const https = await freePort();
    writeFileSync(
      join(varDir, 'data', 'config', 'config.json'),
      JSON.stringify({
        version: CONFIG_VERSION,
        network: { httpPort: await freePort(), httpsPort: https, rtspPort: await freePort(), bindAddress: '127.0.0.1' },
        channels: [
          { id: 'yard', name: 'Yard', main: { url: h265.url }, recording: { mode: 'off' }, username: sim.username, password: sim.password, onvif: { host: '127.0.0.1', port: sim.port, events: false } },
          { id: 'drive', name: 'Drive', main: { url: h265.url }, sub: { url: h264.url }, recording: { mode: 'off' } },
        ],
      }),
    );
    const common = ['--board', 'sim', '--var', varDir];
    const fw = startFirmware(common);
    t.teardown(() => void fw.child.kill('SIGKILL'));
    let status = '';
    await waitFor('both channels streaming', async () => {
      status = (await dvr(['status', '--json', ...common])).stdout;
      return (JSON.parse(status || '{"channels":[]}') as { channels: { state: string }[] }).channels.filter((c) => c.state === 'streaming').length === 2;
    }, 90_000).catch((e: Error) => {
      const cams = [h265, h264].map((c) => `${c.url}: ${c.proc.exitCode ?? c.proc.signalCode ?? 'running'}`).join(', ');
      throw new Error(`${e.message}\ncameras: ${cams}\nchannels: ${JSON.stringify((JSON.parse(status || '{}') as { channels?: unknown }).channels)}\nfirmware log: ${fw.logs.slice(-25).join('\n')}`);
    });

    const { page, problems } = await openBrowser(t, { viewport: { width: 1280, height: 800 }, expected: /status of 401/ });
    await page.goto(`https://127.0.0.1:${https}/`);
    await page.getByRole('heading', { name: 'Create the administrator account' }).waitFor();
    await page.fill('input[name=name]', INSTALLER.name);
    await page.fill('input[name=password]', INSTALLER.password);
    await page.fill('input[name=confirm]', INSTALLER.password);
    await page.click('button[type=submit]');
    await page.locator('#grid .tile[data-channel=yard]').waitFor();
    const supported = await page.evaluate(`MediaSource.isTypeSupported('video/mp4; codecs="hvc1.1.6.L93.B0"') || MediaSource.isTypeSupported('video/mp4; codecs="hev1.1.6.L93.B0"')`);
    t.equal(supported, false, 'this Chromium does not play H.265 through Media Source Extensions');

    type Yard = { loads: number; width: number; note: string; state: string; videoShown: boolean };
    const yard = () => page.evaluate(YARD) as Promise<Yard | null>;
    const first = await waitFor('the yard snapshot shown', async () => {
      const y = await yard();
      return y && y.loads >= 1 && y.width > 0 ? y : false;
    }, 30_000);
    t.equal(first.width, 320, "the picture is the camera's snapshot (320 pixels wide)");
    t.match(first.note, /^H\.265 does not play in this browser: snapshots every second — set the camera's sub stream to H\.264 for video$/, `the note says why: ${first.note}`);
    t.notOk(first.videoShown, 'the empty video is hidden under it');
    await waitFor('the status line', async () => /snapshot 320×240/.test((await yard())?.state ?? ''), 5_000);
    t.pass('the status line says what is shown');

    const served = sim.snapshotsServed;
    const l0 = (await yard())!.loads;
    await sleep(3200);
    const l1 = (await yard())!.loads;
    t.ok(l1 - l0 >= 2 && l1 - l0 <= 4, `the picture refreshes about once a second (${l1 - l0} new pictures in 3.2 s)`);
    t.ok(sim.snapshotsServed - served >= 2, `each from the camera (${sim.snapshotsServed - served} served)`);

    await page.evaluate(hidden(true));
    await sleep(300); // a request already under way may still land
    const h0 = (await yard())!.loads;
    await sleep(2500);
    t.equal((await yard())!.loads, h0, 'no picture is fetched while the tab is hidden');
    await page.evaluate(hidden(false));
    await waitFor('pictures again once the tab shows', async () => ((await yard())?.loads ?? 0) > h0, 5_000);
    t.pass('the tab shown again: pictures again');

    // Drive: the grid plays its H.264 sub stream; alone, its H.265 main gives way to the sub stream.
    const drive = `(() => { const v = document.querySelector('#grid .tile[data-channel=drive] video'); const s = document.querySelector('#grid .tile[data-channel=drive] .state'); return { ready: v.readyState, width: v.videoWidth, img: !!document.querySelector('#grid .tile[data-channel=drive] img'), state: s.textContent }; })()`;
    type Drive = { ready: number; width: number; img: boolean; state: string };
    await waitFor('drive playing in the grid', async () => ((await page.evaluate(drive)) as Drive).ready >= 2, 30_000);
    if (shots) await page.screenshot({ path: join(shots, 'live-snapshot-fallback.png') });
    await page.click('#grid .tile[data-channel=drive]');
    await waitFor('drive alone', async () => (await page.locator('#grid .tile').count()) === 1);
    const alone = await waitFor('drive alone playing', async () => {
      const d = (await page.evaluate(drive)) as Drive;
      return d.ready >= 2 ? d : false;
    }, 30_000);
    t.match(alone.state, /^H\.264 \d+×\d+ \(sub stream: the main stream does not play in this browser\)$/, `its sub stream plays as video instead: ${alone.state}`);
    t.notOk(alone.img, 'no snapshots where video plays');

    // Leaving the live view stops the pictures.
    await page.click('#grid .tile[data-channel=drive]');
    await page.locator('#grid .tile[data-channel=yard] img.snapshot').waitFor();
    await page.click('nav button[data-view=settings]');
    await sleep(1500);
    const left = sim.snapshotsServed;
    await sleep(2500);
    t.equal(sim.snapshotsServed, left, 'no picture is fetched once the live view is left');
    t.same(problems, [], 'no script error or CSP violation in the page');
  });
}
