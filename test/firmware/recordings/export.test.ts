import t from 'tap';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exportRecording, fmp4Stream, RecordingError } from '../../../firmware/recordings/export.js';
import { listRecordings } from '../../../firmware/recordings/list.js';
import { decodeErrors, ffprobe, frameHashes, tempDir } from '../media/helpers/ffmpeg.js';
import { findBoxes, readBoxes } from '../media/helpers/boxes.js';
import { openStore, record, shifted, sources, T0 } from './helpers.js';

t.setTimeout(240_000);

const dir = await tempDir(t);
const src = await sources(dir, 10);
const { store, disks } = await openStore();
t.teardown(async () => {
  await store.stop();
  disks.cleanup();
});
t.comment(`disks: ${disks.kind}`);
await record(store, 'cam264', { main: src.h264, audio: src.aac });
await record(store, 'cam265', { main: src.h265, audio: src.pcmu });
// 4 s, then the camera away for 30 s (longer than the store's 10 s maxGap), then 4 s more.
const cut = 100;
await record(store, 'gappy', {
  main: { info: src.h264.info, frames: [...src.h264.frames.slice(0, cut), ...shifted({ info: src.h264.info, frames: src.h264.frames.slice(cut, 2 * cut) }, 30e6).frames] },
});

/** The frames of a track a range export must hold: from the keyframe at or before `from` to `to`. */
function expected<T extends { time: number; keyframe: boolean }>(frames: T[], from: number, to: number): T[] {
  let start = frames.findLastIndex((f) => f.keyframe && f.time <= from);
  if (start < 0) start = frames.findIndex((f) => f.keyframe && f.time >= from);
  return frames.slice(start).filter((f) => f.time <= to);
}

/**
 * A range crossing block and disk boundaries, placed around the first change
 * of disk of the main stream (see openStore), starting mid-GOP.
 */
const mains = store.blocks().filter((b) => b.channel === 'cam264' && b.stream === 'main').sort((a, b) => a.start - b.start);
const cross = mains.findIndex((b, k) => k + 1 < mains.length && mains[k + 1]!.disk !== b.disk);
const from = cross >= 0 ? Math.max(T0 + 300_000, mains[cross]!.end - 1_700_000) : T0 + 2_300_000;
const to = cross >= 0 ? Math.min(T0 + 9_900_000, mains[cross + 1]!.end + 1_100_000) : T0 + 8_100_000;

t.test('H.264 + AAC range across block and disk boundaries: every frame, bit-exact, from the keyframe before `from`', async (t) => {
  t.ok(cross >= 0, `consecutive main blocks on two disks (${mains.map((b) => b.disk).join(' ')})`);
  const blocks = mains.filter((b) => b.end >= from && b.start <= to);
  t.ok(blocks.length >= 2, `the range spans ${blocks.length} blocks`);
  t.ok(new Set(blocks.map((b) => b.disk)).size >= 2, 'on two disks');

  const file = join(dir, 'range.mp4');
  const s = await exportRecording(store, { channel: 'cam264', fromUs: from, toUs: to, file });
  const video = expected(src.h264.frames, from, to);
  t.equal(video[0]!.time, T0 + Math.floor((from - T0) / 1e6) * 1e6, 'starts at the keyframe (every second) at or before `from`');
  const audio = src.aac.frames.filter((f) => f.time >= video[0]!.time && f.time <= to);
  t.equal(s.video.frames, video.length);
  t.equal(s.audio?.frames, audio.length);
  t.equal(s.format, 'mp4');
  t.same(s.gaps, []);

  const p = await ffprobe(file);
  t.equal(p.stderr, '', 'ffprobe reports no errors');
  t.same(p.streams.map((x) => x.codec_name), ['h264', 'aac']);
  t.equal(Number(p.streams[0]!.nb_read_frames), video.length, `${video.length} video frames, as the store holds for the range`);
  t.same([p.streams[0]!.width, p.streams[0]!.height], [352, 288]);
  t.ok(Math.abs(Number(p.streams[0]!.duration) - video.length * 0.04) < 0.05, `video duration ${p.streams[0]!.duration} s`);
  t.equal(Number(p.streams[1]!.nb_read_frames), audio.length, 'audio frames of the range');
  t.equal(await decodeErrors(file), '', 'decodes without errors');
  const all = await frameHashes(src.h264Path, 'v:0', ['-f', 'h264']);
  const first = src.h264.frames.indexOf(video[0]!);
  t.same(await frameHashes(file, 'v:0'), all.slice(first, first + video.length), 'decoded pictures identical to the camera stream');
  t.same(readBoxes(await readFile(file)).map((b) => b.type), ['ftyp', 'moov', 'mdat'], 'progressive, moov first');
  t.same((await readdir(dir)).filter((n) => n.includes('dvr-part')), [], 'no temporary file left');
});

