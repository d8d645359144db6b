/**
 * The page's live view and playback in Debian's Chromium, against the
 * firmware (compiled CLI, sim board) with one GStreamer camera:
 *
 * - Live latency: capture time of each frame (the camera's RTCP wall clock,
 *   carried as the init message's startUs + the frame's media time) to its
 *   presentation in the page's <video> (requestVideoFrameCallback), p50/p99.
 *   Reference in the same run: the same frames' arrival at a plain
 *   WebSocket client in this process (capture to socket receipt); the
 *   difference is what MSE and the browser add.
 * - Live start: a layout button's click to the first frame presented in
 *   the new tile, p50/p99 over repeated clicks (target under 1 s).
 * - Timeline click to the first recorded frame presented, p50/p99 over
 *   repeated clicks.
 * - The page's size: its files gzipped, as the firmware serves them.
 *
 *   node dist/scripts/bench/web-live.js [seconds=20] [clicks=20]
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_VERSION } from '../../firmware/config/schema.js';
import { loadPageAssets, pageBytes } from '../../firmware/web/page-assets.js';
import { pct, startBenchCamera } from './camera-harness.js';
import { machine } from './storage-bench-disk.js';

const seconds = Number(process.argv[2] ?? 20);
const clicks = Number(process.argv[3] ?? 20);
const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../../firmware/cli/dvr.js');
const pageDir = resolve(here, '../../firmware/web/page');
const CHROMIUM = '/usr/bin/chromium';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

function post(port: number, path: string, body: unknown): Promise<{ status: number; cookie: string }> {
  return new Promise((res, rej) => {
    const r = request({ host: '127.0.0.1', port, path, method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (m) => {
      m.resume();
      m.on('end', () => res({ status: m.statusCode!, cookie: String(m.headers['set-cookie']?.[0] ?? '').split(';')[0]! }));
    });
    r.on('error', rej);
    r.end(JSON.stringify(body));
  });
}

/** Capture → receipt of each frame at a raw WebSocket client: the reference. */
function socketClient(port: number, cookie: string, out: number[]): () => void {
  const key = randomBytes(16).toString('base64');
  let buf = Buffer.alloc(0);
  let startUs = 0;
  // The first GOP a joiner gets is the feed's held one, already seconds old: not latency, so not counted.
  const countFrom = Date.now() + 2500;
  const req = request({ host: '127.0.0.1', port, path: '/api/v1/live/cam1/main', rejectUnauthorized: false, headers: { cookie, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': key } });
  req.on('upgrade', (res, socket) => {
    if (res.headers['sec-websocket-accept'] !== createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')) throw new Error('bad accept');
    socket.on('data', (d: Buffer) => {
      const now = Date.now();
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1]! & 0x7f;
        let at = 2;
        if (len === 126) (len = buf.length >= 4 ? buf.readUInt16BE(2) : -1), (at = 4);
        else if (len === 127) (len = buf.length >= 10 ? Number(buf.readBigUInt64BE(2)) : -1), (at = 10);
        if (len < 0 || buf.length < at + len) return;
        const op = buf[0]! & 0x0f;
        const payload = buf.subarray(at, at + len);
        buf = buf.subarray(at + len);
        if (op === 1) startUs = (JSON.parse(payload.toString()) as { startUs: number }).startUs;
        else if (op === 2 && startUs) {
          // A media segment: its tfdt (version 1, 64-bit, 90 kHz) is the frame's media time.
          const i = payload.indexOf('tfdt');
          if (i > 0 && now >= countFrom) out.push(now - (startUs / 1000 + Number(payload.readBigUInt64BE(i + 8)) / 90));
        }
      }
    });
  });
  req.end();
  return () => req.destroy();
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM}: run make deps-test`);
  const { chromium } = await import('playwright-core');
  console.log(`machine: ${machine()}`);
  const camera = await startBenchCamera();
  const varDir = mkdtempSync(join(tmpdir(), 'bench-web-'));
  const https = await freePort();
  mkdirSync(join(varDir, 'data', 'config'), { recursive: true });
  writeFileSync(
    join(varDir, 'data', 'config', 'config.json'),
    JSON.stringify({
      version: CONFIG_VERSION,
      network: { httpPort: await freePort(), httpsPort: https, rtspPort: await freePort(), bindAddress: '127.0.0.1' },
      channels: [{ id: 'cam1', name: 'Bench', main: { url: camera.url }, recording: { mode: 'continuous' } }],
    }),
  );
  const fw = spawn(process.execPath, [cli, 'start', '--board', 'sim', '--var', varDir], { stdio: ['ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore', 'inherit'] });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    let setup = { status: 0, cookie: '' };
    for (let i = 0; i < 100 && setup.status !== 201; i++) {
      setup = await post(https, '/api/v1/setup', { name: 'measure', password: 'Latency-Probe-2026' }).catch(() => ({ status: 0, cookie: '' }));
      if (setup.status !== 201) await sleep(300);
    }
    if (setup.status !== 201) throw new Error(`the firmware did not come up (setup answered ${setup.status})`);
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const [name, value] = setup.cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, domain: '127.0.0.1', path: '/', secure: true, httpOnly: true, sameSite: 'Strict' }]);
    const page = await context.newPage();
    await page.goto(`https://127.0.0.1:${https}/`);
    await page.waitForSelector('#grid .tile[data-channel=cam1] video');
    // Polled with evaluate: waitForFunction compiles its predicate with eval, which the page's CSP forbids.
    for (let i = 0; i < 600 && !(await page.evaluate(`document.querySelector('#grid video').readyState >= 2`)); i++) await sleep(100);
    await sleep(2000);

    const receipt: number[] = [];
    const stop = socketClient(https, setup.cookie, receipt);
    const presented = (await page.evaluate(`new Promise((done) => {
      const v = document.querySelector('#grid .tile[data-channel=cam1] video');
      const out = [];
      const end = performance.now() + ${seconds * 1000};
      const each = (now, meta) => {
        const start = Number(v.dataset.startUs);
        out.push(performance.timeOrigin + meta.presentationTime - (start / 1000 + meta.mediaTime * 1000));
        if (now < end) v.requestVideoFrameCallback(each); else done(out);
      };
      v.requestVideoFrameCallback(each);
    })`)) as number[];
    stop();
    const r50 = pct(receipt, 50);
    const p50 = pct(presented, 50);
    console.log(`live, capture → socket receipt (reference): p50 ${r50.toFixed(1)} ms, p99 ${pct(receipt, 99).toFixed(1)} ms over ${receipt.length} frames`);
    console.log(`live, capture → presented in Chromium: p50 ${p50.toFixed(1)} ms, p99 ${pct(presented, 99).toFixed(1)} ms over ${presented.length} frames (target p50 < 500 ms)`);
    console.log(`live, what MSE and the browser add: p50 ${(p50 - r50).toFixed(1)} ms (presented / receipt p50 = ${(p50 / r50).toFixed(2)})`);

    // Live start: a layout button builds new tiles with new players; from the click to the first frame presented.
    const starts: number[] = [];
    for (let i = 0; i < clicks; i++) {
      const ms = (await page.evaluate(`new Promise((done, fail) => {
        const t0 = performance.now();
        document.querySelector('button[data-layout="${i % 2 === 0 ? 1 : 4}"]').click();
        const v = document.querySelector('#grid .tile[data-channel=cam1] video');
        if (!v) return fail(new Error('no cam1 tile after the layout click'));
        v.requestVideoFrameCallback((now) => done(now - t0));
      })`)) as number;
      starts.push(ms);
      await sleep(500);
    }
    console.log(`live, layout click → first frame presented: p50 ${pct(starts, 50).toFixed(0)} ms, p99 ${pct(starts, 99).toFixed(0)} ms over ${clicks} clicks (target < 1000 ms)`);

    await page.click('nav button[data-view=playback]');
    await page.click('button[data-window="600000"]');
    await page.waitForSelector('#timeline[data-window="600000"] .segment');
    const times: number[] = [];
    for (let i = 0; i < clicks; i++) {
      const ms = (await page.evaluate(`new Promise((done) => {
        const seg = document.querySelector('#timeline[data-window="600000"] .segment').getBoundingClientRect();
        const v = document.getElementById('playback-video');
        const x = seg.left + seg.width * (0.1 + 0.8 * ${i / Math.max(1, clicks - 1)});
        const t0 = performance.now();
        document.getElementById('timeline').dispatchEvent(new MouseEvent('click', { clientX: x, clientY: seg.top + 2, bubbles: true }));
        v.requestVideoFrameCallback((now) => done(now - t0));
      })`)) as number;
      times.push(ms);
      await sleep(300);
    }
    console.log(`playback, timeline click → first frame presented: p50 ${pct(times, 50).toFixed(0)} ms, p99 ${pct(times, 99).toFixed(0)} ms over ${clicks} clicks (target < 300 ms)`);
  } finally {
    await browser.close();
    fw.kill('SIGTERM');
    camera.proc.kill('SIGTERM');
    await new Promise((r) => fw.once('exit', r));
    rmSync(varDir, { recursive: true, force: true });
  }
  // Measured as the firmware holds and serves them.
  const assets = await loadPageAssets(pageDir);
  if (!(assets instanceof Map)) throw new Error(`the page is not built: ${assets.missing} missing`);
  const { raw, gzip: gz } = pageBytes(assets);
  console.log(`page assets: ${(raw / 1024).toFixed(1)} KiB, gzipped ${(gz / 1024).toFixed(1)} KiB (target < 300 KB)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
