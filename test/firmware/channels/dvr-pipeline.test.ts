// The DVR channel end to end on the host: a simulated analog card (no V4L2
// card here: test/firmware/channels/fixtures/dvr-sim-backend.ts runs in
// CaptureStream's real worker) -> x264 main 704x576 + 2:1 scaler -> x264 sub
// 352x288 -> RingStore on a temp dir -> MP4 (media/mp4 exportMp4 from the
// store cursor) -> ffprobe and ffmpeg as judges. Motion from the moving
// block and video loss from the input status ride along. Then a channel with
// a CIF main and a QCIF sub at 6 fps, its sizes and rates judged the same way.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { shutdownEncoderPool } from '../../../drivers/encoder/index.js';
import { V4L2_IN_ST_NO_SIGNAL } from '../../../drivers/v4l2/index.js';
import { DvrService } from '../../../firmware/channels/dvr-service.js';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { exportMp4 } from '../../../firmware/media/mp4/export.js';
import type { Frame, StreamInfo } from '../../../firmware/media/types.js';
import { RingStore } from '../../../firmware/storage/ring-store.js';
import { channelConfig, simCard } from './fixtures/dvr-sim.js';

const run = promisify(execFile);
t.setTimeout(300_000);
t.teardown(() => shutdownEncoderPool());

const dir = mkdtempSync(join(tmpdir(), 'dvr-pipeline-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function until(what: string, ok: () => boolean, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function probe(file: string): Promise<{ codec_name: string; width: number; height: number; nb_read_frames: string; profile: string; duration: string }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames,profile,duration', '-of', 'json', file]);
  return (JSON.parse(stdout) as { streams: never[] }).streams[0]!;
}

async function frames(store: RingStore, stream: 'main' | 'sub', channel = 'dvr1'): Promise<{ info: StreamInfo; frames: Frame[] }> {
  let info: StreamInfo | undefined;
  const out: Frame[] = [];
  for await (const c of store.cursor({ channel, stream, from: 0 })) {
    info ??= c.info;
    out.push(...c.frames);
  }
  if (!info) throw new Error(`nothing recorded for ${stream}`);
  return { info, frames: out };
}

t.test('capture -> x264 main + sub -> RingStore -> MP4, judged by ffprobe', async (t) => {
  const bus = new EventBus();
  const events: { name: keyof BusEvents; e: unknown }[] = [];
  for (const name of ['motion', 'videoLoss', 'tamper', 'cameraState'] as const) bus.on(name, (e) => events.push({ name, e }));
  const store = new RingStore({
    bus,
    log: memoryLogger('storage'),
    disks: [{ name: 'd0', path: dir }],
    format: { blockSize: 8 * 1024 * 1024, blockCount: 4, indexBytes: 64 * 1024, reserveBytes: 1024 * 1024 },
  });
  await store.start();
  t.teardown(() => store.stop());
  const card = simCard({ periodMs: 40 });
  const dvr = new DvrService({ bus, clock: systemClock, log: memoryLogger('dvr'), channels: () => [channelConfig()], store, openCapture: card.open });
  await dvr.start();
  await until('60 frames', () => (dvr.status()[0]?.frames ?? 0) >= 60);
  t.equal(dvr.status()[0]?.state, 'streaming');

  // A snapshot is the next captured picture as a full-size JPEG.
  const jpeg = await dvr.snapshot('dvr1');
  const still = join(dir, 'snapshot.jpg');
  writeFileSync(still, jpeg);
  const sp = await probe(still);
  t.same([sp.codec_name, sp.width, sp.height], ['mjpeg', 704, 576], `the snapshot is a ${sp.width}x${sp.height} JPEG`);
  await t.rejects(dvr.snapshot('dvr9'), /not running/, 'a channel that is not there has no snapshot');

  // Video loss from the input status, and its end.
  card.status = V4L2_IN_ST_NO_SIGNAL;
  await until('video loss', () => dvr.status()[0]!.videoLoss);
  card.status = 0;
  await until('signal back', () => !dvr.status()[0]!.videoLoss, 10_000);
  await dvr.stop();
  await store.flush();

  const loss = events.filter((x) => x.name === 'videoLoss').map((x) => (x.e as { lost: boolean }).lost);
  t.same(loss, [true, false], 'videoLoss raised and cleared');
  const motion = events.filter((x) => x.name === 'motion').map((x) => x.e as { active: boolean; cells?: number });
  t.ok(motion.length >= 1 && motion[0]!.active && (motion[0]!.cells ?? 0) > 0, `the moving block is motion (${motion[0]?.cells} cells)`);
  t.notOk(events.some((x) => x.name === 'tamper'), 'no tamper on a normal picture');

  for (const [stream, w, h] of [
    ['main', 704, 576],
    ['sub', 352, 288],
  ] as const) {
    const rec = await frames(store, stream);
    t.equal(rec.info.codec, 'h264');
    t.same([rec.info.width, rec.info.height], [w, h], `${stream}: stream info ${w}x${h}`);
    t.ok(rec.frames.length >= 60, `${stream}: ${rec.frames.length} frames recorded`);
    t.ok(rec.frames[0]!.keyframe, `${stream}: starts with a keyframe`);
    // Times come from the capture timestamps: never closer than the 40 ms frame clock (a loaded machine may space them more).
    const deltas = rec.frames.slice(1).map((f, i) => f.time - rec.frames[i]!.time);
    t.ok(deltas.every((d) => d >= 39_000), `${stream}: frames at least one 40 ms period apart (smallest ${Math.min(...deltas)} µs)`);
    const file = join(dir, `${stream}.mp4`);
    await exportMp4(file, [{ info: rec.info, frames: rec.frames }]);
    const p = await probe(file);
    t.equal(p.codec_name, 'h264');
    t.same([p.width, p.height], [w, h], `${stream}: ffprobe says ${p.width}x${p.height}`);
    t.equal(Number(p.nb_read_frames), rec.frames.length, `${stream}: ffprobe counts every recorded frame`);
    const decode = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
    t.equal(decode.stderr.trim(), '', `${stream}: decodes without errors`);
  }
});