t.test('fragmented MP4 file of the same range', async (t) => {
  const file = join(dir, 'range-frag.mp4');
  const s = await exportRecording(store, { channel: 'cam264', fromUs: from, toUs: to, file, fragmented: true });
  const video = expected(src.h264.frames, from, to);
  t.equal(s.format, 'fmp4');
  const p = await ffprobe(file);
  t.equal(p.stderr, '');
  t.same(p.streams.map((x) => x.codec_name), ['h264', 'aac']);
  t.equal(Number(p.streams[0]!.nb_read_frames), video.length);
  t.equal(Number(p.streams[1]!.nb_read_frames), s.audio!.frames);
  t.equal(await decodeErrors(file), '');
  const bytes = await readFile(file);
  const top = readBoxes(bytes).map((b) => b.type);
  t.same(top.slice(0, 2), ['ftyp', 'moov']);
  t.equal(top.filter((x) => x === 'moof').length, video.filter((f) => f.keyframe).length, 'one fragment per GOP');
  t.equal(findBoxes(bytes, ['moov', 'mvex']).length, 1, 'moov announces fragments');
});

t.test('H.265 + G.711 µ-law, the whole recording', async (t) => {
  const file = join(dir, 'h265.mp4');
  const s = await exportRecording(store, { channel: 'cam265', fromUs: T0 - 60e6, toUs: T0 + 60e6, file });
  t.equal(s.video.frames, src.h265.frames.length);
  const p = await ffprobe(file);
  t.equal(p.stderr, '');
  t.same(p.streams.map((x) => x.codec_name), ['hevc', 'pcm_mulaw']);
  t.equal(Number(p.streams[0]!.nb_read_frames), src.h265.frames.length);
  t.ok(Math.abs(Number(p.streams[1]!.duration) - 10) < 0.1, `audio lasts ${p.streams[1]!.duration} s`);
  t.equal(await decodeErrors(file), '');
  const all = await frameHashes(src.h265Path, 'v:0', ['-f', 'hevc']);
  t.same(await frameHashes(file, 'v:0'), all, 'decoded pictures identical');
});

t.test('a range over a gap: one file, the picture holds across the gap (timestamps jump)', async (t) => {
  const list = listRecordings(store, 'gappy', T0 - 1e6, T0 + 40e6);
  t.equal(list.segments.length, 2, 'two segments');
  t.equal(list.gaps.length, 3, 'gap before, between, after');
  const mid = list.gaps[1]!;
  t.equal(mid.end - mid.start, 30e6 + 40_000, 'the 30 s gap between the last frame before and the first after');
  for (const kind of ['mp4', 'fmp4'] as const) {
    const file = join(dir, `gap.${kind}.mp4`);
    const s = await exportRecording(store, { channel: 'gappy', fromUs: T0, toUs: T0 + 40e6, file, fragmented: kind === 'fmp4' });
    t.equal(s.gaps.length, 1, `${kind}: the summary names the gap`);
    const p = await ffprobe(file);
    t.equal(p.stderr, '');
    t.equal(Number(p.streams[0]!.nb_read_frames), 2 * cut, `${kind}: every frame of both sides`);
    t.ok(Math.abs(Number(p.format.duration) - 38) < 0.2, `${kind}: duration ${p.format.duration} s = 4 + 30 + 4 s of wall clock`);
    t.equal(await decodeErrors(file), '', `${kind}: decodes without errors`);
  }
});

