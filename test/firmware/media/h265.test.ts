import t from 'tap';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import {
  buildHvcC, h265AccessUnits, h265NalType, H265Nal, isH265Keyframe, isIrap, joinLengthPrefixed, parseH265Sps, parseHvcC,
  splitAnnexB, splitH265AccessUnit, splitLengthPrefixed,
} from '../../../firmware/media/h265.js';
import { ffmpeg, ffprobe, tempDir } from './helpers/ffmpeg.js';

const dir = await tempDir(t);

async function encode(size: string, pix: string, seconds = 0.2, params = 'log-level=error'): Promise<Uint8Array[]> {
  const path = join(dir, `${size}-${pix}-${seconds}.265`);
  await ffmpeg('-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25`, '-t', String(seconds), '-c:v', 'libx265', '-pix_fmt', pix, '-x265-params', params, '-f', 'hevc', path);
  return splitAnnexB(new Uint8Array(await readFile(path)));
}

for (const [size, pix] of [
  ['704x576', 'yuv420p'],
  ['706x578', 'yuv420p'],
  ['1920x1080', 'yuv420p'],
  ['706x578', 'yuv444p'],
  ['352x288', 'yuv420p10le'],
] as const) {
  t.test(`SPS of ${size} ${pix} matches ffprobe (conformance window included)`, async (t) => {
    const nals = await encode(size, pix);
    const probe = (await ffprobe(join(dir, `${size}-${pix}-0.2.265`))).streams[0]!;
    const sps = parseH265Sps(nals.find((n) => h265NalType(n) === H265Nal.SPS)!);
    t.same([sps.width, sps.height], [probe.width, probe.height]);
    t.equal(sps.levelIdc, probe.level);
    t.equal({ 1: 'Main', 2: 'Main 10', 4: 'Rext' }[sps.profileIdc], probe.profile);
    t.equal(sps.chromaFormatIdc, pix === 'yuv444p' ? 3 : 1);
    t.equal(sps.bitDepthLuma, pix.includes('10') ? 10 : 8);
  });
}

t.test('access units, IRAP keyframes and the hvcC record', async (t) => {
  const nals = await encode('352x288', 'yuv420p', 1, 'log-level=error:keyint=10:min-keyint=10:bframes=0');
  const aus = h265AccessUnits(nals);
  t.equal(aus.length, 25, 'one access unit per frame');
  t.equal(aus.filter((au) => isH265Keyframe(au)).length, 3, 'an IRAP every 10 frames');
  t.ok(isIrap(H265Nal.CRA) && isIrap(H265Nal.IDR_W_RADL) && !isIrap(1));
  const first = splitH265AccessUnit(aus[0]!);
  t.same([first.vps.length, first.sps.length, first.pps.length], [1, 1, 1]);
  t.ok(first.keyframe);
  t.notOk(splitLengthPrefixed(first.data).some((n) => h265NalType(n) >= 32 && h265NalType(n) <= 35), 'no parameter sets in the sample');
  const hvcc = parseHvcC(buildHvcC(first.vps, first.sps, first.pps));
  t.equal(hvcc.profileIdc, 1);
  t.equal(hvcc.levelIdc, parseH265Sps(first.sps[0]!).levelIdc);
  t.equal(hvcc.lengthSize, 4);
  t.same([hvcc.vps, hvcc.sps, hvcc.pps].map((l) => Array.from(l[0]!)), [first.vps, first.sps, first.pps].map((l) => Array.from(l[0]!)));
  t.equal(splitH265AccessUnit(joinLengthPrefixed(aus[1]!)).keyframe, false);
});

t.test('missing or broken parameter sets are clear errors', async (t) => {
  const nals = await encode('352x288', 'yuv420p');
  const [vps, sps, pps] = [32, 33, 34].map((ty) => nals.find((n) => h265NalType(n) === ty)!);
  t.throws(() => buildHvcC([], [sps!], [pps!]), { name: 'MediaFormatError', message: /no VPS/ });
  t.throws(() => buildHvcC([vps!], [], [pps!]), /no SPS/);
  t.throws(() => buildHvcC([vps!], [sps!], []), /no PPS/);
  t.throws(() => parseH265Sps(pps!), /not an H.265 SPS \(NAL type 34\)/);
  t.throws(() => parseH265Sps(sps!.subarray(0, 10)), /H.265 SPS is truncated/);
  t.throws(() => parseHvcC(buildHvcC([vps!], [sps!], [pps!]).subarray(0, 30)), /hvcC is truncated/);
});

// Fuzzing of these parsers: fuzz-media.test.ts (and scripts/bench/fuzz-media.ts at ≥100,000 cases).
