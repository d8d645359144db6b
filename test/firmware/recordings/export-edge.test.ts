import t from 'tap';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportRecording, fmp4Stream } from '../../../firmware/recordings/export.js';
import type { CursorChunk, CursorOptions } from '../../../firmware/storage/reader.js';
import type { RingStore } from '../../../firmware/storage/ring-store.js';
import { decodeErrors, ffprobe, tempDir } from '../media/helpers/ffmpeg.js';
import { openStore, record, shifted, sources, T0 } from './helpers.js';

t.setTimeout(120_000);

const dir = await tempDir(t);
const src = await sources(dir, 4);
const { store, disks } = await openStore();
t.teardown(async () => {
  await store.stop();
  disks.cleanup();
});
await record(store, 'cam', { main: src.h264, audio: src.aac });
// The camera switched from H.264 to H.265 after 4 s (a new stream description mid-recording).
await record(store, 'switch', { main: src.h264 });
await record(store, 'switch', { main: shifted(src.h265, 4e6) });
// Recorded from the middle of a GOP: the first frames cannot be decoded alone.
await record(store, 'midgop', { main: { info: src.h264.info, frames: src.h264.frames.slice(10) } });

/**
 * The store with its cursor wrapped: `tamper(call, chunk)` may change what
 * the n-th cursor opened yields. Stands in for the ring overwriting a block
 * between the two passes of an export, a race too narrow to hit on purpose.
 */
function wrapped(tamper: (call: number, c: CursorChunk) => CursorChunk | Promise<CursorChunk>): RingStore {
  let calls = 0;
  const w = Object.create(store) as RingStore;
  w.cursor = (opts: CursorOptions) => {
    const call = ++calls;
    return (async function* () {
      for await (const c of store.cursor(opts)) yield await tamper(call, c);
    })();
  };
  return w;
}

t.test('a stream description change ends the export there, and the summary says where', async (t) => {
  for (const fragmented of [false, true]) {
    const file = join(dir, `switch-${fragmented}.mp4`);
    const s = await exportRecording(store, { channel: 'switch', fromUs: T0, toUs: T0 + 10e6, file, fragmented });
    t.equal(s.cutAt, T0 + 4e6, 'cut at the first H.265 frame');
    t.equal(s.video.codec, 'h264');
    t.equal(s.video.frames, 100);
    const p = await ffprobe(file);
    t.equal(Number(p.streams[0]!.nb_read_frames), 100);
    t.equal(await decodeErrors(file), '');
  }
  const rest = await exportRecording(store, { channel: 'switch', fromUs: T0 + 4e6, toUs: T0 + 10e6, file: join(dir, 'rest.mp4') });
  t.equal(rest.video.codec, 'h265', 'the rest exports from that time');
  t.equal(rest.cutAt, null);
});

t.test('a recording that starts mid-GOP: the file starts at its first keyframe', async (t) => {
  const s = await exportRecording(store, { channel: 'midgop', fromUs: T0, toUs: T0 + 10e6, file: join(dir, 'midgop.mp4') });
  t.equal(s.video.first, T0 + 1e6, 'the keyframe at 1 s');
  t.equal(s.video.frames, 75);
  await t.rejects(exportRecording(store, { channel: 'midgop', fromUs: T0, toUs: T0 + 900_000, file: join(dir, 'none.mp4') }), {
    name: 'RecordingError',
    message: /has no keyframe to start from/,
  });
});

t.test('the recording changes between the two passes: refused, nothing written', async (t) => {
  // Calls: 1 probe video, 2 probe audio, 3+4 pass 1, 5+6 pass 2. Pass 2 of the video loses a frame.
  const racy = wrapped((call, c) => (call === 5 ? { info: c.info, frames: c.frames.slice(1) } : c));
  const file = join(dir, 'racy.mp4');
  await t.rejects(exportRecording(racy, { channel: 'cam', fromUs: T0, toUs: T0 + 10e6, file }), {
    name: 'RecordingError',
    message: /changed while it was being exported/,
  });
  t.notOk(existsSync(file));
  t.same((await readdir(dir)).filter((n) => n.endsWith('.dvr-part')), []);
});

t.test('a damaged frame the muxer refuses: a RecordingError naming the channel, from the stream too', async (t) => {
  const broken = wrapped((_call, c) => ({ info: c.info, frames: c.frames.map((f, i) => (i === 3 ? { ...f, data: Uint8Array.of(0, 0, 0, 9, 1) } : f)) }));
  await t.rejects(exportRecording(broken, { channel: 'cam', fromUs: T0, toUs: T0 + 10e6, file: join(dir, 'broken.mp4'), audio: false }), {
    name: 'RecordingError',
    message: /recording of channel "cam" cannot be exported: .*not length-prefixed NAL units/,
  });
  const it = fmp4Stream(broken, { channel: 'cam', fromUs: T0, toUs: T0 + 10e6, audio: false });
  await t.rejects((async () => {
    for await (const _ of it) void _;
  })(), { name: 'RecordingError', message: /cannot be exported/ });
});

t.test('a file created at the target while exporting is not written over', async (t) => {
  const file = join(dir, 'race.mp4');
  let made = false;
  // After the probes (calls 1 and 2), once the export has checked the target and opened its temporary file.
  const slow = wrapped(async (call, c) => {
    if (!made && call >= 3) {
      made = true;
      await writeFile(file, 'someone else');
    }
    return c;
  });
  await t.rejects(exportRecording(slow, { channel: 'cam', fromUs: T0, toUs: T0 + 10e6, file }), { name: 'RecordingError', message: /appeared while exporting/ });
  t.equal(await readFile(file, 'utf8'), 'someone else');
  t.same((await readdir(dir)).filter((n) => n.endsWith('.dvr-part')), []);
});
