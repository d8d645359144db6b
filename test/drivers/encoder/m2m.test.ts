// The v4l2-m2m encoder backend on the host, against the JavaScript stand-in
// kernel of test/drivers/v4l2/fixtures/fake-kernel.ts (no M2M encoder on this
// machine; vicodec in the virtual board is m2m-vicodec.test.ts). The stand-in
// answers the ioctls like a stateful encoder; to give the backend real H.264
// to parse, this test writes access units made by x264 into each CAPTURE
// buffer as it is dequeued, so ffprobe can judge what comes out.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { annexB, createEncoder, encoderBackends, EncoderError, M2mEncoder, X264Encoder, type EncoderConfig } from '../../../drivers/encoder/index.js';
import { bufferLayout, copyIntoBuffer, parseFps } from '../../../drivers/encoder/m2m/planes.js';
import * as C from '../../../drivers/v4l2/constants.js';
import * as V4l2 from '../../../drivers/v4l2/index.js';
import { kernel } from './fixtures/m2m-stand-in.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'm2m-enc-'));
t.teardown(async () => {
  await V4l2.stopIdlePollThreads();
  rmSync(dir, { recursive: true, force: true });
});
const node = join(dir, 'video11');
writeFileSync(node, '');

const W = 320;
const H = 240;

function config(over: Partial<EncoderConfig> = {}): EncoderConfig {
  return { codec: 'h264', width: W, height: H, fps: 25, bitrateKbps: 500, rateControl: 'cbr', gop: 10, profile: 'main', inputFormat: 'yuyv', ...over };
}

/** A YUYV test picture: a gradient that moves with i. */
function picture(i: number): Uint8Array {
  const p = new Uint8Array(W * H * 2);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    p[(y * W + x) * 2] = (x + y + i * 4) & 0xff;
    p[(y * W + x) * 2 + 1] = 128;
  }
  return p;
}

t.test('registered as v4l2-m2m', async (t) => {
  t.ok(encoderBackends().includes('v4l2-m2m'));
  const e = createEncoder('v4l2-m2m', { device: node });
  t.equal(e.backend, 'v4l2-m2m');
  await e.close();
});

t.test('H.264 through the stand-in: frames, keyframes, SPS/PPS, timestamps, one copy in; ffprobe reads the stream', async (t) => {
  // What a hardware encoder would return: Annex B with SPS/PPS before each IDR.
  const x = new X264Encoder();
  x.configureSync({ ...config({ inputFormat: 'yuyv', preset: 'ultrafast' }) });
  const params = x.parameterSets();
  const aus: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) for (const u of x.encodeSync(picture(i), i * 40_000)) aus.push(u.keyframe ? annexB(u.data, params) : annexB(u.data));
  x.closeSync();
  const queue = aus.slice();
  const k = kernel(t, queue);
  const enc = new M2mEncoder({ device: node });
  t.throws(() => enc.streamInfo(), { code: 'NOT_CONFIGURED' });
  await t.rejects(enc.encode(picture(0), 0), { code: 'NOT_CONFIGURED' });
  await enc.configure(config());
  t.equal(k.controls.get(C.V4L2_CID_MPEG_VIDEO_BITRATE), 500_000, 'bitrate control set');
  t.equal(k.controls.get(C.V4L2_CID_MPEG_VIDEO_H264_PROFILE), 2, 'profile main');
  t.ok(enc.skippedControls.includes('GOP size'), `controls the driver lacks are skipped: ${enc.skippedControls.join(', ')}`);
  t.throws(() => enc.streamInfo(), { code: 'NOT_CONFIGURED' }, 'no SPS before the first keyframe');
  const units = [];
  for (let i = 0; i < 12; i++) units.push(...(await enc.encode(picture(i), 1_000_000 + i * 40_000)));
  units.push(...(await enc.flush()));
  t.equal(units.length, 12, 'one access unit per picture');
  t.same(units.map((u) => u.ptsUs), Array.from({ length: 12 }, (_, i) => 1_000_000 + i * 40_000), 'timestamps carried through the driver');
  t.same(units.map((u) => u.keyframe), units.map((_, i) => i % 10 === 0), 'IDR every GOP');
  t.equal(units[0]!.pictureType, 'IDR');
  t.equal(enc.stats.copiesIn, 12, 'one copy per picture into the OUTPUT buffer');
  const info = enc.streamInfo();
  t.same([info.codec, info.width, info.height], ['h264', W, H]);
  t.equal(info.config[0], 1, 'avcC record');
  const file = join(dir, 'm2m.h264');
  writeFileSync(file, Buffer.concat(units.map((u) => Buffer.from(annexB(u.data, u.keyframe ? enc.parameterSets() : undefined)))));
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file]);
  t.match(JSON.parse(stdout).streams[0], { codec_name: 'h264', width: W, height: H, nb_read_frames: '12' });
  // After a flush the encoder reopens on the next picture.
  queue.push(aus[0]!);
  const threads = V4l2.PollThread.counts().started;
  const again = await enc.encode(picture(0), 3_000_000);
  t.match(again, [{ ptsUs: 3_000_000, keyframe: true }], 'a flushed encoder reopens on the next picture');
  t.equal(V4l2.PollThread.counts().started, threads, 'the reopened device waits on the poll thread the closed one gave back');
  await t.rejects(enc.encode(new Uint8Array(10), 4_000_000), { code: 'BAD_INPUT', message: /must be 153600 bytes/ }, 'bad size rejected before the device');
  await enc.close();
  await enc.close();
  await t.rejects(enc.encode(picture(1), 9_000_000), { code: 'CLOSED' });
  await t.rejects(enc.flush(), { code: 'CLOSED' });
  await t.rejects(enc.configure(config()), { code: 'CLOSED' });
});

