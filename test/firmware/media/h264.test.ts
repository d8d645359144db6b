import t from 'tap';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import {
  annexBToLengthPrefixed, buildAvcC, h264AccessUnits, h264NalType, H264Nal, isH264Keyframe, joinLengthPrefixed,
  lengthPrefixedToAnnexB, parseAvcC, parseH264Sps, splitAnnexB, splitH264AccessUnit, splitLengthPrefixed,
} from '../../../firmware/media/h264.js';
import { MediaFormatError } from '../../../firmware/media/errors.js';
import { ffmpeg, ffprobe, tempDir } from './helpers/ffmpeg.js';

const dir = await tempDir(t);
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

t.test('Annex B split on 3- and 4-byte start codes, round trip through length prefixes', async (t) => {
  const buf = bytes(0xaa, 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 0, 0);
  const nals = splitAnnexB(buf);
  t.same(nals.map((n) => Array.from(n)), [[0x67, 1, 2], [0x68, 3], [0x65, 4, 5]], 'leading junk and trailing zeros dropped');
  t.same(nals.map(h264NalType), [H264Nal.SPS, H264Nal.PPS, H264Nal.IDR]);
  const lp = annexBToLengthPrefixed(buf);
  t.same(Array.from(lp), [0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 2, 0x68, 3, 0, 0, 0, 3, 0x65, 4, 5]);
  t.same(splitAnnexB(lengthPrefixedToAnnexB(lp)).map((n) => Array.from(n)), nals.map((n) => Array.from(n)));
  t.same(splitAnnexB(bytes(1, 2, 3)), [], 'no start code, no NAL units');
  t.same(splitAnnexB(bytes(0, 0, 1, 0, 0, 1)), [], 'empty NAL units dropped');
  t.same(Array.from(joinLengthPrefixed([])), []);
});

t.test('truncated or zero-length NAL units in length-prefixed data are clear errors', async (t) => {
  t.throws(() => splitLengthPrefixed(bytes(0, 0, 0, 5, 0x65, 1)), { name: 'MediaFormatError', message: /truncated NAL unit: 5 bytes announced at byte 0, 2 present/ });
  t.throws(() => splitLengthPrefixed(bytes(0, 0, 0, 1, 0x65, 0, 0)), /truncated NAL length at byte 5/);
  t.throws(() => splitLengthPrefixed(bytes(0, 0, 0, 0)), /zero-length NAL unit/);
  t.throws(() => lengthPrefixedToAnnexB(bytes(0, 0, 9)), MediaFormatError);
});

const PROFILE_NAMES: Record<number, string> = { 66: 'Baseline', 77: 'Main', 100: 'High', 244: 'High 4:4:4 Predictive' };

for (const [size, profile, pix] of [
  ['704x576', 'baseline', 'yuv420p'],
  ['352x288', 'main', 'yuv420p'],
  ['1920x1080', 'high', 'yuv420p'],
  ['1366x766', 'high444', 'yuv444p'],
  ['720x480', 'high', 'yuv420p', 'interlaced'],
] as const) {
  t.test(`SPS of ${size} ${profile} ${pix} matches ffprobe`, async (t) => {
    const path = join(dir, `${size}-${profile}.264`);
    const x = size === '720x480' ? ['-flags', '+ildct+ilme', '-x264-params', 'interlaced=1'] : [];
    await ffmpeg('-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25`, '-t', '0.2', '-c:v', 'libx264', '-profile:v', profile, '-pix_fmt', pix, ...x, '-f', 'h264', path);
    const probe = (await ffprobe(path)).streams[0]!;
    const nals = splitAnnexB(new Uint8Array(await readFile(path)));
    const sps = parseH264Sps(nals.find((n) => h264NalType(n) === H264Nal.SPS)!);
    t.same([sps.width, sps.height], [probe.width, probe.height], 'size, after cropping');
    t.equal(probe.profile?.replace('Constrained ', ''), PROFILE_NAMES[sps.profileIdc]);
    t.equal(sps.levelIdc, probe.level);
    t.equal(sps.fps, 25, 'frame rate from VUI timing');
    t.equal(sps.frameMbsOnly, x.length === 0);
    if (size === '1920x1080') t.equal(sps.height % 16, 8, '1080 = 1088 coded minus 8 cropped');
    t.equal(sps.chromaFormatIdc, pix === 'yuv444p' ? 3 : 1);
  });
}

t.test('SPS sample aspect ratio from VUI (analog D1 is 12:11) matches ffprobe', async (t) => {
  for (const sar of ['12:11', '16:11', '5:3']) {
    const path = join(dir, `sar-${sar.replace(':', 'x')}.264`);
    await ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=704x576:rate=25', '-t', '0.2', '-vf', `setsar=${sar}`, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-f', 'h264', path);
    const probe = (await ffprobe(path)).streams[0]! as { width?: number; height?: number; sample_aspect_ratio?: string };
    const sps = parseH264Sps(splitAnnexB(new Uint8Array(await readFile(path))).find((n) => h264NalType(n) === H264Nal.SPS)!);
    t.same([sps.width, sps.height], [probe.width, probe.height]);
    t.equal(sps.sar?.join(':'), probe.sample_aspect_ratio, sar === '5:3' ? 'an explicit (Extended_SAR) ratio' : 'a table ratio');
    t.equal(sps.fps, 25, 'timing info after the aspect ratio still read');
  }
});

