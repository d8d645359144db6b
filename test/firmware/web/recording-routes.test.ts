// The page's read side of the store over HTTPS and WebSocket: the timeline,
// the MP4 download (judged by ffprobe) and playback from an exact moment,
// with a real RingStore holding ffmpeg-made H.264 recorded by the test.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { isoTime } from '../../../firmware/recordings/times.js';
import { ffprobe, tempDir } from '../media/helpers/ffmpeg.js';
import { openStore, record, sources, T0 } from '../recordings/helpers.js';
import { startWeb } from './web-service.js';
import { connect, type Client } from './ws/client.js';

const ADMIN_PW = 'Install-Er-2026';
const media = await tempDir(t);
const src = await sources(media, 6);

t.test('timeline, export and playback of a recorded channel', async (t) => {
  const { store, disks } = await openStore(2, 16);
  t.teardown(async () => {
    await store.stop();
    disks.cleanup();
  });
  await record(store, 'yard', { main: src.h264 });
  await store.flush();
  const { web, config } = await startWeb({ store: () => store });
  t.teardown(() => web.stop());
  await config.set('channels', [{ id: 'yard', name: 'Yard', main: { url: 'rtsp://127.0.0.1:1/x' } }, { id: 'gate', name: 'Gate', main: { url: 'rtsp://127.0.0.1:1/y' } }]);
  const port = web.ports!.https;
  const ca = web.certificate!.cert;
  const call = (method: string, path: string, cookie = '', body?: unknown) =>
    new Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, ca, servername: 'localhost', headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });
  const cookieOf = (r: { headers: Record<string, unknown> }) => String((r.headers['set-cookie'] as string[])[0]).split(';')[0]!;
  const admin = cookieOf(await call('POST', '/api/v1/setup', '', { name: 'installer', password: ADMIN_PW }));
  await web.users!.addUser('guard', 'viewer', 'Night-Shift-77', { gate: ['live', 'playback'] });
  const guard = cookieOf(await call('POST', '/api/v1/login', '', { name: 'guard', password: 'Night-Shift-77' }));

  const first = src.h264.frames[0]!.time;
  const last = src.h264.frames.at(-1)!.time;
  const q = (from: number, to: number) => `from=${isoTime(from)}&to=${isoTime(to)}`;

  const tl = await call('GET', `/api/v1/recordings/yard?${q(first - 60e6, last + 60e6)}`, admin);
  t.equal(tl.status, 200);
  const list = JSON.parse(tl.body.toString()) as { segments: { start: number; end: number }[] };
  t.equal(list.segments.length, 1, 'one recorded segment');
  t.ok(list.segments[0]!.start <= first + 1 && list.segments[0]!.end >= last - 1, 'covering what was recorded');

  t.equal((await call('GET', `/api/v1/recordings/yard?${q(first, last)}`, guard)).status, 403, 'a viewer without playback on yard: 403');
  t.equal((await call('GET', `/api/v1/recordings/gate/export.mp4?${q(first, last)}`, guard)).status, 403, 'a viewer without export on gate: 403');
  t.equal((await call('GET', `/api/v1/recordings/nope?${q(first, last)}`, admin)).status, 404, 'unknown channel: 404');
  const bad = await call('GET', `/api/v1/recordings/yard?from=2026-02-31T00:00:00Z&to=now`, admin);
  t.equal(bad.status, 400, 'an impossible date: 400');
  t.match(JSON.parse(bad.body.toString()), { error: { message: /2026-02-31/ } }, 'naming the bad time');
  t.equal((await call('GET', `/api/v1/recordings/yard?from=${encodeURIComponent('$(id)')}`, admin)).status, 400, 'shell text as a time: 400');
  t.equal((await call('GET', `/api/v1/recordings/yard/export.mp4?${q(T0 - 7200e6, T0 - 3600e6)}`, admin)).status, 404, 'export of a range with nothing recorded: a JSON 404, not an empty file');
  t.equal((await call('GET', `/api/v1/recordings/yard/export.mp4?${q(first, first + 2 * 86_400e6)}`, admin)).status, 400, 'an export over a day: 400');

  const dl = await call('GET', `/api/v1/recordings/yard/export.mp4?${q(first + 1_000_000, first + 4_000_000)}`, admin);
  t.equal(dl.status, 200, 'export: 200');
  t.match(dl.headers['content-disposition'], /^attachment; filename="yard-\d{8}T\d{6}Z\.mp4"$/, 'a download with a file name');
  const file = join(media, 'export.mp4');
  writeFileSync(file, dl.body);
  const p = await ffprobe(file, ['-count_frames']);
  t.match(p.streams[0], { codec_name: 'h264', width: 352, height: 288 }, 'ffprobe: the recorded H.264');
  const n = Number(p.streams[0]!.nb_read_frames);
  t.ok(n >= 75 && n <= 101, `about 3 s of 25 fps from the keyframe before the start (${n} frames)`);

  // Playback from a moment between two keyframes: the stream starts at the keyframe before it, and says so.
  const at = first + 2_500_000;
  const keyBefore = src.h264.frames.filter((f) => f.keyframe && f.time <= at).at(-1)!.time;
  const ws = (await connect(port, ca, `/api/v1/playback/yard?from=${isoTime(at)}&speed=32`, { cookie: admin })) as Client;
  t.equal(ws.refused, false, 'playback socket opened');
  await ws.until((m) => m.some((x) => 'text' in x && x.text.includes('"end"')), 20_000);
  const texts = ws.messages.filter((x): x is { text: string } => 'text' in x).map((x) => JSON.parse(x.text) as { type: string; startUs?: number });
  t.match(texts[0], { type: 'init', startUs: keyBefore }, 'init names the keyframe the stream starts at, so the page can seek to the asked moment');
  t.equal(texts.at(-1)!.type, 'end', 'the end of the recording is said');
  const bins = ws.messages.filter((x): x is { binary: Buffer } => 'binary' in x).map((x) => x.binary);
  const pf = join(media, 'playback.mp4');
  writeFileSync(pf, Buffer.concat(bins));
  const pp = await ffprobe(pf, ['-count_frames']);
  const keys = src.h264.frames.filter((f) => f.keyframe && f.time >= keyBefore).length;
  t.equal(Number(pp.streams[0]!.nb_read_frames), keys, `at 32x only keyframes are sent (${keys})`);
  await ws.closed;

  const refused = async (path: string, cookie: string) => {
    const r = await connect(port, ca, path, { cookie });
    return r.refused ? r.status : 101;
  };
  t.equal(await refused(`/api/v1/playback/yard?from=${isoTime(at)}&speed=3`, admin), 400, 'a speed that is not offered: 400');
  t.equal(await refused(`/api/v1/playback/yard?from=yesterday`, admin), 400, 'a time that is not one: 400');
  t.equal(await refused(`/api/v1/playback/yard?from=${isoTime(at)}`, guard), 403, 'no playback right: 403');
  t.equal(await refused(`/api/v1/playback/yard?from=${isoTime(at)}`, ''), 401, 'no session: 401');
  t.equal(web.playback!.sessionCount, 0, 'no playback left running');

  // Evidence locks: an operator locks a range, the timeline shows it, unlocking gives it back to the ring.
  const csrf = JSON.parse((await call('GET', '/api/v1/me', admin)).body.toString()).csrf as string;
  const lockCall = (method: string, path: string, cookie: string, body?: unknown) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, ca, servername: 'localhost', headers: { cookie, 'x-csrf-token': csrf, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : null }));
      });
      req.on('error', reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });
  const made = await lockCall('POST', '/api/v1/recordings/yard/locks', admin, { from: isoTime(first + 1e6), to: isoTime(first + 3e6), reason: 'break-in' });
  t.equal(made.status, 201, 'locked');
  const locks = JSON.parse((await call('GET', `/api/v1/recordings/yard?${q(first - 60e6, last + 60e6)}`, admin)).body.toString()).locks as { id: string; reason: string; start: number }[];
  t.match(locks, [{ id: made.json.lock.id, reason: 'break-in', start: first + 1e6 }], 'the timeline shows the lock');
  t.equal((await lockCall('POST', '/api/v1/recordings/yard/locks', admin, { from: isoTime(first + 3e6), to: isoTime(first + 1e6), reason: 'x' })).status, 400, 'a range the wrong way round: 400');
  t.equal((await lockCall('DELETE', `/api/v1/recordings/gate/locks/${made.json.lock.id}`, admin)).status, 404, "a lock removed through another channel's path: 404");
  t.equal((await lockCall('DELETE', `/api/v1/recordings/yard/locks/${made.json.lock.id}`, admin)).status, 204, 'unlocked');
  t.same(JSON.parse((await call('GET', `/api/v1/recordings/yard?${q(first - 60e6, last + 60e6)}`, admin)).body.toString()).locks, [], 'and gone from the timeline');
});
