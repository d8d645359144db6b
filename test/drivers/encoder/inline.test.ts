// The in-process X264Encoder (sync and koffi-async calls), the layout
// table against the generator, the scaler and the H.264 helpers.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  annexB,
  avcC,
  downscale2x,
  downscaledFormat,
  scalerEngine,
  fromAnnexB,
  prepareKoffiForAsyncEncode,
  splitAnnexB,
  rawFrameSize,
  splitLengthPrefixed,
  X264Encoder,
  x264Layout,
  yuyvToI420,
  type EncoderConfig,
} from '../../../drivers/encoder/index.js';

// First thing, before this process loads any library through koffi.
const asyncReady = prepareKoffiForAsyncEncode();

const config: EncoderConfig = {
  codec: 'h264',
  width: 352,
  height: 288,
  fps: '25/1',
  bitrateKbps: 256,
  rateControl: 'cbr',
  gop: 25,
  profile: 'baseline',
  inputFormat: 'yuv420p',
};

function gradient(i: number): Uint8Array {
  const f = new Uint8Array(rawFrameSize('yuv420p', 352, 288));
  for (let p = 0; p < 352 * 288; p++) f[p] = (p + i * 7) & 0xff;
  f.fill(128, 352 * 288);
  return f;
}

t.test('koffi async stack can be raised before any library loads', async (t) => {
  t.equal(asyncReady, true);
});

t.test('async calls keep the event loop ticking', async (t) => {
  const enc = new X264Encoder({ calls: 'async' });
  await enc.configure({ ...config, width: 704, height: 576, bitrateKbps: 2048, preset: 'medium' });
  const frame = new Uint8Array(rawFrameSize('yuv420p', 704, 576)).map((_, i) => (i * 31) & 0xff);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const t0 = performance.now();
  let units = 0;
  for (let i = 0; i < 30; i++) units += (await enc.encode(frame, i * 40_000)).length;
  const ms = performance.now() - t0;
  clearInterval(timer);
  await enc.close();
  t.equal(units, 30);
  t.comment(`30 D1 frames in ${ms.toFixed(0)} ms, timer ticked ${ticks} times`);
  t.ok(ticks > 0, 'timers ran while encoding');
});

t.test('sync calls, lookahead tune and flush', async (t) => {
  const enc = new X264Encoder({ tune: null });
  await enc.configure({ ...config, options: { 'rc-lookahead': 10, 'sync-lookahead': 0 } });
  const out = [];
  for (let i = 0; i < 20; i++) out.push(...enc.encodeSync(gradient(i), i * 40_000));
  t.ok(out.length < 20, `lookahead holds frames back (${out.length} out of 20)`);
  out.push(...(await enc.flush()));
  t.equal(out.length, 20, 'flush drains the rest');
  t.same(out.map((u) => u.ptsUs), Array.from({ length: 20 }, (_, i) => i * 40_000), 'in order, no B-frames');
  t.ok(enc.stats.nativeMs > 0);
  t.equal(enc.stats.frames, 20);
  // Reconfigure on the same encoder.
  await enc.configure({ ...config, width: 176, height: 144 });
  t.equal(enc.streamInfo().width, 176);
  enc.closeSync();
  t.throws(() => enc.encodeSync(gradient(0), 1), { code: 'CLOSED' });
  t.throws(() => new X264Encoder({ tune: 'fast' as never }), { code: 'BAD_CONFIG', setting: 'tune' });
});

t.test('committed layout table matches gen-layout.sh on this host', async (t) => {
  const script = fileURLToPath(new URL('../../../drivers/encoder/x264/gen-layout.sh', import.meta.url));
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    execFileSync('sh', ['-c', 'echo "#include <x264.h>" | gcc -E -x c - >/dev/null 2>&1']);
  } catch {
    t.pass('skipped: no gcc or no x264.h here');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'x264-layout-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('bash', [script], { env: { ...process.env, OUT_DIR: dir }, stdio: 'ignore' });
  const generated = readFileSync(join(dir, `${process.arch}.ts`), 'utf8');
  const committed = readFileSync(fileURLToPath(new URL(`../../../drivers/encoder/x264/layouts/${process.arch}.ts`, import.meta.url)), 'utf8');
  const body = (s: string) => s.split('\n').filter((l) => !l.startsWith('//')).join('\n');
  t.equal(body(generated), body(committed));
  t.equal(x264Layout().build, 164);
  t.throws(() => x264Layout('mips'), { code: 'UNSUPPORTED', message: /no structure layout for architecture 'mips'.*gen-layout\.sh/ });
  t.equal(x264Layout('arm').pointerSize, 4, '32-bit ARM table present');
  t.equal(x264Layout('arm64').param.size, 1024);
});

