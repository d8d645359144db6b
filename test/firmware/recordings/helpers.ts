/**
 * Shared by the recordings tests: real H.264/H.265 with AAC/G.711, encoded
 * by ffmpeg, recorded into a RingStore on real disks (ext4 on loop devices
 * when the machine allows, else directories) with small blocks, so that any
 * range of a few seconds crosses block and disk boundaries.
 */
import { ManualClock } from '../../../firmware/core/clock.js';
import type { Frame, StreamInfo, StreamKind } from '../../../firmware/media/types.js';
import type { RingStore } from '../../../firmware/storage/ring-store.js';
import { aacStream, g711Stream, h264Stream, h265Stream } from '../media/helpers/sources.js';
import { aacTrack, g711Track, T0, videoTrack, type Track } from '../media/helpers/streams.js';
import { makeDisks, storeWith, type TestDisks } from '../storage/helpers.js';

export { T0 };

export interface Recorded {
  store: RingStore;
  disks: TestDisks;
  /** What was appended, per channel and stream. */
  tracks: Map<string, Track>;
}

/** Tracks of the test streams: `seconds` of 25 fps video (GOP 25) and audio, starting at `start`. */
export async function sources(dir: string, seconds: number): Promise<{ h264: Track; h265: Track; aac: Track; pcmu: Track; h264Path: string; h265Path: string }> {
  const [a, b, c, d] = await Promise.all([h264Stream(dir, '352x288', seconds), h265Stream(dir, '352x288', seconds), aacStream(dir, seconds), g711Stream(dir, 'mulaw', seconds)]);
  return { h264: videoTrack(a.bytes, 'h264'), h265: videoTrack(b.bytes, 'h265'), aac: aacTrack(c.bytes), pcmu: g711Track(d.bytes, 'pcmu'), h264Path: a.path, h265Path: b.path };
}

/** The same track with every frame time moved by `us`. */
export function shifted(track: Track, us: number): Track {
  return { info: track.info, frames: track.frames.map((f) => ({ ...f, time: f.time + us })) };
}

/**
 * A store on small disks with 32 KiB blocks (24 KiB of data: about 2 s of
 * the test video). Blocks go round-robin over the disks in the order streams
 * ask for them: with three disks and a channel's main and audio streams,
 * consecutive main blocks are on different disks.
 */
export async function openStore(diskCount = 3, sizeMiB = 16): Promise<{ store: RingStore; disks: TestDisks }> {
  const disks = makeDisks(diskCount, sizeMiB, 'rec');
  const clock = new ManualClock(Math.floor(T0 / 1000) + 3600_000);
  const { store } = storeWith(
    disks.disks.map((d) => d.path),
    { clock, format: { blockSize: 32 * 1024, indexBytes: 4 * 1024, reserveBytes: 0, blockCount: 150 } },
  );
  await store.start();
  return { store, disks };
}

/** Appends the streams of a channel in time order (as a camera delivers them), flushing every second of media as the store's timer would. */
export async function record(store: RingStore, channel: string, streams: Partial<Record<StreamKind, Track>>): Promise<void> {
  const all: { stream: StreamKind; info: StreamInfo; f: Frame }[] = [];
  for (const [stream, tr] of Object.entries(streams) as [StreamKind, Track][]) for (const f of tr.frames) all.push({ stream, info: tr.info, f });
  all.sort((a, b) => a.f.time - b.f.time);
  const infos = new Set<string>();
  let flushed = all[0]?.f.time ?? 0;
  for (const { stream, info, f } of all) {
    if (f.time - flushed >= 1e6) {
      await store.flush();
      flushed = f.time;
    }
    if (!infos.has(stream)) {
      store.setStreamInfo(channel, stream, info);
      infos.add(stream);
    }
    if (!store.append(channel, stream, f)) throw new Error(`frame of ${channel}/${stream} at ${f.time} refused`);
  }
  await store.flush();
}
