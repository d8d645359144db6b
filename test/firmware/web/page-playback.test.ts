// The live view's layouts, sound, full screen and digital zoom, and
// playback's controls, in Debian's Chromium against the firmware on the sim
// board recording two GStreamer test cameras (one with AAC sound) for a
// little over a minute. What a user would check: grids play sub streams and
// a channel alone its main stream; the sound plays beside the video; full
// screen fills the screen with the grid; the zoom buttons, the wheel and a
// drag enlarge and move the picture; a time zone that is none is stopped;
// the log downloads; the timeline shows the recording and the gap before it; a
// typed time plays from that second; 1× plays in real time and 16× sixteen
// times faster through the whole recorded minute; pause holds the picture
// and each frame step shows the next frame; a drag along the timeline plays
// from where it is let go; a chosen minute exports as a minute that ffprobe
// reads; an event's Play opens the recording at that moment.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CONFIG_VERSION } from '../../../firmware/config/schema.js';
import { dvr, freePort, startFirmware, waitFor } from '../../helpers/firmware.js';
import { startCamera } from '../media/rtsp/camera.js';
import { browserReady, openBrowser, shots } from './browser.js';
import { INSTALLER } from './web-service.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Run in the page (strings: the tests are type-checked without the DOM library).
/** The playback picture: its wall-clock position (ms), whether it plays, and a hash of what it shows. */
const PLAYBACK = `(() => {
  const v = document.getElementById('playback-video');
  const tile = document.querySelector('#playback-grid .sync-tile');
  let hash = 0;
  if (v.readyState >= 2) {
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 48;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0, 64, 48);
    for (const b of g.getImageData(0, 0, 64, 48).data) hash = (hash * 31 + b) | 0;
  }
  return { at: Number(tile.dataset.position || 0), ready: v.readyState, paused: v.paused, seeking: v.seeking, time: v.currentTime, hash };
})()`;
/** A time (ms) as a datetime-local input takes it, in the browser's own time zone. */
const localValue = (ms: number) => `(() => { const d = new Date(${ms}); return new Date(${ms} - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19); })()`;