// The ARM tables, from the same header through the cross compilers (compile
// only): make deps-test installs them, so a change of x264.h that moves a
// field on 32-bit ARM fails here, not on a board.
for (const [cc, arch] of [['aarch64-linux-gnu-gcc', 'arm64'], ['arm-linux-gnueabihf-gcc', 'arm']] as const) {
  let has = true;
  try {
    execFileSync(cc, ['--version'], { stdio: 'ignore' });
  } catch {
    has = false;
  }
  t.test(`committed ${arch} layout table matches gen-layout.sh with ${cc}`, { skip: !has && `${cc} not installed (Debian gcc-${cc.replace(/-gcc$/, '').replace(/_/g, '-')})` }, async (t) => {
    const script = fileURLToPath(new URL('../../../drivers/encoder/x264/gen-layout.sh', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), `x264-layout-${arch}-`));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('bash', [script, cc], { env: { ...process.env, OUT_DIR: dir }, stdio: 'ignore' });
    const body = (s: string) => s.split('\n').filter((l) => !l.startsWith('//')).join('\n');
    const committed = readFileSync(fileURLToPath(new URL(`../../../drivers/encoder/x264/layouts/${arch}.ts`, import.meta.url)), 'utf8');
    t.equal(body(readFileSync(join(dir, `${arch}.ts`), 'utf8')), body(committed));
  });
}

t.test('downscale2x and yuyvToI420 on known pixels', async (t) => {
  // 4x4 nv12: Y ramp, UV rows.
  const y = Uint8Array.from({ length: 16 }, (_, i) => i * 10);
  const uv = Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80]);
  const nv12 = new Uint8Array([...y, ...uv]);
  const half = downscale2x(nv12, 'nv12', 4, 4);
  // Y(0,0) = avg(0,10,40,50)=25; Y(1,0)=avg(20,30,60,70)=45; Y(0,1)=avg(80,90,120,130)=105; Y(1,1)=125
  // UV (one sample pair): U = avg(10,30,50,70)=40, V = avg(20,40,60,80)=50
  t.same([...half], [25, 45, 105, 125, 40, 50]);
  const i420 = new Uint8Array([...y, 1, 2, 3, 4, 5, 6, 7, 8]);
  t.same([...downscale2x(i420, 'yuv420p', 4, 4)], [25, 45, 105, 125, 3, 7]);
  // yuyv 4x4: each row Y0 U Y1 V Y2 U Y3 V.
  const yuyv = new Uint8Array(32);
  for (let r = 0; r < 4; r++) yuyv.set([r * 4, 100 + r, r * 4 + 1, 200 + r, r * 4 + 2, 110 + r, r * 4 + 3, 210 + r], r * 8);
  const full = yuyvToI420(yuyv, 4, 4);
  t.same([...full.subarray(0, 16)], Array.from({ length: 16 }, (_, i) => i), 'luma kept');
  // U rows 0+1: (100+101+1)>>1 = 101, (110+111+1)>>1 = 111; rows 2+3: 103, 113
  t.same([...full.subarray(16, 20)], [101, 111, 103, 113]);
  t.same([...full.subarray(20, 24)], [201, 211, 203, 213]);
  const halfYuyv = downscale2x(yuyv, 'yuyv', 4, 4);
  t.equal(downscaledFormat('yuyv'), 'yuv420p');
  t.equal(halfYuyv.length, 6);
  t.same([...halfYuyv.subarray(0, 4)], [3, 5, 11, 13]); // (0+1+4+5+2)>>2=3, (2+3+6+7+2)>>2=5, ...
  t.same([...halfYuyv.subarray(4)], [(100 + 110 + 101 + 111 + 2) >> 2, (200 + 210 + 201 + 211 + 2) >> 2]);
  t.throws(() => downscale2x(nv12, 'nv12', 6, 4), { code: 'BAD_INPUT', message: /multiple of 4/ });
  t.throws(() => downscale2x(nv12, 'nv12', 4, 4, new Uint8Array(5)), { code: 'BAD_INPUT', message: /output must be 6 bytes/ });
  t.throws(() => yuyvToI420(yuyv, 4, 2), { code: 'BAD_INPUT' });
});

