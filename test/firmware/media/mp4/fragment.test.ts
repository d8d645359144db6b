import t from 'tap';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { Fmp4Muxer, type MediaSegment } from '../../../../firmware/media/mp4/fragment.js';
import { MediaFormatError } from '../../../../firmware/media/errors.js';
import { codecString, mimeType } from '../../../../firmware/media/mp4/codec-string.js';
import type { Frame } from '../../../../firmware/media/types.js';
import { decodeErrors, decodedMd5, ffmpeg, ffprobe, frameHashes, tempDir } from '../helpers/ffmpeg.js';
import { aacStream, h264Stream, h265Stream } from '../helpers/sources.js';
import { aacTrack, T0, videoTrack, type Track } from '../helpers/streams.js';
import { findBoxes, readBoxes } from '../helpers/boxes.js';

const dir = await tempDir(t);
const h264 = await h264Stream(dir);
const aac = await aacStream(dir);
const v264 = videoTrack(h264.bytes, 'h264');
const a = aacTrack(aac.bytes);

/** Pushes all tracks' frames in time order, as a live source would deliver them. */
function mux(m: Fmp4Muxer, tracks: Track[]): MediaSegment[] {
  const all = tracks.flatMap((tr, k) => tr.frames.map((f) => ({ k, f })));
  all.sort((x, y) => x.f.time - y.f.time || x.k - y.k);
  const segs = all.flatMap(({ k, f }) => m.push(k, f));
  return [...segs, ...m.flush()];
}

async function save(name: string, m: Fmp4Muxer, segs: MediaSegment[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([m.init, ...segs.map((s) => s.data)]));
  return path;
}

interface TrafInfo {
  track: number;
  tfdt: number;
  durations: number[];
  flagsTfhd: number;
}

function trafs(seg: Uint8Array): TrafInfo[] {
  return findBoxes(seg, ['moof', 'traf']).map((traf) => {
    const inner = readBoxes(traf.body);
    const tfhd = inner.find((b) => b.type === 'tfhd')!.body;
    const tfdt = inner.find((b) => b.type === 'tfdt')!.body;
    const trun = inner.find((b) => b.type === 'trun')!.body;
    const flags = trun.readUInt32BE(0) & 0xffffff;
    const stride = 8 + (flags & 0x400 ? 4 : 0);
    const n = trun.readUInt32BE(4);
    const durations = Array.from({ length: n }, (_, i) => trun.readUInt32BE(12 + i * stride));
    return { track: tfhd.readUInt32BE(4), tfdt: Number(tfdt.readBigUInt64BE(4)), durations, flagsTfhd: tfhd.readUInt32BE(0) & 0xffffff };
  });
}

t.test('H.264 + AAC: one segment per GOP, playable and bit-exact when concatenated', async (t) => {
  const m = new Fmp4Muxer([v264.info, a.info]);
  const segs = mux(m, [v264, a]);
  t.equal(segs.length, 4, 'four GOPs, four segments');
  t.ok(segs.every((s) => s.keyframe), 'each starts with a keyframe');
  t.same(segs.map((s) => s.sequence), [1, 2, 3, 4]);
  t.same(segs.map((s) => s.startTime), [0, 1, 2, 3].map((i) => T0 + i * 1_000_000));
  t.same(readBoxes(m.init).map((b) => b.type), ['ftyp', 'moov']);
  t.equal(findBoxes(m.init, ['moov', 'mvex', 'trex']).length, 2);
  const path = await save('av.mp4', m, segs);
  const p = await ffprobe(path);
  t.equal(p.stderr, '');
  t.equal(p.streams[0]!.codec_name, 'h264');
  t.same([p.streams[0]!.width, p.streams[0]!.height], [704, 576]);
  t.equal(Number(p.streams[0]!.nb_read_frames), 100);
  t.equal(p.streams[1]!.codec_name, 'aac');
  t.equal(Number(p.streams[1]!.nb_read_frames), a.frames.length);
  t.ok(Math.abs(Number(p.format.duration) - 4) <= 0.05, `duration ${p.format.duration}`);
  t.equal(await decodeErrors(path), '');
  t.same(await frameHashes(path, 'v:0'), await frameHashes(h264.path, 'v:0', ['-f', 'h264']));
  t.equal(await decodedMd5(path, 'a:0'), await decodedMd5(aac.path, 'a:0', ['-f', 'aac']));
});

t.test('tfdt continues exactly where the previous segment ended, per track', async (t) => {
  const m = new Fmp4Muxer([v264.info, a.info]);
  const segs = mux(m, [v264, a]);
  const next = new Map<number, number>();
  let total = new Map<number, number>();
  for (const s of segs) {
    for (const tr of trafs(s.data)) {
      t.equal(tr.flagsTfhd & 0x020000, 0x020000, 'default-base-is-moof');
      t.equal(tr.tfdt, next.get(tr.track) ?? 0, `track ${tr.track} tfdt continuous`);
      const sum = tr.durations.reduce((x, y) => x + y, 0);
      next.set(tr.track, tr.tfdt + sum);
      total = total.set(tr.track, (total.get(tr.track) ?? 0) + tr.durations.length);
    }
  }
  t.equal(next.get(1), 4 * 90000, 'video: 4 s at 90 kHz');
  t.equal(total.get(2), a.frames.length, 'every audio frame in some segment');
  t.equal(next.get(2), a.frames.length * 1024, 'audio: 1024 samples a frame');
});

