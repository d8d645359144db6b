// The parts of a DVR channel one at a time: video-loss hysteresis on a manual
// clock, opening a V4L2 input (against the stand-in kernel of
// test/drivers/v4l2/fixtures/fake-kernel.ts, as no capture card is here; the
// real driver is vivid in the virtual board), a YUYV source without a sub
// stream, and stream sizes, rates and new settings on a running source.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEncoder, shutdownEncoderPool } from '../../../drivers/encoder/index.js';
import * as C from '../../../drivers/v4l2/constants.js';
import * as V4l2 from '../../../drivers/v4l2/index.js';
import { set } from '../../../drivers/v4l2/struct.js';
import { frameBytes, openV4l2Capture } from '../../../firmware/channels/dvr-capture.js';
import { DvrCameraSource } from '../../../firmware/channels/dvr-source.js';
import { VideoLossMonitor } from '../../../firmware/channels/dvr-video-loss.js';
import { EventBus } from '../../../firmware/core/bus.js';
import { ManualClock, systemClock } from '../../../firmware/core/clock.js';
import type { Frame, StreamInfo } from '../../../firmware/media/types.js';
import { FakeKernel } from '../../drivers/v4l2/fixtures/fake-kernel.js';
import { simCard } from './fixtures/dvr-sim.js';

t.teardown(() => shutdownEncoderPool());

t.test('video loss: status bits at once, flat pictures after flatMs, recovery after recoverMs', async (t) => {
  const clock = new ManualClock();
  const bus = new EventBus();
  const seen: boolean[] = [];
  const changes: boolean[] = [];
  bus.on('videoLoss', (e) => seen.push(e.lost));
  const m = new VideoLossMonitor({ channel: 'c', bus, clock, flatMs: 2000, recoverMs: 1000, onChange: (l) => changes.push(l) });
  m.status(0);
  m.picture(false);
  t.same(seen, []);
  m.status(C.V4L2_IN_ST_NO_H_LOCK);
  t.same(seen, [true], 'no horizontal lock is loss at once');
  t.equal(m.reason, 'status');
  m.status(0);
  await clock.advance(500);
  m.status(0);
  t.same(seen, [true], 'not back before recoverMs');
  await clock.advance(600);
  m.picture(false);
  t.same(seen, [true, false], 'back after recoverMs of good signal');
  m.picture(true);
  await clock.advance(1500);
  m.picture(true);
  t.same(seen, [true, false], 'flat for less than flatMs');
  await clock.advance(600);
  m.picture(true);
  t.same(seen, [true, false, true], 'flat for flatMs: loss');
  t.equal(m.reason, 'flat');
  m.status(0);
  await clock.advance(2000);
  m.status(0);
  t.same(seen, [true, false, true], 'good status alone does not end a flat picture');
  m.picture(false);
  m.status(C.V4L2_IN_ST_NO_SIGNAL);
  await clock.advance(2000);
  m.picture(false);
  t.same(seen, [true, false, true], 'still no signal');
  m.reset();
  t.same(seen, [true, false, true, false], 'reset ends an open loss');
  t.same(changes, seen);
  m.reset();
  t.equal(seen.length, 4, 'nothing to end twice');
});

async function fakeCapture(t: Test, tweak?: (k: FakeKernel) => void): Promise<{ k: FakeKernel; node: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dvr-cap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const node = join(dir, 'video0');
  writeFileSync(node, '');
  const k = new FakeKernel();
  tweak?.(k);
  const cap = k.layout.structs.v4l2_capability.fields;
  const restore = V4l2.overrideSys({
    // The stand-in is an M2M node; make it say "capture card".
    ioctlBuf: (fd, request, bytes, context) => {
      const r = k.ioctlBuf(fd, request, bytes, context);
      if (k.names.get(request >>> 0) === 'VIDIOC_QUERYCAP' && bytes) {
        set(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), cap.device_caps, C.V4L2_CAP_VIDEO_CAPTURE | C.V4L2_CAP_STREAMING);
      }
      return r;
    },
    mmap: (length: number, _p: number, _f: number, _fd: number, offset: number | bigint = 0) => k.mmap(length, Number(offset)),
    munmap: () => {},
  });
  t.teardown(() => {
    restore();
    k.dispose();
  });
  return { k, node };
}

