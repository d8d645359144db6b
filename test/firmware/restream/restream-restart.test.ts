/**
 * H.265 + AAC through the restream, and the camera dying mid-stream: the
 * channel reconnects by itself and the viewers' sessions carry on (the
 * documented choice: resume, with a jump in timestamps over the outage,
 * rather than end the session).
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
import { decodeErrors, MemorySink, probeFile, run, startSubCamera, until, type SubCamera } from './helpers.js';

t.test('an H.265 camera restarting mid-stream: the restream resumes for the client already watching', async (t) => {
  let cam: SubCamera = await startSubCamera({ codec: 'h265', audio: true });
  t.teardown(() => cam.stop());
  const sink = new MemorySink();
  const bus = new EventBus();
  const gaps: { from: number; to: number }[] = [];
  bus.on('recordingGap', (g) => gaps.push(g));
  const log = memoryLogger('test');
  const channels: ChannelSettings[] = [
    { id: 'gate', name: 'Gate', enabled: true, kind: 'ip', main: { url: cam.main, transport: 'tcp' }, username: null, password: null },
  ];
  const nvr = new NvrService({ bus, clock: systemClock, log, channels: () => channels, store: sink });
  await nvr.start();
  t.teardown(() => nvr.stop());
  const restream = new RestreamService({
    clock: systemClock, log, channels: nvr, port: 0, bindAddress: '127.0.0.1',
    users: { ha1: (u, realm) => (u === 'op' ? digestHa1(u, realm, 'Op3rator-pass') : null), mayWatch: () => true },
  });
  await restream.start();
  t.teardown(() => restream.stop());
  await until('main and audio described', () => nvr.liveTracks('gate', 'main').length === 2);
  t.same(nvr.liveTracks('gate', 'sub'), [], 'no sub URL: no sub stream');
  const sub = await run('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', `rtsp://op:Op3rator-pass@127.0.0.1:${restream.port}/gate/sub`]);
  t.match(sub.stderr, /404/, 'and its sub path is 404');

  const dir = mkdtempSync(join(tmpdir(), 'restream-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'out.mkv');
  const client = run('ffmpeg', ['-v', 'error', '-rtsp_transport', 'tcp', '-i', `rtsp://op:Op3rator-pass@127.0.0.1:${restream.port}/gate/main`, '-t', '12', '-c', 'copy', '-y', file], 60_000);
  await new Promise((r) => setTimeout(r, 4000));
  const port = cam.port;
  await cam.stop(); // SIGKILL: a power cut
  await new Promise((r) => setTimeout(r, 1000));
  cam = await startSubCamera({ codec: 'h265', audio: true, port });
  const r = await client;
  t.equal(r.code, 0, `the client ran to its end: ${r.stderr.slice(0, 300)}`);
  t.ok(gaps.length >= 1, 'the channel recorded the outage as a gap');
  const streams = await probeFile(file);
  const v = streams.find((s) => s.codec_type === 'video');
  t.equal(v?.codec_name, 'hevc', 'H.265 restreamed as H.265');
  t.equal(streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac', 'with its AAC audio');
  const pts = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file]);
  const times = pts.stdout.split('\n').filter(Boolean).map(Number);
  let gapAt = -1;
  for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! > 1) gapAt = i;
  t.ok(gapAt > 25, `video before the outage (${gapAt} frames)`);
  t.ok(times.length - gapAt >= 25, `and video again after the camera came back (${times.length - gapAt} frames)`);
  t.equal(await decodeErrors(file), '', 'the whole file decodes without errors');
});