t.test('per-N-ms fragments, and joining mid-GOP drops frames until a keyframe', async (t) => {
  const m = new Fmp4Muxer([v264.info], { fragmentMs: 500 });
  const late = { info: v264.info, frames: v264.frames.slice(10) };
  const segs = mux(m, [late]);
  t.equal(segs[0]!.startTime, v264.frames[25]!.time, 'starts at the next keyframe');
  t.equal(segs.length, 6, '3 s in 500 ms fragments');
  t.same(segs.map((s) => s.keyframe), [true, false, true, false, true, false]);
  const path = await save('late.mp4', m, segs);
  const p = await ffprobe(path);
  t.equal(p.stderr, '');
  t.equal(Number(p.streams[0]!.nb_read_frames), 75);
  t.equal(await decodeErrors(path), '');
  t.same(await frameHashes(path, 'v:0'), (await frameHashes(h264.path, 'v:0', ['-f', 'h264'])).slice(25));
});

t.test('H.265 fragments', async (t) => {
  const h265 = await h265Stream(dir);
  const v = videoTrack(h265.bytes, 'h265');
  const m = new Fmp4Muxer([v.info]);
  const segs = mux(m, [v]);
  const path = await save('hevc.mp4', m, segs);
  const p = await ffprobe(path);
  t.equal(p.stderr, '');
  t.equal(p.streams[0]!.codec_name, 'hevc');
  t.equal(Number(p.streams[0]!.nb_read_frames), 100);
  t.equal(await decodeErrors(path), '');
  t.same(await frameHashes(path, 'v:0'), await frameHashes(h265.path, 'v:0', ['-f', 'hevc']));
});

t.test('a bad frame is refused with a clear error and the stream goes on', async (t) => {
  const m = new Fmp4Muxer([v264.info]);
  const segs: MediaSegment[] = [];
  v264.frames.forEach((f, i) => {
    if (i === 30) {
      t.throws(() => m.push(0, { ...f, data: new Uint8Array(0) }), { name: 'MediaFormatError', message: /frame 30 is empty/ });
      t.throws(() => m.push(0, { ...f, time: f.time - 100_000 }), /time goes backwards/);
      t.throws(() => m.push(0, { ...f, data: f.data.subarray(0, 7) }), /truncated NAL/);
    }
    segs.push(...m.push(0, f));
  });
  segs.push(...m.flush());
  t.throws(() => m.push(3, v264.frames[0]!), MediaFormatError);
  const path = await save('recovered.mp4', m, segs);
  t.equal(Number((await ffprobe(path)).streams[0]!.nb_read_frames), 100);
  t.equal(await decodeErrors(path), '');
  t.throws(() => new Fmp4Muxer([]), /at least one track/);
  t.throws(() => new Fmp4Muxer([{ codec: 'h265', config: new Uint8Array(0) }]), /no hvcC config/);
  const lone: Frame = { time: T0, keyframe: true, data: v264.frames[0]!.data };
  const one = new Fmp4Muxer([v264.info]);
  t.same(one.push(0, lone), []);
  t.equal(trafs(one.flush()[0]!.data)[0]!.durations[0], 3600, 'a lone frame gets a 40 ms duration');
});

t.test('codec strings for MSE: avc1/mp4a as ffmpeg writes them in a DASH manifest, hvc1 per 14496-15 Annex E', async (t) => {
  const ref = join(dir, 'ref.mp4');
  await ffmpeg('-f', 'h264', '-i', h264.path, '-f', 'aac', '-i', aac.path, '-c', 'copy', ref);
  await ffmpeg('-i', ref, '-c', 'copy', '-f', 'dash', join(dir, 'ref.mpd'));
  const mpd = await readFile(join(dir, 'ref.mpd'), 'utf8');
  const theirs = [...mpd.matchAll(/codecs="([^"]+)"/g)].map((m) => m[1]);
  t.same([codecString(v264.info), codecString(a.info)], theirs);
  t.equal(mimeType([v264.info, a.info]), `video/mp4; codecs="${theirs.join(', ')}"`);
  const h265 = await h265Stream(dir);
  const hevc = codecString(videoTrack(h265.bytes, 'h265').info);
  t.match(hevc, /^hvc1\.1\.6\.L\d+\.[0-9A-F]+$/, `${hevc}: Main profile, compatible with Main and Main 10, main tier`);
  t.equal(mimeType([{ codec: 'pcma', config: new Uint8Array(0) }]), 'audio/mp4; codecs="alaw"');
});
