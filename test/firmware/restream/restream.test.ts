/**
 * End to end: a gst-rtsp-server camera (H.264 main + sub, AAC) → NvrService
 * → RestreamService → ffmpeg/ffprobe as independent RTSP clients, several at
 * once. The store is the RecordingSink interface kept in memory (the ring
 * store is tested on its own; what matters here is what the channel hands it).
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { NvrService, type ChannelSettings } from '../../../firmware/channels/nvr-service.js';
import { digestHa1 } from '../../../firmware/media/rtsp/server-auth.js';
import { RestreamService } from '../../../firmware/restream/restream-service.js';
import { rightsOn } from '../../../firmware/web/auth/roles.js';
import { decodeErrors, MemorySink, probeFile, RawClient, run, startSubCamera, until } from './helpers.js';

const USER = 'viewer1';
const PASSWORD = 'Watch-2026-ok';

t.test('four ffmpeg clients at once (one over UDP) get main and sub with audio from one camera connection', async (t) => {
  const cam = await startSubCamera({ codec: 'h264', audio: true });
  t.teardown(() => cam.stop());
  const sink = new MemorySink();
  const log = memoryLogger('test');
  const channels: ChannelSettings[] = [
    { id: 'cam1', name: 'Cam 1', enabled: true, kind: 'ip', main: { url: cam.main, transport: 'tcp' }, sub: { url: cam.sub }, username: null, password: null },
  ];
  const nvr = new NvrService({ bus: new EventBus(), clock: systemClock, log, channels: () => channels, store: sink });
  await nvr.start();
  t.teardown(() => nvr.stop());
  const restream = new RestreamService({
    clock: systemClock, log, channels: nvr, port: 0, bindAddress: '127.0.0.1', udpPort: 0,
    users: {
      ha1: (u, realm) => (u === USER ? digestHa1(u, realm, PASSWORD) : null),
      mayWatch: (_u, ch) => rightsOn('viewer', null, ch).includes('live'),
    },
  });
  await restream.start();
  t.teardown(() => restream.stop());
  await until('main, sub and audio described', () => nvr.liveTracks('cam1', 'main').length === 2 && nvr.liveTracks('cam1', 'sub').length === 2);
  const port = restream.port!;
  const url = (path: string, pw = PASSWORD) => `rtsp://${USER}:${pw}@127.0.0.1:${port}/${path}`;
  const dir = mkdtempSync(join(tmpdir(), 'restream-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  // A client that plays and then never reads: it must not hold anyone up.
  const stuck = new RawClient(port, USER, PASSWORD);
  t.teardown(() => stuck.socket.destroy());
  t.equal((await stuck.play(`rtsp://127.0.0.1:${port}/cam1/main`)).status, 200, 'a client plays...');
  stuck.socket.pause(); // ...and never reads again

  const recordedBefore = sink.count('main');
  const grab = (path: string, out: string, transport = 'tcp') =>
    run('ffmpeg', ['-v', 'error', '-rtsp_transport', transport, '-i', url(path), '-t', '5', '-c', 'copy', '-y', join(dir, out)]);
  const [a, b, c, d] = await Promise.all([grab('cam1/main', 'a.mkv'), grab('cam1/main', 'b.mkv'), grab('cam1/sub', 'c.mkv'), grab('cam1/main', 'd.mkv', 'udp')]);
  t.equal(a.code, 0, `client 1 ran: ${a.stderr}`);
  t.equal(b.code, 0, `client 2 ran: ${b.stderr}`);
  t.equal(c.code, 0, `client 3 (sub) ran: ${c.stderr}`);
  t.equal(d.code, 0, `client 4 (RTP over UDP) ran: ${d.stderr}`);
  for (const [file, w, h] of [['a.mkv', 704, 576], ['b.mkv', 704, 576], ['c.mkv', 352, 288], ['d.mkv', 704, 576]] as const) {
    const streams = await probeFile(join(dir, file));
    const v = streams.find((s) => s.codec_type === 'video');
    const au = streams.find((s) => s.codec_type === 'audio');
    t.equal(v?.codec_name, 'h264', `${file}: H.264 video`);
    t.same([v?.width, v?.height], [w, h], `${file}: ${w}x${h}`);
    // Video starts at the first keyframe after PLAY (no GOP is cached), so up to one GOP less than 5 s.
    t.ok(Number(v?.nb_read_packets) >= 60, `${file}: seconds of 25 fps video (${v?.nb_read_packets} frames)`);
    t.equal(au?.codec_name, 'aac', `${file}: AAC audio restreamed`);
    t.ok(Number(au?.nb_read_packets) >= 100, `${file}: audio frames (${au?.nb_read_packets})`);
    t.equal(await decodeErrors(join(dir, file)), '', `${file}: decodes without errors`);
  }
  t.ok(sink.count('main') - recordedBefore >= 100, 'the recording went on meanwhile');
  t.ok(sink.count('audio') >= 100 && sink.infos.get('audio')?.[0]?.codec === 'aac', `audio recorded into the store (${sink.count('audio')} frames)`);
  t.equal(sink.count('sub'), 0, 'the sub stream is live only, not recorded');

  const wrong = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', url('cam1/main', 'not-the-password')]);
  t.not(wrong.code, 0, 'a wrong password is refused');
  t.match(wrong.stderr, /401/, 'with 401 Unauthorized');
  const unknown = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', url('cam9/main')]);
  t.match(unknown.stderr, /404/, 'an unknown channel is 404 Not Found');
  t.equal(restream.stats()!.connections, 1, 'clients that left are gone from the server (the stuck one remains until it times out or overflows)');
});