t.test('downscale2x: libyuv (when installed) and the JavaScript loop give the same bytes', async (t) => {
  t.equal(scalerEngine(), 'libyuv', 'libyuv0 is installed by scripts/install-deps.sh');
  const noise = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24);
  for (const [format, w, h] of [['nv12', 704, 576], ['yuv420p', 704, 576], ['nv12', 4, 4], ['yuv420p', 12, 8]] as const) {
    const packed = noise((w * h * 3) / 2);
    t.same(downscale2x(packed, format, w, h), downscale2x(packed, format, w, h, undefined, 'js'), `${format} ${w}x${h}`);
    // Padded rows, as capture drivers hand them out.
    const stride = w + 32;
    const planes = format === 'nv12' ? [noise(stride * h), noise((stride * h) / 2)] : [noise(stride * h), noise((stride / 2) * (h / 2)), noise((stride / 2) * (h / 2))];
    const strides = format === 'nv12' ? [stride, stride] : [stride, stride / 2, stride / 2];
    t.same(downscale2x({ planes, strides }, format, w, h), downscale2x({ planes, strides }, format, w, h, undefined, 'js'), `${format} ${w}x${h} with a stride of ${stride}`);
  }
});

t.test('annexB, avcC and length-prefixed splitting', async (t) => {
  const au = new Uint8Array([0, 0, 0, 2, 0x65, 0xaa, 0, 0, 0, 1, 0x06]);
  t.same(splitLengthPrefixed(au).map((n) => [...n]), [[0x65, 0xaa], [0x06]]);
  t.throws(() => splitLengthPrefixed(new Uint8Array([0, 0, 0, 9, 1])), /overruns/);
  const sps = new Uint8Array([0x67, 100, 0, 30, 0xac]);
  const pps = new Uint8Array([0x68, 0xce]);
  t.same([...annexB(au)], [0, 0, 0, 1, 0x65, 0xaa, 0, 0, 0, 1, 0x06]);
  t.same([...annexB(au, { sps: [sps], pps: [pps] })].slice(0, 17), [0, 0, 0, 1, ...sps, 0, 0, 0, 1, ...pps, 0, 0]);
  const rec = avcC({ sps: [sps], pps: [pps] });
  t.same([...rec], [1, 100, 0, 30, 0xff, 0xe1, 0, 5, ...sps, 1, 0, 2, ...pps, 0xfd, 0xf8, 0xf8, 0]);
  const main = avcC({ sps: [new Uint8Array([0x67, 77, 0x40, 30])], pps: [pps] });
  t.equal(main.length, 7 + 2 + 4 + 2 + 2, 'no High trailer for Main');
  t.throws(() => avcC({ sps: [], pps: [] }), /no SPS/);
});

t.test('fromAnnexB: what a hardware (m2m) encoder returns -> CodedUnit form', async (t) => {
  const sps = [0x67, 77, 0, 30];
  const pps = [0x68, 0xce];
  const stream = new Uint8Array([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, ...sps, 0, 0, 1, ...pps, 0, 0, 0, 1, 0x65, 1, 2, 0, 0, 1, 0x06, 5]);
  t.same(splitAnnexB(stream).map((n) => n[0]), [0x09, 0x67, 0x68, 0x65, 0x06]);
  const au = fromAnnexB(stream);
  t.equal(au.keyframe, true);
  t.same(au.params.sps.map((p) => [...p]), [sps]);
  t.same(au.params.pps.map((p) => [...p]), [pps]);
  t.same([...au.data], [0, 0, 0, 3, 0x65, 1, 2, 0, 0, 0, 2, 0x06, 5]);
  t.same([...annexB(au.data, au.params)], [0, 0, 0, 1, ...sps, 0, 0, 0, 1, ...pps, 0, 0, 0, 1, 0x65, 1, 2, 0, 0, 0, 1, 0x06, 5], 'round trip');
  t.equal(fromAnnexB(new Uint8Array([0, 0, 1, 0x41, 9])).keyframe, false);
  t.same(splitAnnexB(new Uint8Array([1, 2, 3])), []);
});
