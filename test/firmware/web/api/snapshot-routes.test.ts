// The live view's snapshot route against a WebService alone, with the ONVIF
// camera simulator as an IP channel's camera (a real JPEG behind HTTP
// Digest): the picture decodes, rights and unknown channels are refused,
// viewers asking at once share one request to the camera, and a camera that
// is down, or refuses the login, is said in words without its password while
// the box goes on serving.
import t from 'tap';
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { systemClock } from '../../../../firmware/core/clock.js';
import { Logger } from '../../../../firmware/core/log.js';
import { OnvifCamera } from '../../../../firmware/onvif/camera.js';
import { LiveSnapshots } from '../../../../firmware/snapshots/live.js';
import { channelSnapshotSource } from '../../../../firmware/wiring/snapshots.js';
import type { WebService } from '../../../../firmware/web/web-service.js';
import { OnvifCameraSim } from '../../../fixtures/onvif-camera/simulator.js';
import { freePort } from '../../../helpers/firmware.js';
import { adminAndClerk, startWeb } from '../web-service.js';

const run = promisify(execFile);
const WRONG = 'Not-The-Cam-Pass-7';
const DOWN = 'Down-Cam-Secret-9';

/** A GET of raw bytes (the caller helper reads JSON). */
function get(web: WebService, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; type: string; cache: string; body: Buffer }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: web.ports!.https, path, ca: web.certificate!.cert, servername: 'localhost', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), cache: String(res.headers['cache-control']), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}
const json = (r: { body: Buffer }) => JSON.parse(r.body.toString()) as { error: { code: string; message: string } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a channel snapshot for the live view', async (t) => {
  const sim = new OnvifCameraSim({ streams: { main: { uri: 'rtsp://127.0.0.1:1/main', width: 320, height: 240 }, sub: { uri: 'rtsp://127.0.0.1:1/sub', width: 320, height: 240 } }, discoveryPort: null });
  await sim.start();
  t.teardown(() => sim.stop());
  const deadPort = await freePort();
  const ip = (id: string, extra: object) => ({ id, name: id, main: { url: `rtsp://127.0.0.1:1/${id}` }, ...extra });
  const onvifAt = (port: number) => ({ host: '127.0.0.1', port, events: false });
  const channels = [
    ip('cam1', { username: sim.username, password: sim.password, onvif: onvifAt(sim.port) }),
    ip('nosnap', {}),
    ip('down', { username: 'admin', password: DOWN, onvif: onvifAt(deadPort) }),
    ip('wrong', { username: sim.username, password: WRONG, onvif: onvifAt(sim.port) }),
    ip('off', { enabled: false, username: sim.username, password: sim.password, onvif: onvifAt(sim.port) }),
  ];

  // As in the firmware: the web service starts first, the snapshot source (a camera per ONVIF channel, as wireOnvif makes them) after.
  let live: LiveSnapshots | undefined;
  const { web, config, dir } = await startWeb({ snapshots: () => live });
  t.teardown(() => web.stop());
  await config.set('channels', channels);
  const { call, admin, clerk } = await adminAndClerk(web);
  const early = await get(web, '/api/v1/channels/cam1/snapshot.jpg', admin);
  t.equal(early.status, 503, 'while the box is starting: 503');
  t.match(json(early).error.message, /not available yet/);
  const lines: string[] = [];
  const log = new Logger('live-snapshots', { level: 'debug', sink: (_r, line) => lines.push(line) });
  const onvif = new Map<string, OnvifCamera>();
  for (const c of config.get().channels) {
    if (c.onvif) onvif.set(c.id, new OnvifCamera({ host: c.onvif.host, port: c.onvif.port, username: c.username ?? '', password: c.password ?? '', timeoutMs: 3000, log }));
  }
  live = new LiveSnapshots({ source: channelSnapshotSource({ config, onvif }), clock: systemClock, log });
  // A viewer who may watch only the channel without a snapshot source live, and play cam1 back.
  await web.users!.addUser('gate', 'viewer', 'Yard-Watch-2026', { nosnap: ['live'], cam1: ['playback'] });
  const gate = { cookie: (await call('POST', '/api/v1/login', {}, { name: 'gate', password: 'Yard-Watch-2026' })).cookie };

  const shot = await get(web, '/api/v1/channels/cam1/snapshot.jpg', admin);
  t.equal(shot.status, 200, 'an admin gets the picture');
  t.equal(shot.type, 'image/jpeg');
  t.equal(shot.cache, 'no-store', 'never cached by the browser');
  t.same([...shot.body.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
  const file = join(dir, 'shot.jpg');
  writeFileSync(file, shot.body);
  const probe = JSON.parse((await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file])).stdout) as { streams: object[] };
  t.match(probe.streams, [{ codec_name: 'mjpeg', width: 320, height: 240 }], 'ffprobe decodes it: 320×240');
  t.equal((await get(web, '/api/v1/channels/cam1/snapshot.jpg', clerk)).status, 200, 'an operator (live right on every channel) too');

  t.equal((await get(web, '/api/v1/channels/cam1/snapshot.jpg')).status, 401, 'no session: 401');
  const refused = await get(web, '/api/v1/channels/cam1/snapshot.jpg', gate);
  t.equal(refused.status, 403, 'a viewer with playback but not live on the channel: 403');
  t.match(json(refused).error.message, /no live right on channel cam1/);
  t.equal((await get(web, '/api/v1/channels/nosuch/snapshot.jpg', admin)).status, 404, 'an unknown channel: 404');
  t.equal((await get(web, '/api/v1/channels/off/snapshot.jpg', admin)).status, 404, 'a disabled channel: 404');

  const none = await get(web, '/api/v1/channels/nosnap/snapshot.jpg', gate);
  t.equal(none.status, 503, 'a channel without a snapshot source: 503 (seen by a viewer with the live right on it)');
  t.match(json(none).error, { code: 'no-snapshot', message: /ONVIF address/ }, `said in words: ${json(none).error.message}`);

  // Ten viewers at once, after the last picture has aged: one request to the camera.
  await sleep(1000);
  const before = sim.snapshotsServed;
  const many = await Promise.all(Array.from({ length: 10 }, () => get(web, '/api/v1/channels/cam1/snapshot.jpg', admin)));
  t.same(many.map((r) => r.status), Array(10).fill(200), 'ten viewers all get the picture');
  t.equal(sim.snapshotsServed - before, 1, 'the camera served one picture for ten viewers');
  t.equal((await get(web, '/api/v1/channels/cam1/snapshot.jpg', admin)).status, 200);
  t.equal(sim.snapshotsServed - before, 1, 'a viewer right after gets the same picture');
  await sleep(1000);
  t.equal((await get(web, '/api/v1/channels/cam1/snapshot.jpg', admin)).status, 200);
  t.equal(sim.snapshotsServed - before, 2, 'a second later the camera is asked again: the picture is fresh');

  const down = await get(web, '/api/v1/channels/down/snapshot.jpg', admin);
  t.equal(down.status, 502, 'a camera that does not answer: 502');
  t.match(json(down).error, { code: 'snapshot-failed', message: /^no picture from channel down: / }, `said in words: ${json(down).error.message}`);
  t.notMatch(down.body.toString(), DOWN, 'without its password');
  const wrong = await get(web, '/api/v1/channels/wrong/snapshot.jpg', admin);
  t.equal(wrong.status, 502, 'a camera refusing the login: 502');
  t.match(json(wrong).error.message, /password|unauthori[sz]ed|refused/i, `said in words: ${json(wrong).error.message}`);
  t.notMatch(wrong.body.toString(), WRONG, 'the wrong password is not echoed');

  // The camera powered off, then back: the error in words, then pictures again; the box serves throughout.
  await sim.stop();
  await sleep(1000);
  const off = await get(web, '/api/v1/channels/cam1/snapshot.jpg', admin);
  t.equal(off.status, 502, 'the camera switched off: 502');
  t.match(json(off).error.message, /no picture from channel cam1: /, json(off).error.message);
  t.notMatch(off.body.toString(), sim.password, 'without its password');
  t.equal((await get(web, '/healthz')).status, 200, 'the box still answers');
  await sim.start();
  await sleep(1000);
  const back = await get(web, '/api/v1/channels/cam1/snapshot.jpg', admin);
  t.equal(back.status, 200, 'the camera back: pictures again');
  t.same([...back.body.subarray(0, 2)], [0xff, 0xd8]);
  t.ok(lines.some((l) => l.includes('live snapshot failed')), 'failures are logged');
  t.notMatch(lines.join('\n'), new RegExp(`${DOWN}|${WRONG}|${sim.password}`), 'no password in the log');
});