t.test('opening a V4L2 input: input, standard, format, then clear errors', async (t) => {
  const { k, node } = await fakeCapture(t);
  // The stand-in has no capture thread: the worker's real ioctls on a plain file fail, after every setting was made.
  await t.rejects(openV4l2Capture({ device: node, input: 0, standard: 'auto' }), { message: /cannot start capture on .*video0/ });
  t.equal(k.std, C.V4L2_STD_PAL, 'auto: the sensed standard (PAL) was set');
  const fmt = k.queues.get(C.V4L2_BUF_TYPE_VIDEO_CAPTURE)!.format;
  t.same([fmt.width, fmt.height, fmt.pixelformat], [704, 576, C.V4L2_PIX_FMT_NV12], 'D1 NV12 asked');
  await t.rejects(openV4l2Capture({ device: node, input: 0, standard: 'ntsc' }), { message: /cannot start capture/ });
  t.equal(k.std, C.V4L2_STD_NTSC, 'NTSC set');
  t.equal(k.queues.get(C.V4L2_BUF_TYPE_VIDEO_CAPTURE)!.format.height, 480, 'NTSC D1 is 704x480');
  await t.rejects(openV4l2Capture({ device: node, input: 3, standard: 'pal' }), { message: /has no input 3/, kind: 'protocol' });
  await t.rejects(openV4l2Capture({ device: `${node}x`, input: 0, standard: 'pal' }), { message: /cannot open .*ENOENT/, kind: 'unreachable', code: 'ENOENT' });
  k.status = C.V4L2_IN_ST_NO_SIGNAL; // QUERYSTD senses nothing: the standard stays
  k.std = C.V4L2_STD_NTSC;
  await t.rejects(openV4l2Capture({ device: node, input: 0, standard: 'auto' }), { message: /cannot start capture/ });
  t.equal(k.std, C.V4L2_STD_NTSC, 'no signal: the standard set before is kept');
  t.equal(frameBytes('yuyv', 1408, 576), 1408 * 576);
});

t.test('a node that is not a capture device is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dvr-cap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const node = join(dir, 'video11');
  writeFileSync(node, '');
  const k = new FakeKernel();
  const restore = V4l2.overrideSys({ ioctlBuf: k.ioctlBuf, mmap: (l: number) => k.mmap(l, 0), munmap: () => {} });
  t.teardown(() => {
    restore();
    k.dispose();
  });
  await t.rejects(openV4l2Capture({ device: node, input: 0, standard: 'pal' }), { message: /is not a video capture device/, kind: 'protocol' });
});

t.test('YUYV capture without a sub stream: main only, luma from the packed picture', async (t) => {
  const card = simCard({ width: 176, height: 144, format: 'yuyv', periodMs: 20 });
  const pictures: number[] = [];
  const statuses: number[] = [];
  const src = new DvrCameraSource({
    capture: { device: '/dev/video0', input: 0, standard: 'pal' },
    open: card.open,
    createEncoder: () => createEncoder('x264'),
    main: { codec: 'h264', bitrateKbps: 200, rateControl: 'vbr', gop: 5, profile: 'high', preset: 'ultrafast' },
    sub: null,
    clock: systemClock,
    statusIntervalMs: 20,
    onStatus: (s) => statuses.push(s),
    onPicture: (p) => {
      pictures.push(p.luma.width);
      throw new Error('a broken analytics callback must not stop recording');
    },
  });
  const infos: [string, StreamInfo][] = [];
  const frames: Frame[] = [];
  src.on('info', (s, i) => infos.push([s, i]));
  src.on('frame', (_s, f) => frames.push(f));
  await src.start();
  while (frames.length < 6) await new Promise((r) => setTimeout(r, 20));
  await src.stop();
  await src.stop();
  t.same(infos.map(([s, i]) => [s, i.width, i.height]), [['main', 176, 144]]);
  t.ok(frames[0]!.keyframe);
  t.ok(pictures.every((w) => w === 176), 'luma at full size without a sub stream');
  t.ok(statuses.length >= 1 && statuses.every((s) => s === 0), 'input status polled');
  t.same(src.stats.copiesPerFrame, { main: 0, sub: 0 });
  t.equal(card.handles[0]!.stream.running, false, 'capture stopped');
});

/** Waits for `ok`, polling. */
async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const x264 = { codec: 'h264', bitrateKbps: 200, rateControl: 'vbr', gop: 10, profile: 'baseline', preset: 'ultrafast' } as const;

