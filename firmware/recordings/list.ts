/**
 * What the store holds for a channel over a time range: recorded segments
 * (with size and frame count), gaps and event locks, for the timeline and
 * for `dvr rec list`. Built from the store's in-memory time index only: no
 * disk read, so a month of a channel answers in milliseconds.
 */
import type { RingStore } from '../storage/ring-store.js';
import type { Lock } from '../storage/retention.js';
import type { Span } from '../storage/reader.js';
import type { StreamKind } from '../media/types.js';

export interface Segment extends Span {
  durationUs: number;
  /** Bytes of frame data; blocks cut by the range's ends are counted pro rata. Null when the store cannot tell. */
  bytes: number | null;
  /** Frames, counted the same way. */
  frames: number;
}

export interface RecordingList {
  channel: string;
  from: number;
  to: number;
  /** The video (main stream) recording. */
  segments: Segment[];
  gaps: Span[];
  locks: Lock[];
  /** Where the channel's audio stream was recorded too (empty: no audio). */
  audio: Span[];
}

/** A block of the time index, as far as this module needs it. */
interface BlockInfo {
  start: number;
  end: number;
  frames: number;
  bytes?: number;
}

/**
 * The blocks of a stream overlapping [from, to]. The store's public
 * `blocks()` walks every block of every disk and has no byte counts; its
 * time index has both (O(log n) + blocks in range) but is not public yet, so
 * it is used when present and `blocks()` is the fallback.
 */
function blocksInRange(store: RingStore, channel: string, stream: StreamKind, from: number, to: number): BlockInfo[] {
  const index = (store as unknown as { index?: { range?: unknown } }).index;
  if (index && typeof index.range === 'function') {
    return (index.range as (c: string, s: StreamKind, f: number, t: number) => BlockInfo[]).call(index, channel, stream, from, to);
  }
  return store
    .blocks()
    .filter((b) => b.channel === channel && b.stream === stream && b.frames > 0 && b.start <= to && b.end >= from)
    .sort((a, b) => a.start - b.start);
}

/** The part of a block inside [s, e], as a fraction of its span (1 for a block of one instant). */
function share(b: BlockInfo, s: number, e: number): number {
  if (b.end <= b.start) return 1;
  const inside = Math.min(b.end, e) - Math.max(b.start, s);
  return Math.max(0, Math.min(1, inside / (b.end - b.start)));
}

export function listRecordings(store: RingStore, channel: string, fromUs: number, toUs: number): RecordingList {
  const video = store.timeline(channel, 'main', fromUs, toUs);
  const blocks = blocksInRange(store, channel, 'main', fromUs, toUs);
  // Segments and blocks are both in time order: one merge walk, not segments × blocks.
  let first = 0;
  const segments: Segment[] = video.segments.map((seg) => {
    let bytes: number | null = 0;
    let frames = 0;
    while (first < blocks.length && blocks[first]!.end < seg.start) first++;
    for (let k = first; k < blocks.length && blocks[k]!.start <= seg.end; k++) {
      const b = blocks[k]!;
      if (b.end < seg.start) continue;
      const f = share(b, seg.start, seg.end);
      frames += b.frames * f;
      bytes = bytes === null || b.bytes === undefined ? null : bytes + b.bytes * f;
    }
    return { start: seg.start, end: seg.end, durationUs: seg.end - seg.start, bytes: bytes === null ? null : Math.round(bytes), frames: Math.round(frames) };
  });
  const audio = store.timeline(channel, 'audio', fromUs, toUs).segments;
  return { channel, from: fromUs, to: toUs, segments, gaps: video.gaps, locks: video.locks, audio };
}