if (browserReady(t, 'playback.js')) {
  t.setTimeout(300_000);

  t.test('full screen, digital zoom, logs, and every playback control over a recorded minute', async (t) => {
    const camera = await startCamera();
    t.teardown(() => camera.stop());
    // cam2's camera sends AAC audio beside its H.264.
    const talking = await startCamera({ audio: true });
    t.teardown(() => talking.stop());
    const varDir = mkdtempSync(join(tmpdir(), 'dvr-playback-'));
    mkdirSync(join(varDir, 'data', 'config'), { recursive: true });
    const https = await freePort();
    writeFileSync(
      join(varDir, 'data', 'config', 'config.json'),
      JSON.stringify({
        version: CONFIG_VERSION,
        network: { httpPort: await freePort(), httpsPort: https, rtspPort: await freePort(), bindAddress: '127.0.0.1' },
        channels: [
          // cam1 has a sub stream (the same camera's, for the test): grids play it, cam1 alone plays its main stream.
          { id: 'cam1', name: 'Front door', main: { url: camera.url }, sub: { url: camera.url }, recording: { mode: 'continuous' } },
          { id: 'cam2', name: 'Drive', main: { url: talking.url }, recording: { mode: 'continuous' } },
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
    }, 120_000).catch((e: Error) => {
      throw new Error(`${e.message}\nchannels: ${JSON.stringify((JSON.parse(status || '{}') as { channels?: unknown }).channels)}\nfirmware log: ${fw.logs.slice(-25).join('\n')}`);
    });

    // The first visit's 401 (who is logged in?) is an answer the page asked for.
    const { page, problems } = await openBrowser(t, { viewport: { width: 1280, height: 800 }, expected: /status of 401/ });
    const url = `https://127.0.0.1:${https}/`;
    await page.goto(url);
    await page.getByRole('heading', { name: 'Create the administrator account' }).waitFor();
    await page.fill('input[name=name]', INSTALLER.name);
    await page.fill('input[name=password]', INSTALLER.password);
    await page.fill('input[name=confirm]', INSTALLER.password);
    await page.click('button[type=submit]');
    const ready = (channel: string) => page.evaluate(`document.querySelector('#grid .tile[data-channel=${channel}] video')?.readyState ?? 0`) as Promise<number>;
    await waitFor('both tiles playing', async () => (await ready('cam1')) >= 2 && (await ready('cam2')) >= 2, 30_000);
    // H.264 with AAC through Media Source Extensions: Chromium decodes the sound too (muted, as a grid is).
    const audio = () => page.evaluate(`document.querySelector('#grid .tile[data-channel=cam2] video').webkitAudioDecodedByteCount`) as Promise<number | undefined>;
    await waitFor('cam2 sound decoded', async () => ((await audio()) ?? 0) > 0, 15_000).catch(() => undefined);
    t.ok(((await audio()) ?? 0) > 0, `cam2's AAC plays in Chromium beside its H.264 (${await audio()} bytes decoded)`);
    const streams = async () => (await page.evaluate(`[...document.querySelectorAll('#grid .tile')].map((x) => x.dataset.stream ? x.dataset.channel + ':' + x.dataset.stream : '-')`)) as string[];
    t.same(await streams(), ['cam1:sub', 'cam2:main', '-', '-'], 'the 2×2 grid plays the sub stream of a channel that has one');

    // Layouts: 3×3 and 4×4 place the two channels first; 1 shows one channel's main stream with paging to the next.
    for (const [n, want] of [[9, ['cam1:sub', 'cam2:main', ...Array(7).fill('-')]], [16, ['cam1:sub', 'cam2:main', ...Array(14).fill('-')]], [1, ['cam1:main']]] as const) {
      await page.click(`button[data-layout="${n}"]`);
      t.same(await streams(), want, `layout ${n}: ${want.filter((x) => x !== '-').join(', ')}`);
    }
    const clickedAt = Date.now();
    await waitFor('layout 1 playing', async () => (await ready('cam1')) >= 2, 30_000);
    t.comment(`layout 1: cam1's main stream showing ${Date.now() - clickedAt} ms after the last layout click (test-side polling)`);
    await page.getByRole('button', { name: '›' }).click();
    t.same(await streams(), ['cam2:main'], 'the next page of layout 1 is the next channel');
    await page.click('button[data-layout="4"]');
    await waitFor('both tiles playing again', async () => (await ready('cam1')) >= 2 && (await ready('cam2')) >= 2, 30_000);

    // Full screen: the grid fills the screen, Esc (here: the page leaving it) gives the window back.
    await page.click('#full-screen');
    await waitFor('the grid full screen', async () => (await page.evaluate(`document.fullscreenElement?.id ?? null`)) === 'grid', 5_000);
    t.pass('Full screen puts the grid on the whole screen');
    await page.evaluate(`document.exitFullscreen()`);
    await waitFor('full screen left', async () => (await page.evaluate(`document.fullscreenElement`)) === null, 5_000);

    // Digital zoom of a channel alone: the picture's box grows past the tile, moves under a drag, and comes back whole.
    await page.click('#grid .tile[data-channel=cam1]');
    await waitFor('cam1 alone, playing', async () => (await page.locator('#grid .tile').count()) === 1 && (await ready('cam1')) >= 2, 30_000);
    t.equal(await page.locator('#grid .tile[data-channel=cam2]').count(), 0, 'the grid has gone');
    const box = (sel: string) => page.evaluate(`(() => { const r = document.querySelector('${sel}').getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; })()`) as Promise<{ x: number; y: number; w: number; h: number }>;
    const tileBox = await box('#grid .tile');
    const whole = await box('#grid .tile video');
    await page.click('#zoom-in');
    await page.click('#zoom-in');
    const zoomed = await box('#grid .tile video');
    t.ok(Math.abs(zoomed.w / whole.w - 1.5625) < 0.01, `two clicks on + zoom the picture 1.25² times (${(zoomed.w / whole.w).toFixed(3)}×)`);
    await page.mouse.move(tileBox.x + tileBox.w * 0.75, tileBox.y + tileBox.h * 0.5);
    await page.mouse.wheel(0, -120);
    await waitFor('the wheel zooming in', async () => (await box('#grid .tile video')).w > zoomed.w * 1.2, 5_000);
    const wheeled = await box('#grid .tile video');
    t.pass(`the wheel zooms further, at the pointer (${(wheeled.w / whole.w).toFixed(2)}×)`);
    await page.mouse.move(tileBox.x + tileBox.w * 0.5, tileBox.y + tileBox.h * 0.5);
    await page.mouse.down();
    await page.mouse.move(tileBox.x + tileBox.w * 0.5 + 150, tileBox.y + tileBox.h * 0.5, { steps: 5 });
    await page.mouse.up();
    const dragged = await box('#grid .tile video');
    t.ok(dragged.x > wheeled.x + 50, `a drag to the right moves the zoomed picture right (${wheeled.x.toFixed(0)} → ${dragged.x.toFixed(0)})`);
    t.equal(await page.locator('#grid .tile').count(), 1, 'and is not a click: the channel stays alone');
    if (shots) await page.screenshot({ path: join(shots, 'live-zoom.png') });
    await page.click('#zoom-out');
    t.ok((await box('#grid .tile video')).w < dragged.w, '− zooms out');
    await page.click('#zoom-reset');
    const back = await box('#grid .tile video');
    t.ok(Math.abs(back.w - whole.w) < 1 && Math.abs(back.x - whole.x) < 1, '1× shows the whole picture again');
    await page.click('#grid .tile[data-channel=cam1]');
    await waitFor('the grid back', async () => (await page.locator('#grid .tile[data-channel]').count()) === 2);

    // The time zone: a name that is no zone is stopped in the page; a real one is the box's setting.
    await page.click('nav button[data-view=settings]');
    await page.click('button[data-section=system]');
    const zone = page.locator('input[name="system.timezone"]');
    t.equal(await zone.getAttribute('list'), 'timezones', 'the time zone is picked from the zones the browser knows');
    await zone.fill('Mars/Olympus_Mons');
    await zone.press('Tab');
    const zoneNote = page.locator('label.setting:has(input[name="system.timezone"]) .note-inline');
    t.match(await zoneNote.textContent(), /^Mars\/Olympus_Mons is not a time zone/, 'an unknown zone is refused in the page, saying why');
    await sleep(500);
    t.match((await dvr(['config', 'get', 'system.timezone', ...common])).stdout, /UTC/, 'and not sent');
    await zone.fill('Europe/Paris');
    await zone.press('Tab');
    await waitFor('the zone saved', async () => (await zoneNote.textContent()) === 'saved', 15_000);
    t.match((await dvr(['config', 'get', 'system.timezone', ...common])).stdout, /Europe\/Paris/, '`dvr config get` shows the zone chosen in the page');

    // The log as a file from the maintenance tab.
    await page.click('button[data-section=maintenance]');
    const [logFile] = await Promise.all([page.waitForEvent('download'), page.click('#logs')]);
    const logPath = join(varDir, 'log.jsonl');
    await logFile.saveAs(logPath);
    const records = readFileSync(logPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    t.ok(records.length > 5 && records.some((r) => /web listening/.test(JSON.stringify(r))), `the log downloads as JSON lines (${records.length} records, ${logFile.suggestedFilename()})`);
    t.match(logFile.suggestedFilename(), /-log-\d{8}T\d{6}\.jsonl$/);

    // A recorded minute and a little more.
    type Span = { start: number; end: number };
    const recorded = async () => ((await page.evaluate(`fetch('/api/v1/recordings/cam1?from=-10m&to=now').then((r) => r.json())`)) as { segments: Span[] }).segments;
    const longest = await waitFor('65 s recorded on cam1', async () => {
      const s = (await recorded()).sort((a, b) => b.end - b.start - (a.end - a.start))[0];
      return s && s.end - s.start > 65e6 ? s : false;
    }, 150_000);
    await page.click('nav button[data-view=playback]');
    await page.click('button[data-window="600000"]');
    await page.locator('#timeline[data-window="600000"] .segment').first().waitFor();
    const firstGap = page.locator('#timeline .gap').first();
    await firstGap.waitFor({ state: 'attached' });
    const segStart = Number(await page.locator('#timeline .segment').first().getAttribute('data-start'));
    t.equal(Number(await firstGap.getAttribute('data-end')), segStart, 'the timeline marks the gap before the recording began, up to its first frame');

    const playback = () => page.evaluate(PLAYBACK) as Promise<{ at: number; ready: number; paused: boolean; seeking: boolean; time: number; hash: number }>;
    // Jump to a time: a whole second inside the recording, typed.
    const target = Math.ceil(longest.start / 1e6) * 1000 + 3000;
    await page.fill('input[name=goto]', (await page.evaluate(localValue(target))) as string);
    await page.click('#goto');
    const landed = await waitFor('playing from the typed time', async () => {
      const p = await playback();
      return p.ready >= 2 && p.at > 0 ? p : false;
    }, 15_000);
    t.ok(landed.at >= target - 100 && landed.at < target + 1500, `Go to plays from the typed second (${landed.at - target} ms after it)`);
    if (shots) await page.screenshot({ path: join(shots, 'playback-controls.png') });

    // 1×: real time.
    const a0 = await playback();
    await sleep(2000);
    const a1 = await playback();
    const real = (a1.at - a0.at) / 2000;
    t.ok(real > 0.6 && real < 1.5, `1× plays in real time (${real.toFixed(2)}×)`);

    // Pause holds the picture; each frame step shows the next frame, one 25 fps frame later.
    await page.click('#pause');
    await sleep(600);
    const held = await playback();
    await sleep(1000);
    const still = await playback();
    t.ok(still.paused && still.at === held.at && still.hash === held.hash, 'paused: the picture and its time hold');
    let prev = still;
    for (let i = 0; i < 3; i++) {
      await page.click('#step');
      const next = await waitFor('the next frame', async () => {
        const p = await playback();
        // A step is a seek: the picture is the new frame only once the seek has finished.
        return p.at !== prev.at && p.ready >= 2 && !p.seeking ? p : false;
      }, 5_000);
      t.ok(next.at - prev.at >= 30 && next.at - prev.at <= 50, `frame step ${i + 1}: ${next.at - prev.at} ms later`);
      t.not(next.hash, prev.hash, `frame step ${i + 1}: a different picture (the ball moved)`);
      prev = next;
    }
    await page.click('#pause');
    await waitFor('playing again', async () => !(await playback()).paused, 5_000);

    // 16×: the rest of the recorded minute in a few seconds.
    await page.click('button[data-speed="16"]');
    const f0 = await waitFor('16× under way', async () => {
      const p = await playback();
      return p.ready >= 2 && !p.paused && p.at > 0 ? p : false;
    }, 15_000);
    await sleep(2000);
    const f1 = await playback();
    const fast = (f1.at - f0.at) / 2000;
    t.ok(fast > 8, `16× plays many times faster than real time (${fast.toFixed(1)}×)`);
    await waitFor('the whole recorded minute played', async () => (await playback()).at >= target + 60_000, 20_000);
    t.pass('playback went through the recorded minute from the typed time on');
    await page.click('button[data-speed="1"]');

    // Scrubbing: press on the timeline, drag, let go: it plays from where it was let go.
    const tl = await box('#timeline');
    const windowEnd = Number(await page.getAttribute('#timeline', 'data-end'));
    const x = (ms: number) => tl.x + ((ms - (windowEnd - 600_000)) / 600_000) * tl.w;
    const from = target + 5_000;
    const to = target + 40_000;
    await page.mouse.move(x(from), tl.y + tl.h / 2);
    await page.mouse.down();
    await page.mouse.move(x((from + to) / 2), tl.y + tl.h / 2, { steps: 4 });
    const during = await page.textContent('#position');
    await page.mouse.move(x(to), tl.y + tl.h / 2, { steps: 4 });
    await page.mouse.up();
    t.match(during, /\d{1,2}:\d{2}:\d{2}/, `the clock follows the drag (${during})`);
    const perPixel = 600_000 / tl.w;
    const scrubbed = await waitFor('playing from where the drag ended', async () => {
      const p = await playback();
      return p.ready >= 2 && Math.abs(p.at - to) < 5_000 ? p : false;
    }, 15_000);
    t.ok(Math.abs(scrubbed.at - to) < 2 * perPixel + 2_500, `the drag plays from where it was let go (${scrubbed.at - to} ms from it; a pixel is ${perPixel.toFixed(0)} ms)`);

    // Export of a chosen minute.
    await page.fill('input[name=export-from]', (await page.evaluate(localValue(target))) as string);
    await page.fill('input[name=export-to]', (await page.evaluate(localValue(target + 60_000))) as string);
    await page.evaluate(`for (const n of ['export-from', 'export-to']) document.querySelector('input[name=' + n + ']').dispatchEvent(new Event('change'))`);
    const href = (await page.getAttribute('#export', 'href')) ?? '';
    const iso = (ms: number) => new Date(ms).toISOString();
    t.equal(href, `/api/v1/recordings/cam1/export.mp4?from=${iso(target)}&to=${iso(target + 60_000)}`, 'the export link is for the chosen minute');
    const head = (await page.evaluate(`fetch(${JSON.stringify(href)}).then(async (r) => r.status + ' ' + r.headers.get('content-type') + ' ' + (await r.arrayBuffer()).byteLength)`)) as string;
    t.match(head, /^200 video\/mp4 \d+$/, `the box answers the export with an MP4 (${head})`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const saved = join(varDir, 'minute.mp4');
    await download.saveAs(saved);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,width,nb_read_frames:format=duration', '-of', 'json', saved]);
    const probe = JSON.parse(stdout) as { streams: { codec_name: string; width: number; nb_read_frames: string }[]; format: { duration: string } };
    const seconds = Number(probe.format.duration);
    t.match(probe.streams[0], { codec_name: 'h264', width: 704 }, "ffprobe: the camera's H.264");
    // From the keyframe at or before the start (keyframes every 2 s) to the chosen end.
    t.ok(seconds >= 59.5 && seconds <= 62.5, `the export is the chosen minute (${seconds} s, ${probe.streams[0]!.nb_read_frames} frames)`);

    // An event's Play: the recording at that moment.
    await page.click('nav button[data-view=events]');
    await page.selectOption('select[name=event-type]', 'camera');
    await page.selectOption('select[name=event-channel]', 'cam1');
    const oldest = page.locator('#events tbody tr button[data-play]').last();
    await oldest.waitFor();
    const eventAt = Number(await oldest.getAttribute('data-play'));
    if (shots) await page.screenshot({ path: join(shots, 'events.png') });
    await oldest.click();
    const opened = await waitFor('the event played', async () => {
      const p = await playback();
      return p.ready >= 2 && p.at > 0 ? p : false;
    }, 15_000);
    t.equal(await page.locator('select[name=channel]').inputValue(), 'cam1', "the event's channel");
    // Play starts 5 s before the event; the camera's first recorded keyframe may come up to a GOP after it started streaming.
    t.ok(opened.at >= eventAt - 5_500 && opened.at <= eventAt + 4_000, `at the event's moment (${opened.at - eventAt} ms from it)`);

    t.same(problems, [], 'no script error or CSP violation in the page');
    fw.child.kill('SIGTERM');
    t.equal((await fw.exited).code, 0, 'the firmware stops cleanly');
  });
}
