import t from 'tap';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { PassThrough, Writable } from 'node:stream';
import { exportMp4 } from '../../../../firmware/media/mp4/export.js';
import { MediaFormatError } from '../../../../firmware/media/errors.js';
import type { Frame } from '../../../../firmware/media/types.js';
import { decodeErrors, decodedMd5, ffprobe, frameHashes, tempDir } from '../helpers/ffmpeg.js';
import { aacStream, g711Stream, h264Stream, h265Stream } from '../helpers/sources.js';
import { aacTrack, g711Track, T0, videoTrack } from '../helpers/streams.js';
import { findBoxes, readBoxes } from '../helpers/boxes.js';

const dir = await tempDir(t);
const h264 = await h264Stream(dir);
const v264 = videoTrack(h264.bytes, 'h264');

/** The checks a user would make on an exported file. */
async function judge(tt: Pick<typeof t, 'equal' | 'ok' | 'same'>, path: string, expect: { codec: string; frames: number; width?: number; height?: number; seconds: number }[]): Promise<void> {
  const p = await ffprobe(path);
  tt.equal(p.stderr, '', 'ffprobe reports no errors');
  tt.equal(p.streams.length, expect.length);
  expect.forEach((e, i) => {
    const s = p.streams[i]!;
    tt.equal(s.codec_name, e.codec);
    tt.equal(Number(s.nb_read_frames), e.frames, `${e.codec}: every frame that went in comes out`);
    if (e.width) tt.same([s.width, s.height], [e.width, e.height]);
    tt.ok(Math.abs(Number(s.duration) - e.seconds) <= 0.041, `${e.codec} duration ${s.duration} ≈ ${e.seconds}`);
  });
  tt.equal(await decodeErrors(path), '', 'decodes without errors');
}

