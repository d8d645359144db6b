/**
 * NvrService's live side against a gst-rtsp-server camera with a sub stream:
 * the frame subscription API, the sub connection, audio into the store's
 * interface, and that no consumer can disturb the recording.
 */
import t from 'tap';
import { EventBus } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { NvrService, type ChannelSettings } from '../../../firmware/channels/nvr-service.js';
import { RingStore } from '../../../firmware/storage/ring-store.js';
import { benchDisk } from '../../../scripts/bench/storage-bench-disk.js';
import { MemorySink, startSubCamera, until } from '../restream/helpers.js';

t.test('live subscriptions: main and sub, audio, a throwing consumer, unsubscribe and stop', async (t) => {
  const cam = await startSubCamera({ codec: 'h264', audio: true });
  t.teardown(() => cam.stop());
  // The real store on an ext4 loop disk, behind a tap that counts what the channel hands it.
  const disk = benchDisk(256);
  t.teardown(() => disk.cleanup());
  const store = new RingStore({ bus: new EventBus(), log: memoryLogger('store'), disks: [{ name: 'd0', path: disk.path }], format: { blockSize: 16 << 20, reserveBytes: 0 } });
  await store.start();
  t.teardown(() => store.stop());
  const tap = new MemorySink();
  const sink = {
    setStreamInfo: (c: string, s: 'main' | 'sub' | 'audio', i: Parameters<RingStore['setStreamInfo']>[2]) => (tap.setStreamInfo(c, s, i), store.setStreamInfo(c, s, i)),
    append: (c: string, s: 'main' | 'sub' | 'audio', f: Parameters<RingStore['append']>[2]) => (tap.append(c, s, f), store.append(c, s, f)),
    closeStream: async (c: string, s: 'main' | 'sub' | 'audio') => (await tap.closeStream(c, s), await store.closeStream(c, s)),
  };
  const bus = new EventBus();
  const states: string[] = [];
  bus.on('cameraState', (e) => states.push(`${e.channel}:${e.state}`));
  const base = { enabled: true, kind: 'ip' as const, username: null, password: null };
  const channels: ChannelSettings[] = [
    { ...base, id: 'cam1', name: 'Cam 1', main: { url: cam.main, transport: 'tcp' }, sub: { url: cam.sub, transport: 'tcp' } },
    { ...base, id: 'cam1', name: 'Duplicate', main: { url: cam.main, transport: 'tcp' } },
    { ...base, id: 'off', name: 'Off', enabled: false, main: { url: cam.main, transport: 'tcp' } },
    { ...base, id: 'dead', name: 'Dead', main: { url: 'rtsp://127.0.0.1:1/x', transport: 'tcp' }, sub: { url: 'rtsp://127.0.0.1:1/y' } },
  ];
  const log = memoryLogger('test');
  const nvr = new NvrService({ bus, clock: systemClock, log, channels: () => channels, store: sink });
  await nvr.start();
  let stopped = false;
  t.teardown(() => (stopped ? undefined : nvr.stop()));
  t.same(nvr.status().map((s) => s.channel), ['cam1', 'dead'], 'one runner per enabled channel id');
  t.equal(nvr.has('off', 'main'), false, 'a disabled channel is not live');
  t.same(nvr.liveTracks('nope', 'main'), [], 'an unknown channel has no tracks');

  const got = { main: 0, sub: 0, audio: 0, subAudio: 0 };
  let ended = 0;
  nvr.subscribe('cam1', 'main', {
    frame: () => {
      throw new Error('a broken viewer');
    },
    end: () => {
      throw new Error('and broken at the end too');
    },
  });
  const offMain = nvr.subscribe('cam1', 'main', { frame: (k) => (k === 'video' ? got.main++ : got.audio++), end: () => ended++ });
  const subWidths = new Set<number | undefined>();
  nvr.subscribe('cam1', 'sub', { frame: (k, info) => (k === 'video' ? (got.sub++, subWidths.add(info.width)) : got.subAudio++), end: () => ended++ });
  await until('main, sub and audio frames', () => got.main >= 50 && got.sub >= 50 && got.audio >= 50 && got.subAudio >= 50, 30_000);
  t.same([...subWidths], [352], 'the sub subscriber gets the sub stream (352 wide), not main');
  t.ok(tap.count('main') >= 50, 'recording goes on though one consumer throws on every frame');
  t.ok(tap.count('audio') >= 50, 'the camera audio is recorded too');
  t.equal(tap.count('sub'), 0, 'the sub stream is not recorded');
  t.same(nvr.liveTracks('cam1', 'sub').map((i) => i.codec), ['h264', 'aac'], 'sub is described with the channel audio');
  t.match(nvr.status().find((s) => s.channel === 'cam1'), { state: 'streaming', sub: 'streaming' }, 'status shows the sub connection');
  t.notOk(states.some((s) => s === 'dead:streaming'), 'the dead camera is not faked as streaming');
  offMain();
  const before = got.main;
  await new Promise((r) => setTimeout(r, 500));
  t.equal(got.main, before, 'nothing after unsubscribing');
  await nvr.stop();
  stopped = true;
  t.equal(ended, 1, 'stop tells the remaining consumers the stream ended');
  t.ok(tap.closed.includes('main') && tap.closed.includes('audio'), 'and closes the recorded streams');
  t.same(nvr.liveTracks('cam1', 'main'), [], 'nothing is live after stop');
  const streams = store.streams().filter((x) => x.channel === 'cam1').map((x) => x.stream).sort();
  t.same(streams, ['audio', 'main'], 'the store holds the channel main video and its audio');
  const tl = store.timeline('cam1', 'audio', 0, Date.now() * 1000 + 1e6);
  t.ok(tl.segments.length >= 1 && tl.segments[0]!.end - tl.segments[0]!.start >= 1_000_000, 'with at least a second of audio on its timeline');
});