t.test('FWHT (vicodec) frames pass through as they are; no stream info for them', async (t) => {
  kernel(t, null);
  const enc = new M2mEncoder({ device: node, codedFormat: 'fwht' });
  await enc.configure(config());
  const a = await enc.encode(picture(0), 0);
  const b = await enc.encode(picture(1), 40_000);
  t.equal(a.length + b.length, 2);
  t.match(a[0], { ptsUs: 0, keyframe: true, pictureType: 'I' });
  t.match(b[0], { ptsUs: 40_000, keyframe: false, pictureType: 'P' });
  t.throws(() => enc.streamInfo(), { code: 'UNSUPPORTED' });
  await t.rejects(enc.encode(picture(2), 40_000), { code: 'BAD_INPUT', message: /pts/ }, 'pts must increase');
  await enc.close();
});

t.test('bad settings and devices: named errors', async (t) => {
  kernel(t, null);
  const bad = async (over: Partial<EncoderConfig>, setting: string, opts: Partial<{ device: string; codedFormat: never }> = {}) => {
    const e = new M2mEncoder({ device: node, ...opts });
    await t.rejects(e.configure(config(over)), { code: 'BAD_CONFIG', setting }, setting);
    await e.close();
  };
  await bad({ width: 17 }, 'width');
  await bad({ height: 0 }, 'height');
  await bad({ gop: 0 }, 'gop');
  await bad({ bitrateKbps: -1 }, 'bitrateKbps');
  await bad({ rateControl: 'abr' as never }, 'rateControl');
  await bad({ profile: 'extended' as never }, 'profile');
  await bad({ fps: 'fast' }, 'fps');
  await bad({ codec: 'vp8' as never }, 'codec');
  await bad({ inputFormat: 'rgb' as never }, 'inputFormat');
  await bad({}, 'device', { device: '' });
  const missing = new M2mEncoder({ device: join(dir, 'video99') });
  await t.rejects(missing.configure(config()), { code: 'BACKEND', message: /cannot open .*video99.*ENOENT/ });
  const oddSize = new M2mEncoder({ device: node });
  await t.rejects(oddSize.configure(config({ width: 4000, height: 2000 })), { code: 'BAD_CONFIG', message: /offers 1920x1080/ }, 'the driver clamps the size');
  t.ok(parseFps('30000/1001') && parseFps(29.97) && !parseFps(0) && !parseFps('0/1'));
  t.same(parseFps('25'), { num: 25, den: 1 });
});

t.test('an encoder that never returns the frame: BACKEND error after the timeout', async (t) => {
  const k = kernel(t, null);
  const enc = new M2mEncoder({ device: node, timeoutMs: 300 });
  await enc.configure(config());
  // Stop the stand-in from producing: take CAPTURE off streaming.
  const cap = k.queues.get(C.V4L2_BUF_TYPE_VIDEO_CAPTURE)!;
  cap.streaming = false;
  await t.rejects(enc.encode(picture(0), 0), { code: 'BACKEND', message: /no coded frame/ });
  await t.rejects(enc.encode(picture(1), 40_000), { code: 'BACKEND' }, 'and no buffer comes back for the next');
  await enc.close();
});

t.test('copyIntoBuffer honours the driver pitch', async (t) => {
  const w = 8;
  const h = 4;
  const y = new Uint8Array(w * h).map((_, i) => i);
  const uv = new Uint8Array((w * h) / 2).fill(200);
  const dst = new Uint8Array(16 * h * 2);
  const used = copyIntoBuffer({ planes: [y, uv], strides: [w, w] }, 'nv12', w, h, { planes: [{ bytesperline: 16, sizeimage: dst.length }] }, dst);
  t.equal(used, 16 * h * 1.5);
  t.same([...dst.subarray(16, 24)], [8, 9, 10, 11, 12, 13, 14, 15], 'second line at the pitch');
  t.equal(dst[16 * h], 200, 'chroma after height lines');
  t.same(bufferLayout('yuv420p', 8, 4, 16).map((p) => p.offset), [0, 64, 80]);
  t.throws(() => copyIntoBuffer({ planes: [y, uv], strides: [w, w] }, 'nv12', w, h, { planes: [{ bytesperline: 16, sizeimage: 10 }] }, new Uint8Array(10)), EncoderError);
});