t.test('H.264 alone: faststart layout, probe, bit-exact decode against the source', async (t) => {
  const out = join(dir, 'h264.mp4');
  const res = await exportMp4(out, [v264]);
  t.equal(v264.frames.length, 100);
  t.same(res.tracks, [{ samples: 100, durationSeconds: 4 }]);
  await judge(t, out, [{ codec: 'h264', frames: 100, width: 704, height: 576, seconds: 4 }]);
  t.same(await frameHashes(out, 'v:0'), await frameHashes(h264.path, 'v:0', ['-f', 'h264']), 'decoded frames identical to the elementary stream');
  const top = readBoxes(await readFile(out));
  t.same(top.map((b) => b.type), ['ftyp', 'moov', 'mdat'], 'moov before mdat');
  const stss = findBoxes(await readFile(out), ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stss'])[0]!;
  t.equal(stss.body.readUInt32BE(4), 4, 'four keyframes (GOP 25 over 100 frames) in stss');
  const p = await ffprobe(out);
  t.equal(p.format.tags?.creation_time, '2026-01-02T03:04:05.000000Z', 'creation time is the first frame wall-clock time');
});

t.test('H.264 + AAC: both tracks bit-exact, interleaved', async (t) => {
  const aac = await aacStream(dir);
  const a = aacTrack(aac.bytes);
  const out = join(dir, 'h264-aac.mp4');
  await exportMp4(out, [v264, a]);
  await judge(t, out, [
    { codec: 'h264', frames: 100, width: 704, height: 576, seconds: 4 },
    { codec: 'aac', frames: a.frames.length, seconds: (a.frames.length * 1024) / 48000 },
  ]);
  t.same(await frameHashes(out, 'v:0'), await frameHashes(h264.path, 'v:0', ['-f', 'h264']));
  t.equal(await decodedMd5(out, 'a:0'), await decodedMd5(aac.path, 'a:0', ['-f', 'aac']), 'decoded audio identical to the ADTS source');
  const stco = findBoxes(await readFile(out), ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stco']);
  t.equal(stco.length, 2);
  t.ok(stco.every((b) => b.body.readUInt32BE(4) >= 4), 'each track has a chunk per second: interleaved');
});

t.test('H.265 + G.711 A-law, and H.264 + G.711 µ-law', async (t) => {
  const h265 = await h265Stream(dir);
  const v265 = videoTrack(h265.bytes, 'h265');
  const alaw = await g711Stream(dir, 'alaw');
  const out = join(dir, 'h265-alaw.mp4');
  await exportMp4(out, [v265, g711Track(alaw.bytes, 'pcma')]);
  await judge(t, out, [
    { codec: 'hevc', frames: 100, width: 704, height: 576, seconds: 4 },
    { codec: 'pcm_alaw', frames: 200, seconds: 4 },
  ]);
  t.same(await frameHashes(out, 'v:0'), await frameHashes(h265.path, 'v:0', ['-f', 'hevc']));
  t.equal(await decodedMd5(out, 'a:0'), await decodedMd5(alaw.path, 'a:0', ['-f', 'alaw', '-ar', '8000', '-ac', '1']));

  const mulaw = await g711Stream(dir, 'mulaw');
  const out2 = join(dir, 'h264-ulaw.mp4');
  await exportMp4(out2, [v264, g711Track(mulaw.bytes, 'pcmu')]);
  await judge(t, out2, [
    { codec: 'h264', frames: 100, seconds: 4 },
    { codec: 'pcm_mulaw', frames: 200, seconds: 4 },
  ]);
  t.equal(await decodedMd5(out2, 'a:0'), await decodedMd5(mulaw.path, 'a:0', ['-f', 'mulaw', '-ar', '8000', '-ac', '1']));
});

t.test('audio starting late keeps its place through an edit list', async (t) => {
  const alaw = await g711Stream(dir, 'alaw', 2);
  const a = g711Track(alaw.bytes, 'pcma', T0 + 1_000_000);
  const out = join(dir, 'late-audio.mp4');
  await exportMp4(out, [v264, a]);
  const p = await ffprobe(out);
  t.equal(p.stderr, '');
  t.ok(Math.abs(Number(p.streams[1]!.start_time) - 1) < 0.001, `audio starts at ${p.streams[1]!.start_time} s`);
  t.ok(Math.abs(Number(p.streams[0]!.start_time)) < 0.001, 'video at 0');
  t.equal(await decodeErrors(out), '');
});

t.test('to a Writable, from an async source function; frame durations follow the time deltas', async (t) => {
  const pass = new PassThrough();
  const chunks: Buffer[] = [];
  pass.on('data', (c: Buffer) => chunks.push(c));
  // 30 fps-ish jittery times: durations come from deltas, the last repeats the one before.
  const times = v264.frames.map((_, i) => T0 + i * 33_333 + (i % 3) * 100);
  const frames = v264.frames.map((f, i) => ({ ...f, time: times[i]! }));
  const source = async function* (): AsyncGenerator<Frame> {
    for (const f of frames) yield f;
  };
  const res = await exportMp4(pass, [{ info: v264.info, frames: source }]);
  const file = Buffer.concat(chunks);
  t.equal(res.bytes, file.length);
  const stts = findBoxes(file, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stts'])[0]!.body;
  let total = 0;
  let samples = 0;
  for (let i = 0, n = stts.readUInt32BE(4); i < n; i++) {
    samples += stts.readUInt32BE(8 + i * 8);
    total += stts.readUInt32BE(8 + i * 8) * stts.readUInt32BE(12 + i * 8);
  }
  t.equal(samples, 100);
  const last = Math.round(((times[99]! - T0) * 9) / 100) - Math.round(((times[98]! - T0) * 9) / 100);
  t.equal(total, Math.round(((times[99]! - T0) * 9) / 100) + last, 'sum of durations = span + the repeated last delta');
});

t.test('a Writable that goes away mid-export ends it with an error, not a hang', async (t) => {
  const out = new Writable({
    highWaterMark: 1024,
    write() {
      this.destroy(); // the viewer hangs up at the first bytes, no error of its own
    },
  });
  await t.rejects(exportMp4(out, [v264]), /output stream closed before the export finished/);
});

t.test('co64 when forced (and layout stays valid)', async (t) => {
  const out = join(dir, 'co64.mp4');
  await exportMp4(out, [v264], { co64: true });
  const buf = await readFile(out);
  t.equal(findBoxes(buf, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'co64']).length, 1);
  t.equal(findBoxes(buf, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stco']).length, 0);
  await judge(t, out, [{ codec: 'h264', frames: 100, width: 704, height: 576, seconds: 4 }]);
  t.same(await frameHashes(out, 'v:0'), await frameHashes(h264.path, 'v:0', ['-f', 'h264']));
});

t.test('past 4 GiB: co64 and a 64-bit mdat, with bounded memory', async (t) => {
  // 4.4 GB of one reused 4 MB frame, into a sink that keeps only the head.
  const frame = new Uint8Array(4 << 20);
  new DataView(frame.buffer).setUint32(0, frame.length - 4);
  frame[4] = 0x65; // IDR slice header byte, content irrelevant here
  const n = 1050;
  const frames = Array.from({ length: n }, (_, i): Frame => ({ time: T0 + i * 40_000, keyframe: true, data: frame }));
  let head: Buffer | undefined;
  let total = 0;
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => {
    if (!head) head = Buffer.from(c);
    total += c.length;
  });
  const rss = process.memoryUsage().rss;
  await exportMp4(sink, [{ info: v264.info, frames }]);
  t.ok(total > 2 ** 32, `${total} bytes`);
  t.ok(process.memoryUsage().rss - rss < 200 << 20, 'memory did not grow with the output');
  const top = readBoxes(head!, { partial: true });
  t.same(top.slice(0, 2).map((b) => b.type), ['ftyp', 'moov']);
  const co64 = findBoxes(head!, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'co64'])[0]!.body;
  const chunks = co64.readUInt32BE(4);
  const lastOffset = Number(co64.readBigUInt64BE(8 + (chunks - 1) * 8));
  t.ok(lastOffset > 2 ** 32, 'chunk offsets past 4 GiB');
  const mdatAt = top[0]!.size + top[1]!.size;
  t.equal(head!.readUInt32BE(mdatAt), 1, 'mdat uses largesize');
  t.equal(Number(head!.readBigUInt64BE(mdatAt + 8)), total - mdatAt);
  t.equal(lastOffset + frame.length * (n % 25 || 25), total, 'last chunk ends at the end of the file');
});

t.test('bad input: clear errors, and no file left behind', async (t) => {
  const out = join(dir, 'bad.mp4');
  const bad = async (frames: Frame[], msg: RegExp, info = v264.info): Promise<void> => {
    await t.rejects(exportMp4(out, [{ info, frames }]), { name: 'MediaFormatError', message: msg });
    t.notOk(existsSync(out), 'no output file');
    t.same((await readdir(dir)).filter((f) => f.startsWith('bad.mp4')), [], 'no partial file either');
  };
  const f = v264.frames;
  await bad([f[0]!, { ...f[1]!, data: new Uint8Array(0) }], /frame 1 is empty/);
  await bad([f[0]!, { ...f[1]!, time: f[0]!.time - 1 }], /frame 1: time goes backwards/);
  await bad([f[1]!, f[2]!], /must start with a keyframe/);
  await bad([f[0]!, { ...f[1]!, data: f[1]!.data.subarray(0, f[1]!.data.length - 3) }], /frame 1 is not length-prefixed NAL units: truncated NAL/);
  await bad([], /has no frames/);
  await bad(f, /no avcC config/, { codec: 'h264', config: new Uint8Array(0) });
  await bad(f, /avcC is truncated/, { codec: 'h264', config: v264.info.config.subarray(0, 9) });
  await t.rejects(exportMp4(out, []), MediaFormatError);
  const gen = (function* () {
    yield* f;
  })();
  await t.rejects(exportMp4(out, [{ info: v264.info, frames: gen }]), /must be re-iterable/);
  // A source that changes between the passes: detected, partial file removed.
  let calls = 0;
  await t.rejects(exportMp4(out, [{ info: v264.info, frames: () => (++calls === 1 ? f : f.slice(0, 50)) }]), /changed between the two export passes/);
  t.notOk(existsSync(out));
  t.notOk(existsSync(`${out}.part`));
});

t.test('bad input into a Writable without an error listener: the export rejects, the process sees no uncaught error', async (t) => {
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => void uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  t.teardown(() => void process.off('uncaughtException', onUncaught));
  const out = new PassThrough();
  out.resume();
  // A source that changes between the two passes fails once bytes have gone out.
  let calls = 0;
  await t.rejects(exportMp4(out, [{ info: v264.info, frames: () => (++calls === 1 ? v264.frames : v264.frames.slice(0, 50)) }]), /changed between the two export passes/);
  await new Promise((r) => setImmediate(r));
  t.ok(out.destroyed, 'the stream is destroyed: its reader sees the export failed');
  t.same(uncaught, [], 'no uncaught exception');
});