t.test('avcC built from SPS/PPS round-trips and carries the profile', async (t) => {
  const path = join(dir, 'avcc.264');
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=352x288:rate=25', '-t', '1', '-c:v', 'libx264', '-g', '10', '-bf', '0', '-pix_fmt', 'yuv420p', '-f', 'h264', path);
  const nals = splitAnnexB(new Uint8Array(await readFile(path)));
  const aus = h264AccessUnits(nals);
  t.equal(aus.length, 25, 'one access unit per frame');
  const first = splitH264AccessUnit(aus[0]!);
  t.equal(first.sps.length, 1);
  t.equal(first.pps.length, 1);
  t.ok(first.keyframe);
  t.same(aus.map((au) => isH264Keyframe(au)).filter(Boolean).length, 3, 'IDR every 10 frames');
  t.notOk(splitLengthPrefixed(first.data).some((n) => [7, 8, 9].includes(h264NalType(n))), 'no parameter sets or AUDs in the sample');
  const avcc = buildAvcC(first.sps, first.pps);
  const back = parseAvcC(avcc);
  t.equal(back.profileIdc, 100);
  t.equal(back.lengthSize, 4);
  t.same(Array.from(back.sps[0]!), Array.from(first.sps[0]!));
  t.same(Array.from(back.pps[0]!), Array.from(first.pps[0]!));
  t.equal(avcc.length, 6 + 2 + first.sps[0]!.length + 1 + 2 + first.pps[0]!.length + 4, 'High profile carries the 4-byte extension');
  t.same(splitH264AccessUnit(joinLengthPrefixed(aus[1]!)).keyframe, false);
});

t.test('missing or broken parameter sets are clear errors', async (t) => {
  t.throws(() => buildAvcC([], [bytes(0x68, 0xce)]), { name: 'MediaFormatError', message: /no SPS/ });
  t.throws(() => buildAvcC([bytes(0x67, 0x42, 0, 0x1e, 0xf4)], []), /no PPS/);
  t.throws(() => parseH264Sps(bytes(0x68, 1, 2)), /not an H.264 SPS \(NAL type 8\)/);
  t.throws(() => parseH264Sps(bytes(0x67, 0x42, 0, 0x1e)), /H.264 SPS is truncated/);
  t.throws(() => parseH264Sps(bytes(0x67, 0x42, 0, 0x1e, 0, 0, 0, 0, 0, 0)), /invalid exp-Golomb|out of range|truncated/);
  t.throws(() => parseAvcC(bytes(1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 9, 0x67)), /avcC is truncated/);
  t.throws(() => parseAvcC(bytes(0)), /avcC version 0/);
});

// Fuzzing of these parsers: fuzz-media.test.ts (and scripts/bench/fuzz-media.ts at ≥100,000 cases).
