import t from 'tap';
import { ManualClock } from '../../../firmware/core/clock.js';
import { RecordingError } from '../../../firmware/recordings/export.js';
import { playback, type PlaybackRequest } from '../../../firmware/recordings/playback.js';
import { tempDir } from '../media/helpers/ffmpeg.js';
import { openStore, record, shifted, sources, T0 } from './helpers.js';

t.setTimeout(180_000);

const dir = await tempDir(t);
const src = await sources(dir, 8);
const { store, disks } = await openStore();
t.teardown(async () => {
  await store.stop();
  disks.cleanup();
});
t.comment(`disks: ${disks.kind}`);
// 4 s, the camera away for 30 s, then 4 s more.
const cut = src.h264.frames.findIndex((f) => f.time >= T0 + 4e6);
const frames = [...src.h264.frames.slice(0, cut), ...shifted({ info: src.h264.info, frames: src.h264.frames.slice(cut) }, 30e6).frames];
await record(store, 'gate', { main: { info: src.h264.info, frames } });

/**
 * Plays with a manual clock, moved in 5 ms steps only while the player waits
 * for a frame to fall due (disk reads take no clock time); each frame with
 * the clock's ms when it came out.
 */
async function play(req: Omit<PlaybackRequest, 'clock'>, stopAfter = Infinity): Promise<{ time: number; key: boolean; at: number }[]> {
  const clock = new ManualClock();
  const out: { time: number; key: boolean; at: number }[] = [];
  let done = false;
  const consumer = (async () => {
    try {
      for await (const { frame } of playback(store, { ...req, clock })) {
        out.push({ time: frame.time, key: frame.keyframe, at: clock.monotonic() });
        if (out.length >= stopAfter) break;
      }
    } finally {
      done = true;
    }
  })();
  while (!done) {
    if (clock.pending() > 0) await clock.advance(5);
    else await new Promise((r) => setImmediate(r));
  }
  await consumer;
  return out;
}

t.test('1x: every frame when it is due, the gap jumped over rather than waited through', async (t) => {
  const got = await play({ channel: 'gate', fromUs: T0, speed: 1 });
  t.equal(got.length, frames.length, 'every recorded frame');
  t.same(got.map((g) => g.time), frames.map((f) => f.time), 'in order');
  const before = got.filter((g) => g.time < T0 + 30e6);
  const late = before.map((g) => g.at - (g.time - T0) / 1000);
  t.ok(late.every((d) => d >= 0 && d <= 10), `before the gap, each frame within 10 ms of its time (worst ${Math.max(...late).toFixed(1)} ms)`);
  const wall = got.at(-1)!.at - got[0]!.at;
  const media = (frames.at(-1)!.time - frames[0]!.time - 30e6) / 1000;
  t.ok(Math.abs(wall - media) <= 50, `8 s of recording took ${wall} ms of playback, not 38 s`);
});

t.test('8x: keyframes only, eight times as fast', async (t) => {
  const got = await play({ channel: 'gate', fromUs: T0 + 500_000, toUs: T0 + 4e6, speed: 8 });
  t.ok(got.length >= 3 && got.every((g) => g.key), `${got.length} frames, all keyframes`);
  t.equal(got[0]!.time, T0, 'from the keyframe at or before the asked time');
  // The keyframe before the asked time is the decoder's lead-in: it comes at once, the pacing starts at the asked time.
  const first = got.findIndex((g) => g.time >= T0 + 500_000);
  t.ok(got[first]!.at - got[0]!.at <= 10, `the lead-in came at once (${got[first]!.at - got[0]!.at} ms)`);
  const wall = got.at(-1)!.at - got[first]!.at;
  const media = (got.at(-1)!.time - got[first]!.time) / 1000;
  t.ok(Math.abs(wall - media / 8) <= 10, `${media} ms of recording in ${wall} ms`);
});

t.test('a viewer who leaves stops the playback; a speed the player does not offer is refused', async (t) => {
  const clock = new ManualClock();
  const ac = new AbortController();
  const it = playback(store, { channel: 'gate', fromUs: T0, speed: 1, clock, signal: ac.signal });
  t.ok((await it.next()).value, 'the first frame at once');
  const pending = it.next();
  ac.abort();
  await clock.advance(1);
  const r = await Promise.race([pending, new Promise((res) => setTimeout(() => res('hung'), 2000))]);
  t.match(r, { done: true }, 'the generator ends');
  await t.rejects(playback(store, { channel: 'gate', fromUs: T0, speed: 3, clock }).next(), RecordingError);
  await t.rejects(playback(store, { channel: 'gate', fromUs: T0, speed: 3, clock }).next(), /speed: one of 1, 2, 4, 8, 16, 32/);
});