t.test('stream sizes and rates: CIF main at 12 fps, QCIF sub at 5 fps; the copies counted per pass', async (t) => {
  const card = simCard({ width: 352, height: 288, periodMs: 40 });
  const made: string[] = [];
  const lumaWidths = new Set<number>();
  const src = new DvrCameraSource({
    capture: { device: '/dev/video0', input: 0, standard: 'pal' },
    open: card.open,
    createEncoder: (s) => (made.push(s), createEncoder('x264')),
    main: { ...x264, resolution: 'CIF', fps: 12 },
    sub: { ...x264, resolution: 'QCIF', fps: 5 },
    clock: systemClock,
    onPicture: (p) => void lumaWidths.add(p.luma.width),
  });
  const infos: [string, number, number][] = [];
  const coded = { main: [] as Frame[], sub: [] as Frame[] };
  src.on('info', (s, i) => infos.push([s, i.width ?? 0, i.height ?? 0]));
  src.on('frame', (s, f) => coded[s as 'main' | 'sub'].push(f));
  await src.start();
  await until('75 captured frames', () => src.stats.frames >= 75);
  t.same(src.stats.copiesPerFrame, { main: 1, sub: 2 }, 'CIF: one scaler pass; QCIF: two');
  t.same([...lumaWidths], [176], 'analytics sees the CIF picture');
  t.same(infos.sort(), [['main', 176, 144], ['sub', 88, 72]]);
  // The sim card stamps its frames 40 ms apart, 25 a second: 12 and 5 a second of them kept (rates by timestamp, whatever
  // the encoders' lag; a loaded host stretches the sim's clock a little, never the other way). The exact rhythm: dvr-streams.test.ts.
  const rate = (f: Frame[]) => ((f.length - 1) * 1e6) / (f.at(-1)!.time - f[0]!.time);
  t.ok(rate(coded.main) > 10.5 && rate(coded.main) < 12.2, `main: ${coded.main.length} frames at ${rate(coded.main).toFixed(2)} fps`);
  t.ok(rate(coded.sub) > 4.4 && rate(coded.sub) < 5.1, `sub: ${coded.sub.length} frames at ${rate(coded.sub).toFixed(2)} fps`);
  t.ok(coded.sub[0]!.keyframe && coded.main[0]!.keyframe);

  // New sub settings: only the sub encoder reopens, the capture and the main stream go on.
  await src.reconfigure({ ...x264, resolution: 'CIF', fps: 12 }, { ...x264, resolution: 'CIF' });
  const mainBefore = coded.main.length;
  const subBefore = coded.sub.length;
  await until('frames on the new sub', () => coded.sub.length >= subBefore + 10);
  t.same(made, ['main', 'sub', 'sub'], 'one new encoder, for the sub stream');
  t.same(infos.at(-1), ['sub', 176, 144], 'the sub stream is CIF now');
  t.equal(src.stats.copiesPerFrame.sub, 1);
  t.ok(coded.main.length > mainBefore, 'the main stream went on');
  t.equal(card.opens, 1, 'the capture was not reopened');
  await src.reconfigure({ ...x264, resolution: 'CIF', fps: 12 }, { ...x264, resolution: 'CIF' });
  t.equal(made.length, 3, 'the same settings again change nothing');

  // No sub stream: the D1 main reads the capture buffer itself, analytics too.
  await src.reconfigure({ ...x264, resolution: 'D1' }, null);
  t.same(made, ['main', 'sub', 'sub', 'main'], 'both streams changed: one encoder, the sub has none');
  t.same(src.stats.copiesPerFrame, { main: 0, sub: 0 });
  lumaWidths.clear();
  const d1 = coded.main.length;
  await until('D1 frames', () => coded.main.length >= d1 + 5);
  t.same([...lumaWidths], [352], 'analytics on the captured picture');
  t.same(infos.at(-1), ['main', 352, 288], 'the main stream is D1 now');

  // Settings the encoder refuses close the source with the reason; nothing is left open.
  const closed = new Promise<Error | undefined>((resolve) => src.once('close', resolve));
  await src.reconfigure({ ...x264, codec: 'h265' }, null);
  t.match((await closed)?.message, /^encoder: x264: codec/);
  t.equal(card.handles[0]!.stream.running, false, 'capture stopped');
  await src.reconfigure({ ...x264 }, null);
  t.equal(made.length, 5, 'a closed source opens nothing');
});

t.test('a QCIF stream the capture size cannot halve twice: the reason, not an encoder error', async (t) => {
  const card = simCard({ width: 356, height: 288, periodMs: 20 });
  const src = new DvrCameraSource({
    capture: { device: '/dev/video0', input: 0, standard: 'pal' },
    open: card.open,
    createEncoder: () => createEncoder('x264'),
    main: { ...x264 },
    sub: { ...x264, resolution: 'QCIF' },
    clock: systemClock,
  });
  await src.reconfigure({ ...x264 }, { ...x264, resolution: 'QCIF', fps: 6 });
  await t.rejects(src.start(), { message: 'a QCIF stream of a 356x288 capture needs 178x144 to be a multiple of 4', kind: 'protocol' });
  await until('capture closed', () => card.handles.every((h) => !h.stream.running));
});
