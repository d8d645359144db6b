// H.265 from the v4l2-m2m backend: its hvcC record and sample data. No M2M
// encoder with H.265 exists on this machine or on the virtual board (vicodec
// does FWHT only), so the stand-in kernel hands the backend what such a
// hardware encoder returns: Annex B access units with VPS/SPS/PPS before each
// keyframe, here made by ffmpeg's libx265. The judge is ffmpeg: an MP4 made
// from the backend's streamInfo() and units (parameter sets only in hvcC)
// must decode every frame, and the record must say what ffmpeg's own says.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EncoderError, fromAnnexBH265, h265NalType, hvcC, M2mEncoder, splitAnnexB, type EncoderConfig } from '../../../drivers/encoder/index.js';
import { stopIdlePollThreads } from '../../../drivers/v4l2/index.js';
import { exportMp4 } from '../../../firmware/media/mp4/export.js';
import { kernel } from './fixtures/m2m-stand-in.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'm2m-h265-'));
t.teardown(async () => {
  await stopIdlePollThreads();
  rmSync(dir, { recursive: true, force: true });
});
const node = join(dir, 'video11');
writeFileSync(node, '');
const W = 320;
const H = 240;
const N = 12;

async function hasX265(): Promise<string | false> {
  try {
    const { stdout } = await run('ffmpeg', ['-hide_banner', '-encoders']);
    return /libx265/.test(stdout) ? false : 'this ffmpeg has no libx265 encoder';
  } catch {
    return 'ffmpeg is not installed (scripts/install-deps.sh test installs it)';
  }
}

/** Access units of an Annex B H.265 stream: a new one at a parameter set, AUD or prefix SEI, or a first slice, once a picture is in. */
function accessUnits(stream: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  let au: Uint8Array[] = [];
  let picture = false;
  for (const nal of splitAnnexB(stream)) {
    const type = h265NalType(nal);
    const vcl = type >= 0 && type <= 31;
    const starts = (vcl && nal[2]! & 0x80) || (type >= 32 && type <= 35) || type === 39;
    if (starts && picture) {
      out.push(au);
      au = [];
      picture = false;
    }
    au.push(nal);
    picture ||= vcl;
  }
  if (au.length) out.push(au);
  return out;
}

const annexB = (nals: Uint8Array[]) => Buffer.concat(nals.flatMap((n) => [Buffer.from([0, 0, 0, 1]), Buffer.from(n)]));

/** The body of the first `type` box anywhere in an MP4 (a flat search is enough for ffmpeg's small files). */
function boxBody(file: Uint8Array, type: string): Uint8Array {
  const at = Buffer.from(file).indexOf(type, 0, 'latin1');
  if (at < 4) throw new Error(`no ${type} box`);
  const size = Buffer.from(file).readUInt32BE(at - 4);
  return file.subarray(at + 4, at - 4 + size);
}

/** NAL units of an hvcC record by type (VPS 32, SPS 33, PPS 34), as hex; other arrays (ffmpeg may add SEI) left out. */
function recordArrays(b: Uint8Array): Map<number, string[]> {
  const out = new Map<number, string[]>();
  let at = 23;
  for (let a = 0; a < b[22]!; a++) {
    const type = b[at]! & 0x3f;
    const count = (b[at + 1]! << 8) | b[at + 2]!;
    at += 3;
    for (let i = 0; i < count; i++) {
      const len = (b[at]! << 8) | b[at + 1]!;
      if (type >= 32 && type <= 34) out.set(type, [...(out.get(type) ?? []), Buffer.from(b.subarray(at + 2, at + 2 + len)).toString('hex')]);
      at += 2 + len;
    }
  }
  return new Map([...out].sort(([x], [y]) => x - y));
}

