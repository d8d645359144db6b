// The page's live view socket on the real web service: who may open it, and
// that what it sends is fragmented MP4 that ffprobe reads frame for frame.
// The live frames come from an H.264 stream made by ffmpeg and split by our
// parsers, pushed by the test where a channel service would push them (the
// cameras end to end are in test/firmware/web/page.test.ts).
import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import type { LiveListener } from '../../../firmware/channels/live-fanout.js';
import type { Frame, StreamInfo } from '../../../firmware/media/types.js';
import { startWeb } from './web-service.js';
import { ffprobe, tempDir } from '../media/helpers/ffmpeg.js';
import { h264Stream } from '../media/helpers/sources.js';
import { videoTrack } from '../media/helpers/streams.js';
import { connect, type Client, type Message } from './ws/client.js';

const ADMIN_PW = 'Install-Er-2026';
const media = await tempDir(t);
const track = videoTrack((await h264Stream(media, '320x240', 4)).bytes, 'h264');
track.info.width = 320;
track.info.height = 240;

const listeners = new Set<LiveListener>();
const push = (frames: Frame[], info: StreamInfo = track.info) => {
  for (const f of frames) for (const l of listeners) l.frame('video', info, f);
};

t.test('the live view socket', async (t) => {
  const { web, dir } = await startWeb({
    live: () => ({
      has: (c, v) => c === 'yard' && v === 'main',
      subscribe: (_c, _v, l) => {
        listeners.add(l);
        return () => void listeners.delete(l);
      },
    }),
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.teardown(() => web.stop());
  const port = web.ports!.https;
  const ca = web.certificate!.cert;

  function post(path: string, body: unknown): Promise<{ status: number; cookie: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, cookie: String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]! }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  const t0 = await post('/api/v1/setup', { name: 'installer', password: ADMIN_PW });
  t.equal(t0.status, 201, 'admin account created');
  const admin = t0.cookie;
  await web.users!.addUser('guard', 'viewer', 'Night-Shift-77', { gate: ['live'] });
  const guard = (await post('/api/v1/login', { name: 'guard', password: 'Night-Shift-77' })).cookie;

  const open = (path: string, headers: Record<string, string>) => connect(port, ca, path, headers);
  const binaries = (m: Message[]) => m.filter((x): x is { binary: Buffer } => 'binary' in x).map((x) => x.binary);

  await t.test('who may open a live socket', async (t) => {
    const cases: [string, string, Record<string, string>, number][] = [
      ['no session', '/api/v1/live/yard/main', {}, 401],
      ['a forged session', '/api/v1/live/yard/main', { cookie: 'dvr_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 401],
      ['another site’s page', '/api/v1/live/yard/main', { cookie: admin, origin: 'https://evil.example' }, 403],
      ['a viewer without the live right on this channel', '/api/v1/live/yard/main', { cookie: guard }, 403],
      ['a channel that does not exist', '/api/v1/live/nope/main', { cookie: admin }, 404],
      ['a stream that does not exist', '/api/v1/live/yard/sub', { cookie: admin }, 404],
      ['path traversal', '/api/v1/live/..%2f..%2fetc/main', { cookie: admin }, 400],
      ['dot segments', '/api/v1/live/../live/yard/main', { cookie: admin }, 400],
    ];
    for (const [what, path, headers, status] of cases) {
      const r = await open(path, headers);
      t.equal(r.refused ? r.status : 101, status, `${what}: ${status}`);
    }
    t.equal(listeners.size, 0, 'no refused caller was subscribed to the channel');
    const bad = await open('/api/v1/live/yard/main', { cookie: admin, 'sec-websocket-version': '8' });
    t.equal(bad.refused ? bad.status : 101, 400, 'a handshake of another WebSocket version: 400');
    const plain = await new Promise<number>((resolve) => {
      request({ host: '127.0.0.1', port, path: '/api/v1/live/yard/main', ca, servername: 'localhost', headers: { cookie: admin } }, (res) => (res.resume(), resolve(res.statusCode!))).end();
    });
    t.equal(plain, 404, 'a plain GET of the live path is no route');
  });

  await t.test('the live socket carries fragmented MP4 that ffprobe reads frame for frame', async (t) => {
    const c = (await open('/api/v1/live/yard/main', { cookie: admin, origin: `https://127.0.0.1:${port}` })) as Client;
    t.equal(c.refused, false, 'the admin (same-origin page) is let in');
    t.equal(listeners.size, 1, 'subscribed to the channel');
    // Joining mid-GOP: frames before the next keyframe cannot be shown, so nothing is sent for them.
    const firstKey = track.frames.findIndex((f, i) => i > 0 && f.keyframe);
    push(track.frames.slice(3, firstKey));
    await new Promise((r) => setTimeout(r, 200));
    t.equal(c.messages.length, 0, 'nothing before a keyframe');
    const sent = track.frames.slice(firstKey);
    push(sent);
    // Each frame is its own fragment once the next one arrives: all but the last.
    await c.until((m) => binaries(m).length >= sent.length);
    const init = JSON.parse((c.messages[0] as { text: string }).text) as { type: string; mime: string; video: { width: number } };
    t.match(init, { type: 'init', mime: /^video\/mp4; codecs="avc1\.[0-9a-f]{6}"$/, video: { codec: 'h264', width: 320, height: 240 }, startUs: sent[0]!.time }, `init message ${init.mime}, media time 0 at the keyframe's capture time`);
    const file = join(media, 'live.mp4');
    writeFileSync(file, Buffer.concat(binaries(c.messages)));
    const p = await ffprobe(file, ['-count_frames']);
    const v = p.streams[0]!;
    t.match(v, { codec_name: 'h264', width: 320, height: 240 }, 'ffprobe: H.264 320x240');
    t.equal(Number(v.nb_read_frames), sent.length - 1, `ffprobe counts every frame sent but the newest (${sent.length - 1})`);

    // The camera changed its stream (new SPS): a new init message at the next keyframe.
    const other = { ...track.info, width: 640, config: track.info.config.slice() };
    other.config[1] = 0x4d; // another profile in the avcC: another decoder configuration
    const later = track.frames.map((f) => ({ ...f, time: f.time + 10_000_000 }));
    push(later.slice(0, 30), other);
    await c.until((m) => m.filter((x) => 'text' in x).length === 2);
    t.match(JSON.parse((c.messages.filter((x) => 'text' in x)[1] as { text: string }).text), { type: 'init', video: { width: 640 } }, 'a changed stream starts over with its own init segment');

    c.send(9, Buffer.from('ping?'));
    await c.until((m) => m.some((x) => 'pong' in x && x.pong.toString() === 'ping?'));
    t.pass('a ping gets its pong');
    c.send(8, Buffer.from([0x03, 0xe8]));
    await c.closed;
    await new Promise((r) => setTimeout(r, 50));
    t.equal(web.live!.viewerCount, 0, 'closing the socket ends the viewer');
    t.equal(listeners.size, 1, 'the channel feed lingers for the next viewer (test/firmware/web/live/live-feed.test.ts times it out)');
  });

  await t.test('a viewer who joins mid-GOP starts at once, from the keyframe the feed holds', async (t) => {
    const base = 60_000_000;
    const gop = track.frames.findIndex((f, i) => i > 0 && f.keyframe); // frames in a GOP
    const first = (await open('/api/v1/live/yard/main', { cookie: admin })) as Client;
    const frames = track.frames.map((f) => ({ ...f, time: f.time + base }));
    push(frames.slice(0, gop + 10)); // a whole GOP, then 10 frames into the next
    await first.until((m) => binaries(m).length >= gop + 9);
    const late = (await open('/api/v1/live/yard/main', { cookie: admin })) as Client;
    // No new frame pushed: what the late viewer gets is the held GOP.
    await late.until((m) => binaries(m).length >= 10);
    const file = join(media, 'late.mp4');
    writeFileSync(file, Buffer.concat(binaries(late.messages)));
    const p = await ffprobe(file, ['-count_frames']);
    t.equal(Number(p.streams[0]!.nb_read_frames), 9, 'the late viewer decodes the 10 held frames from the keyframe (all but the newest) before any new frame');
    for (const c of [first, late]) {
      c.send(8, Buffer.alloc(0));
      await c.closed;
    }
  });

  await t.test('a client frame no browser sends closes that socket and nothing else', async (t) => {
    const a = (await open('/api/v1/live/yard/main', { cookie: admin })) as Client;
    const b = (await open('/api/v1/live/yard/main', { cookie: admin })) as Client;
    a.socket.write(Buffer.from([0x82, 0x05, 1, 2, 3, 4, 5])); // unmasked: RFC 6455 says fail the connection
    await a.closed;
    t.ok(a.messages.some((m) => 'close' in m && m.close === 1002), 'closed with 1002 (protocol error)');
    push(track.frames.slice(0, 3));
    await b.until((m) => binaries(m).length >= 2);
    t.pass('the other viewer still gets its stream');
    b.send(8, Buffer.alloc(0));
    await b.closed;
  });
});