t.test('a CIF main and a QCIF sub at 6 fps from one D1 capture, judged by ffprobe', async (t) => {
  const sub = mkdtempSync(join(tmpdir(), 'dvr-pipeline-rates-'));
  t.teardown(() => rmSync(sub, { recursive: true, force: true }));
  const bus = new EventBus();
  const store = new RingStore({
    bus,
    log: memoryLogger('storage'),
    disks: [{ name: 'd0', path: sub }],
    format: { blockSize: 8 * 1024 * 1024, blockCount: 4, indexBytes: 64 * 1024, reserveBytes: 1024 * 1024 },
  });
  await store.start();
  t.teardown(() => store.stop());
  const card = simCard({ periodMs: 40 });
  const base = channelConfig();
  const ch = channelConfig({ id: 'dvr2', main: { ...base.main, resolution: 'CIF' }, sub: { ...base.sub!, resolution: 'QCIF', fps: 6 } });
  const dvr = new DvrService({ bus, clock: systemClock, log: memoryLogger('dvr'), channels: () => [ch], store, openCapture: card.open });
  await dvr.start();
  // 15 s of capture: about 90 sub frames, so a rate off by a quarter of a frame a second (6.25: "every 4th frame") shows.
  await until('15 s of frames', () => (dvr.status()[0]?.frames ?? 0) >= 375, 120_000);
  await dvr.stop();
  await store.flush();

  for (const [stream, w, h, lo, hi] of [
    ['main', 352, 288, 22, 25.5],
    ['sub', 176, 144, 5.85, 6.15],
  ] as const) {
    const rec = await frames(store, stream, 'dvr2');
    t.same([rec.info.width, rec.info.height], [w, h], `${stream}: stream info ${w}x${h}`);
    const file = join(sub, `${stream}.mp4`);
    await exportMp4(file, [{ info: rec.info, frames: rec.frames }]);
    const p = await probe(file);
    t.same([p.width, p.height], [w, h], `${stream}: ffprobe says ${p.width}x${p.height}`);
    const rate = Number(p.nb_read_frames) / Number(p.duration);
    t.ok(rate >= lo && rate <= hi, `${stream}: ${p.nb_read_frames} frames in ${p.duration} s = ${rate.toFixed(2)} fps (${lo}..${hi})`);
    const decode = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
    t.equal(decode.stderr.trim(), '', `${stream}: decodes without errors`);
    if (stream === 'sub') {
      // Picked by timestamp from a 40 ms capture: 4 or 5 capture periods apart (a loaded host may stretch a few).
      const deltas = rec.frames
        .slice(1)
        .map((f, i) => f.time - rec.frames[i]!.time)
        .sort((a, b) => a - b);
      const median = deltas[deltas.length >> 1]!;
      t.ok(median >= 159_000 && median <= 201_000, `sub: median spacing ${median} µs, 4 or 5 capture periods`);
    }
  }
});