const noX265 = await hasX265();
t.test('H.265 through the stand-in: hvcC, keyframes, MP4 that ffmpeg decodes', { skip: noX265 }, async (t) => {
  const hevc = join(dir, 'x265.hevc');
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=25`, '-frames:v', String(N), '-pix_fmt', 'yuv420p', '-c:v', 'libx265',
    '-x265-params', 'keyint=10:min-keyint=10:scenecut=0:bframes=0:repeat-headers=1:log-level=error', '-f', 'hevc', hevc]);
  const aus = accessUnits(readFileSync(hevc));
  t.equal(aus.length, N, 'x265 gave one access unit per picture');
  kernel(t, aus.map(annexB));

  const enc = new M2mEncoder({ device: node });
  const config: EncoderConfig = { codec: 'h265', width: W, height: H, fps: 25, bitrateKbps: 500, rateControl: 'cbr', gop: 10, profile: 'main', inputFormat: 'yuyv' };
  await enc.configure(config);
  t.throws(() => enc.streamInfo(), { code: 'NOT_CONFIGURED' }, 'no parameter sets before the first keyframe');
  const units = [];
  const picture = new Uint8Array(W * H * 2);
  for (let i = 0; i < N; i++) units.push(...(await enc.encode(picture, 1_000_000 + i * 40_000)));
  t.equal(units.length, N, 'one unit per picture');
  t.same(units.map((u) => u.keyframe), units.map((_, i) => i % 10 === 0), 'IRAP every GOP');
  for (const u of units) {
    const nals = [];
    for (let at = 0; at < u.data.length; ) {
      const len = Buffer.from(u.data).readUInt32BE(at);
      nals.push(h265NalType(u.data.subarray(at + 4, at + 4 + len)));
      at += 4 + len;
    }
    t.ok(nals.every((n) => n < 32 || n === 39 || n === 40), `pts ${u.ptsUs}: no VPS/SPS/PPS/AUD in the sample (${nals.join(',')})`);
  }
  const info = enc.streamInfo();
  t.same([info.codec, info.width, info.height], ['h265', W, H]);
  const params = enc.parameterSets();
  t.same([params.vps?.length, params.sps.length, params.pps.length], [1, 1, 1], 'VPS, SPS and PPS kept');

  // The record against the one ffmpeg writes for the same stream.
  const ref = join(dir, 'ref.mp4');
  await run('ffmpeg', ['-v', 'error', '-i', hevc, '-c', 'copy', '-tag:v', 'hvc1', ref]);
  const theirs = boxBody(readFileSync(ref), 'hvcC');
  const ours = info.config;
  t.same([...ours.subarray(0, 13)], [...theirs.subarray(0, 13)], 'version, profile space/tier/idc, compatibility, constraints, level');
  t.same([ours[16], ours[17], ours[18]], [theirs[16], theirs[17], theirs[18]], 'chroma format and bit depths');
  t.equal(ours[21]! & 0x3f, theirs[21]! & 0x3f, 'temporal layers, nesting and 4-byte lengths');
  t.same(recordArrays(ours), recordArrays(theirs), 'the same VPS, SPS and PPS');
  t.equal(recordArrays(ours).get(32)?.length, 1);

  // An MP4 whose only parameter sets are in our hvcC: ffmpeg must decode every frame.
  const mp4 = join(dir, 'ours.mp4');
  await exportMp4(mp4, [{ info, frames: units.map((u) => ({ time: 1_700_000_000_000_000 + u.ptsUs, keyframe: u.keyframe, data: u.data })) }]);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,profile,width,height,nb_read_frames', '-of', 'json', mp4]);
  t.match(JSON.parse(stdout).streams[0], { codec_name: 'hevc', profile: 'Main', width: W, height: H, nb_read_frames: String(N) });
  const decode = await run('ffmpeg', ['-v', 'error', '-i', mp4, '-f', 'null', '-']);
  t.equal(decode.stderr, '', 'ffmpeg decodes it without a complaint');
  await enc.close();
});

t.test('hvcC and fromAnnexBH265 refuse what they cannot describe', async (t) => {
  t.throws(() => hvcC({ sps: [], pps: [] }), { code: 'BACKEND', message: /needs VPS, SPS and PPS \(have 0, 0, 0\)/ });
  const vps = Uint8Array.of(0x40, 0x01, 0x0c);
  const pps = Uint8Array.of(0x44, 0x01, 0xc1);
  t.throws(() => hvcC({ vps: [vps], sps: [pps], pps: [pps] }), { code: 'BACKEND', message: /NAL type 34 is not an SPS/ });
  t.throws(() => hvcC({ vps: [vps], sps: [Uint8Array.of(0x42, 0x01, 0x01)], pps: [pps] }), EncoderError, 'a truncated SPS');
  const au = fromAnnexBH265(Uint8Array.of(0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 1, 0x02, 0x01, 0xd0, 0x10));
  t.same([au.keyframe, au.params.vps, au.params.sps], [false, [], []], 'AUD dropped, a trailing picture kept');
  t.equal(au.data.length, 4 + 4);
});
