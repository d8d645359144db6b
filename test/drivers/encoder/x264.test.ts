// The x264 backend judged by ffprobe/ffmpeg: raw frames from ffmpeg's
// testsrc, encoded here, decoded and measured by ffmpeg.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  annexB,
  createEncoder,
  downscale2x,
  EncoderError,
  encoderBackends,
  encoderPoolThreads,
  rawFrameSize,
  setEncoderPoolSize,
  shutdownEncoderPool,
  type CodedUnit,
  type Encoder,
  type EncoderConfig,
  type RawFormat,
} from '../../../drivers/encoder/index.js';

// ffmpeg and libx264 on a loaded 2-core machine: more than the default 120 s.
t.setTimeout(360_000);

const W = 704;
const H = 576;
const FPS = 25;
const FRAMES = 100; // 4 s: keyframes at 0 and 50

const base: EncoderConfig = {
  codec: 'h264',
  width: W,
  height: H,
  fps: FPS,
  bitrateKbps: 1024,
  rateControl: 'cbr',
  gop: 50,
  profile: 'main',
  inputFormat: 'yuv420p',
};

function ffmpeg(args: string[]): string {
  return execFileSync('ffmpeg', ['-hide_banner', '-nostats', '-y', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
}

function ffmpegStderr(args: string[]): string {
  // ffmpeg prints filter results (psnr) on stderr; with -v info and exit 0.
  const r = execFileSync('sh', ['-c', 'ffmpeg -hide_banner -nostats "$@" 2>&1', 'sh', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return r;
}

function ffprobe(args: string[]): string {
  return execFileSync('ffprobe', ['-v', 'error', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
}

function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/**
 * testsrc with light temporal noise (like an analog camera's) as raw frames.
 * Plain testsrc is so easy that x264 (ours and ffmpeg's alike) stays near
 * 460 kbit/s at any target above that: nothing to test rate control with.
 */
function source(dir: string, format: RawFormat, width = W, height = H, frames = FRAMES): Buffer {
  const pix = { nv12: 'nv12', yuv420p: 'yuv420p', yuyv: 'yuyv422' }[format];
  const file = join(dir, `src-${format}-${width}x${height}.raw`);
  ffmpeg(['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=${FPS},noise=alls=4:allf=t`, '-frames:v', String(frames), '-pix_fmt', pix, '-f', 'rawvideo', file]);
  const data = readFileSync(file);
  if (data.length !== rawFrameSize(format, width, height) * frames) throw new Error(`ffmpeg made ${data.length} bytes`);
  return data;
}

interface Encoded {
  units: CodedUnit[];
  file: string;
  payloadBytes: number;
}

async function encodeAll(enc: Encoder, raw: Buffer, config: EncoderConfig, file: string, frames = FRAMES, prepare?: (frame: Uint8Array) => Uint8Array): Promise<Encoded> {
  await enc.configure(config);
  const params = enc.parameterSets();
  const size = rawFrameSize(config.inputFormat, prepare ? config.width * 2 : config.width, prepare ? config.height * 2 : config.height);
  const units: CodedUnit[] = [];
  const t0 = 1_700_000_000_000_000;
  for (let i = 0; i < frames; i++) {
    let frame: Uint8Array = raw.subarray(i * size, (i + 1) * size);
    if (prepare) frame = prepare(frame);
    units.push(...(await enc.encode(frame, t0 + Math.round((i * 1e6) / FPS))));
  }
  units.push(...(await enc.flush()));
  const stream = Buffer.concat(units.map((u) => annexB(u.data, u.keyframe ? params : undefined)));
  writeFileSync(file, stream);
  return { units, file, payloadBytes: units.reduce((n, u) => n + u.data.length, 0) };
}

/** PSNR of `encoded` (a coded file, or raw when `encodedRaw`) against raw frames. */
function psnr(encoded: string, rawFile: string, format: string, width: number, height: number, encodedRaw = false): number {
  const first = encodedRaw ? ['-f', 'rawvideo', '-pix_fmt', format, '-s', `${width}x${height}`, '-r', String(FPS)] : [];
  const log = ffmpegStderr([...first, '-i', encoded, '-f', 'rawvideo', '-pix_fmt', format, '-s', `${width}x${height}`, '-r', String(FPS), '-i', rawFile, '-lavfi', 'psnr', '-f', 'null', '-']);
  const m = /PSNR y:[\d.inf]+ u:[\d.inf]+ v:[\d.inf]+ average:([\d.]+|inf)/.exec(log);
  if (!m) throw new Error(`no PSNR in ffmpeg output:\n${log.slice(-2000)}`);
  return m[1] === 'inf' ? Infinity : Number(m[1]);
}

function frames(file: string): { key: number[]; types: string[] } {
  const out = ffprobe(['-select_streams', 'v', '-show_entries', 'frame=key_frame,pict_type', '-of', 'csv=p=0', file]);
  const rows = out.trim().split('\n').map((l) => l.split(','));
  return { key: rows.flatMap((r, i) => (r[0] === '1' ? [i] : [])), types: rows.map((r) => r[1]!) };
}

function streamOf(file: string): Record<string, string> {
  return keyValues(ffprobe(['-count_frames', '-show_streams', '-select_streams', 'v', file]));
}

/** SPS and PPS out of an avcC record, parsed here independently of the encoder's writer. */
function parseAvcC(c: Uint8Array): { profile: number; level: number; sps: Uint8Array[]; pps: Uint8Array[]; lengthSize: number } {
  let at = 5;
  const sps: Uint8Array[] = [];
  const pps: Uint8Array[] = [];
  const nSps = c[at++]! & 0x1f;
  for (let i = 0; i < nSps; i++) {
    const len = (c[at]! << 8) | c[at + 1]!;
    sps.push(c.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  const nPps = c[at++]!;
  for (let i = 0; i < nPps; i++) {
    const len = (c[at]! << 8) | c[at + 1]!;
    pps.push(c.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return { profile: c[1]!, level: c[3]!, sps, pps, lengthSize: (c[4]! & 3) + 1 };
}

t.test('x264 is a registered backend; an unknown one is refused', async (t) => {
  t.ok(encoderBackends().includes('x264'));
  t.ok(encoderBackends().includes('v4l2-m2m'), 'the V4L2 memory-to-memory backend is registered beside it');
  t.throws(() => createEncoder('rockchip-mpp'), { code: 'UNSUPPORTED', message: /backend 'rockchip-mpp' is not registered/ });
});

t.test('main stream 704x576 25 fps 1024 kbit/s GOP 50, judged by ffprobe', async (t) => {
  const dir = t.testdir();
  const raw = source(dir, 'yuv420p');
  writeFileSync(join(dir, 'src.yuv'), raw);
  const enc = createEncoder('x264');
  t.teardown(() => enc.close());
  const { units, file, payloadBytes } = await encodeAll(enc, raw, base, join(dir, 'main.264'));

  t.equal(units.length, FRAMES, 'one access unit per input frame');
  t.same(units.filter((u) => u.keyframe).map((u) => units.indexOf(u)), [0, 50], 'keyframe flags at the GOP');
  t.ok(units.every((u, i) => u.ptsUs === 1_700_000_000_000_000 + i * 40_000), 'pts come back in µs');

  const s = streamOf(file);
  t.equal(s['codec_name'], 'h264');
  t.equal(s['profile'], 'Main');
  t.equal(`${s['width']}x${s['height']}`, '704x576');
  t.equal(Number(s['nb_read_frames']), FRAMES, 'frame count equals input');

  const f = frames(file);
  t.same(f.key, [0, 50], 'ffprobe sees keyframes at 0 and 50');
  t.same([...new Set(f.types)].sort(), ['I', 'P'], 'I and P pictures only (no B-frames)');

  const kbps = (payloadBytes * 8) / (FRAMES / FPS) / 1000;
  t.comment(`bitrate ${kbps.toFixed(0)} kbit/s for 1024`);
  t.ok(kbps > 1024 * 0.8 && kbps < 1024 * 1.2, `bitrate ${kbps.toFixed(0)} within ±20% of 1024 kbit/s`);

  const db = psnr(file, join(dir, 'src.yuv'), 'yuv420p', W, H);
  t.comment(`PSNR ${db} dB`);
  t.ok(db > 30, `PSNR ${db} dB > 30`);

  // The avcC record: parsed here, its SPS/PPS in front of the coded frames must decode at 704x576.
  const info = enc.streamInfo();
  t.equal(info.codec, 'h264');
  t.equal(`${info.width}x${info.height}`, '704x576');
  const rec = parseAvcC(info.config);
  t.equal(rec.lengthSize, 4);
  t.equal(rec.profile, 77, 'avcC profile_idc Main');
  t.same(rec.sps.map((b) => Buffer.from(b).toString('hex')), enc.parameterSets().sps.map((b) => Buffer.from(b).toString('hex')));
  const fromAvcC = Buffer.concat([...rec.sps, ...rec.pps].flatMap((p) => [Buffer.from([0, 0, 0, 1]), Buffer.from(p)]));
  const avccFile = join(dir, 'from-avcc.264');
  writeFileSync(avccFile, Buffer.concat([fromAvcC, ...units.map((u) => Buffer.from(annexB(u.data)))]));
  const s2 = streamOf(avccFile);
  t.equal(`${s2['width']}x${s2['height']}`, '704x576', 'avcC parameter sets parse to 704x576');
  t.equal(Number(s2['nb_read_frames']), FRAMES);
  // And in an MP4 built by ffmpeg from the byte stream.
  ffmpeg(['-v', 'error', '-i', file, '-c', 'copy', join(dir, 'main.mp4')]);
  const s3 = streamOf(join(dir, 'main.mp4'));
  t.equal(`${s3['codec_name']} ${s3['width']}x${s3['height']} ${s3['nb_read_frames']}`, `h264 704x576 ${FRAMES}`);
});

t.test('sub stream 352x288 256 kbit/s from the same capture (2:1 downscale)', async (t) => {
  const dir = t.testdir();
  const raw = source(dir, 'nv12');
  const enc = createEncoder('x264');
  t.teardown(() => enc.close());
  const sub = { ...base, width: 352, height: 288, bitrateKbps: 256, inputFormat: 'nv12' as const, profile: 'baseline' as const };
  const scaled: Uint8Array[] = [];
  const { units, file, payloadBytes } = await encodeAll(enc, raw, sub, join(dir, 'sub.264'), FRAMES, (frame) => {
    const out = downscale2x(frame, 'nv12', W, H);
    scaled.push(out);
    return out;
  });
  writeFileSync(join(dir, 'sub.nv12'), Buffer.concat(scaled));
  const s = streamOf(file);
  t.equal(`${s['codec_name']} ${s['profile']} ${s['width']}x${s['height']}`, 'h264 Constrained Baseline 352x288');
  t.equal(Number(s['nb_read_frames']), FRAMES);
  t.same(frames(file).key, [0, 50]);
  t.equal(units.length, FRAMES);
  const kbps = (payloadBytes * 8) / (FRAMES / FPS) / 1000;
  t.comment(`sub bitrate ${kbps.toFixed(0)} kbit/s for 256`);
  t.ok(kbps > 256 * 0.8 && kbps < 256 * 1.2, `bitrate ${kbps.toFixed(0)} within ±20% of 256 kbit/s`);
  const db = psnr(file, join(dir, 'sub.nv12'), 'nv12', 352, 288);
  t.ok(db > 30, `PSNR against the downscaled input ${db} dB > 30`);
  // The scaler itself against ffmpeg's area (box) scaler from the same source.
  writeFileSync(join(dir, 'src.nv12'), raw);
  ffmpeg(['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'nv12', '-s', `${W}x${H}`, '-i', join(dir, 'src.nv12'), '-vf', 'scale=352:288:flags=area', '-pix_fmt', 'nv12', '-f', 'rawvideo', join(dir, 'ref.nv12')]);
  const scalerDb = psnr(join(dir, 'ref.nv12'), join(dir, 'sub.nv12'), 'nv12', 352, 288, true);
  t.comment(`scaler vs ffmpeg area: ${scalerDb} dB`);
  t.ok(scalerDb > 40, `downscale2x matches ffmpeg's area scaler (${scalerDb} dB)`);
});

for (const format of ['nv12', 'yuyv'] as const) {
  t.test(`${format} input, vbr, high profile`, async (t) => {
    const dir = t.testdir();
    const frames = 25;
    const raw = source(dir, format, W, H, frames);
    const ref = source(dir, 'yuv420p', W, H, frames);
    writeFileSync(join(dir, 'ref.yuv'), ref);
    const enc = createEncoder('x264');
    t.teardown(() => enc.close());
    const config = { ...base, inputFormat: format, rateControl: 'vbr' as const, profile: 'high' as const };
    const { file } = await encodeAll(enc, raw, config, join(dir, `${format}.264`), frames);
    const s = streamOf(file);
    t.equal(`${s['profile']} ${s['width']}x${s['height']} ${s['nb_read_frames']}`, `High 704x576 ${frames}`);
    t.equal(parseAvcC(enc.streamInfo().config).profile, 100);
    const db = psnr(file, join(dir, 'ref.yuv'), 'yuv420p', W, H);
    t.ok(db > 30, `PSNR ${db} dB > 30`);
  });
}

t.test('forced keyframe and planes with padded strides', async (t) => {
  const dir = t.testdir();
  const raw = source(dir, 'yuv420p', W, H, 10);
  const enc = createEncoder('x264');
  t.teardown(() => enc.close());
  await enc.configure({ ...base, gop: 250 });
  const size = rawFrameSize('yuv420p', W, H);
  const stride = W + 64;
  const keys: boolean[] = [];
  for (let i = 0; i < 10; i++) {
    const f = raw.subarray(i * size, (i + 1) * size);
    // Copy into padded planes to exercise the { planes, strides } form.
    const y = new Uint8Array(stride * H);
    const u = new Uint8Array((stride / 2) * (H / 2));
    const v = new Uint8Array((stride / 2) * (H / 2));
    for (let r = 0; r < H; r++) y.set(f.subarray(r * W, r * W + W), r * stride);
    for (let r = 0; r < H / 2; r++) {
      u.set(f.subarray(W * H + (r * W) / 2, W * H + (r * W) / 2 + W / 2), (r * stride) / 2);
      v.set(f.subarray((W * H * 5) / 4 + (r * W) / 2, (W * H * 5) / 4 + (r * W) / 2 + W / 2), (r * stride) / 2);
    }
    const out = await enc.encode({ planes: [y, u, v], strides: [stride, stride / 2, stride / 2] }, 1000 + i * 40_000, { forceKeyframe: i === 5 });
    keys.push(...out.map((o) => o.keyframe));
  }
  t.same(keys.map((k, i) => (k ? i : -1)).filter((i) => i >= 0), [0, 5]);
});

t.test('bad input, use after close, unsupported settings', async (t) => {
  const enc = createEncoder('x264');
  await t.rejects(enc.encode(new Uint8Array(10), 0), { code: 'NOT_CONFIGURED' });
  const bad = async (patch: Partial<EncoderConfig> | Record<string, unknown>, setting: string, message: RegExp) => {
    const e = createEncoder('x264');
    await t.rejects(e.configure({ ...base, ...patch } as EncoderConfig), { name: 'EncoderError', code: 'BAD_CONFIG', setting, message }, `${setting} is named`);
    await e.close();
  };
  await bad({ codec: 'h265' }, 'codec', /h264 only, not 'h265'/);
  await bad({ profile: 'high10' }, 'profile', /profile: must be one of baseline, main, high/);
  await bad({ inputFormat: 'rgb24' }, 'inputFormat', /inputFormat/);
  await bad({ width: 703 }, 'width', /even/);
  await bad({ fps: 0 }, 'fps', /fps/);
  await bad({ rateControl: 'crf' }, 'rateControl', /'cbr' or 'vbr'/);
  await bad({ preset: 'warp' }, 'preset', /preset/);
  await bad({ options: { 'no-such-thing': 1 } }, 'options.no-such-thing', /no setting 'no-such-thing'/);
  await bad({ options: { 'me': 'teleport' } }, 'options.me', /rejects me=teleport/);

  await enc.configure(base);
  const size = rawFrameSize('yuv420p', W, H);
  await t.rejects(enc.encode(new Uint8Array(size - 1), 1), {
    code: 'BAD_INPUT',
    message: `raw yuv420p 704x576 picture must be ${size} bytes, got ${size - 1}`,
  });
  await t.rejects(enc.encode({ planes: [new Uint8Array(W * H)], strides: [W] }, 1), { code: 'BAD_INPUT', message: /needs 3 planes/ });
  const frame = new Uint8Array(size);
  t.equal((await enc.encode(frame, 100)).length, 1);
  await t.rejects(enc.encode(frame, 100), { code: 'BAD_INPUT', message: /not after the previous/ });
  t.equal((await enc.encode(frame, 200)).length, 1, 'still usable after a bad frame');
  await enc.close();
  await enc.close();
  await t.rejects(enc.encode(frame, 300), { code: 'CLOSED', message: 'x264: encoder is closed' });
  await t.rejects(enc.flush(), { code: 'CLOSED' });
  await t.rejects(enc.configure(base), { code: 'CLOSED' });
  t.throws(() => enc.parameterSets(), { code: 'CLOSED' });
  t.ok(new EncoderError('BAD_INPUT', 'x') instanceof Error);
});

t.test('queued encodes complete before close()', async (t) => {
  const enc = createEncoder('x264');
  await enc.configure({ ...base, width: 352, height: 288 });
  const frame = new Uint8Array(rawFrameSize('yuv420p', 352, 288));
  const pending = [1, 2, 3].map((i) => enc.encode(frame, i * 40_000));
  const closing = enc.close();
  const results = await Promise.all(pending);
  await closing;
  t.same(results.map((r) => r.length), [1, 1, 1]);
});

t.test('pool: size setting, and encoders fail cleanly when their worker is gone', async (t) => {
  t.throws(() => setEncoderPoolSize(0), { code: 'BAD_CONFIG', setting: 'poolSize' });
  await shutdownEncoderPool();
  setEncoderPoolSize(1);
  const enc = createEncoder('x264');
  await enc.configure({ ...base, width: 176, height: 144 });
  t.equal(encoderPoolThreads(), 1);
  await shutdownEncoderPool();
  t.equal(encoderPoolThreads(), 0);
  await t.rejects(enc.encode(new Uint8Array(rawFrameSize('yuv420p', 176, 144)), 1), { code: 'BACKEND', message: /x264 worker failed/ });
  // A new encoder starts a new worker.
  const again = createEncoder('x264');
  await again.configure({ ...base, width: 176, height: 144 });
  t.equal((await again.encode(new Uint8Array(rawFrameSize('yuv420p', 176, 144)), 1)).length, 1);
  await again.close();
  await enc.close();
});

t.test('a group (a channel main and sub) shares one worker; encodes made together come back to their own encoder', async (t) => {
  await shutdownEncoderPool();
  setEncoderPoolSize(2);
  const main = createEncoder('x264', { group: 'ch1' });
  const sub = createEncoder('x264', { group: 'ch1' });
  await main.configure({ ...base, width: 352, height: 288 });
  await sub.configure({ ...base, width: 176, height: 144, bitrateKbps: 128 });
  t.equal(encoderPoolThreads(), 1, 'both encoders on one thread, though the pool may hold two');
  const other = createEncoder('x264');
  await other.configure({ ...base, width: 176, height: 144 });
  t.equal(encoderPoolThreads(), 2, 'an encoder outside the group gets the other thread');
  // Made in one turn: they travel in one message; each promise gets its own stream's units.
  const big = new Uint8Array(rawFrameSize('yuv420p', 352, 288)).fill(100);
  const small = new Uint8Array(rawFrameSize('yuv420p', 176, 144)).fill(100);
  const [a, b, c] = await Promise.all([main.encode(big, 0), sub.encode(small, 0), main.encode(big, 40_000)]);
  t.equal(a.length, 1);
  t.equal(b.length, 1);
  t.equal(c.length, 1);
  t.ok(a[0]!.keyframe && b[0]!.keyframe && !c[0]!.keyframe, 'first frames are IDR, the next is not');
  t.equal(c[0]!.ptsUs, 40_000);
  t.same([main.streamInfo().width, sub.streamInfo().width], [352, 176]);
  // An error in one request of a batch fails that request alone.
  await t.rejects(Promise.all([main.encode(big, 80_000), sub.encode(big, 40_000)]), { code: 'BAD_INPUT' });
  t.equal((await main.encode(big, 120_000)).length, 1, 'the group still encodes');
  await Promise.all([main.close(), sub.close(), other.close()]);
});