t.test('fmp4Stream: init segment, then media segments a MediaSource takes', async (t) => {
  const parts: Uint8Array[] = [];
  for await (const p of fmp4Stream(store, { channel: 'cam265', fromUs: T0 + 5_500_000 })) parts.push(p);
  t.same(readBoxes(parts[0]!).map((b) => b.type), ['ftyp', 'moov'], 'init segment first');
  t.ok(parts.slice(1).every((p) => readBoxes(p)[0]!.type === 'moof'), 'then moof+mdat segments');
  const file = join(dir, 'stream.mp4');
  await writeFile(file, Buffer.concat(parts));
  const p = await ffprobe(file);
  t.equal(Number(p.streams[0]!.nb_read_frames), 125, 'from the keyframe at 5 s to the newest frame');
  t.equal(await decodeErrors(file), '');
  const noAudio: Uint8Array[] = [];
  for await (const x of fmp4Stream(store, { channel: 'cam265', fromUs: T0, toUs: T0 + 1e6, audio: false })) noAudio.push(x);
  t.equal(findBoxes(noAudio[0]!, ['moov', 'trak']).length, 1, 'audio: false gives video only');
});

t.test('clear errors, nothing written', async (t) => {
  const file = join(dir, 'none.mp4');
  await t.rejects(exportRecording(store, { channel: 'cam264', fromUs: T0 + 100e6, toUs: T0 + 200e6, file }), { name: 'RecordingError', message: /no recording of channel "cam264" between 2026-01-02T03:05:45.000Z/ });
  await t.rejects(exportRecording(store, { channel: 'nobody', fromUs: T0, toUs: T0 + 1e6, file }), RecordingError);
  await t.rejects(exportRecording(store, { channel: 'cam264', fromUs: T0 + 2e6, toUs: T0 + 1e6, file }), { message: /start of the range must be before its end/ });
  t.notOk(existsSync(file), 'nothing at the target');
  const taken = join(dir, 'taken.mp4');
  await writeFile(taken, 'mine');
  await t.rejects(exportRecording(store, { channel: 'cam264', fromUs: T0, toUs: T0 + 1e6, file: taken }), { message: /already exists/ });
  t.equal(await readFile(taken, 'utf8'), 'mine', 'an existing file is never replaced');
  await t.rejects(exportRecording(store, { channel: 'cam264', fromUs: T0, toUs: T0 + 1e6, file: join(dir, 'no-such-dir', 'x.mp4') }), { message: /its directory does not exist/ });
});

t.test('listing: segments across blocks are one segment, with the size and frames the store holds', async (t) => {
  const l = listRecordings(store, 'cam264', T0 - 1e6, T0 + 11e6);
  t.equal(l.segments.length, 1);
  const seg = l.segments[0]!;
  t.equal(seg.start, T0);
  t.equal(seg.end, src.h264.frames.at(-1)!.time);
  t.equal(seg.frames, src.h264.frames.length);
  t.equal(seg.bytes, src.h264.frames.reduce((a, f) => a + f.data.length, 0), 'bytes of video data');
  t.equal(l.audio.length, 1, 'audio recorded too');
  t.same(l.locks, []);
  const lock = store.lock({ channel: 'cam264', start: T0 + 1e6, end: T0 + 2e6, reason: 'test' });
  t.same(listRecordings(store, 'cam264', T0, T0 + 5e6).locks.map((x) => x.id), [lock.id], 'locks in the range are listed');
  t.same(listRecordings(store, 'cam264', T0 + 3e6, T0 + 5e6).locks, [], 'and only those');
  const part = listRecordings(store, 'cam264', T0 + 2e6, T0 + 4e6).segments[0]!;
  t.ok(Math.abs(part.frames - 50) <= 8, `a cut range counts its share of the blocks (${part.frames} frames ≈ 50)`);
});
