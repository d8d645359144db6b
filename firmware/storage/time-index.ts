/**
 * The store-wide time index: for each channel stream, its blocks sorted by
 * start time, so "which block holds time t" is a binary search. Rebuilt in
 * memory at start from the disks' catalogs; nothing here touches a disk.
 */
import type { StreamInfo, StreamKind } from '../media/types.js';
import type { DiskState } from '../core/bus.js';
import type { DiskIO } from './disk.js';
import type { CatalogJournal } from './catalog.js';
import type { BlockState, IndexRecord, StoreHeader } from './format.js';

export interface DiskEntry {
  name: string;
  root: string;
  group: string;
  state: DiskState;
  detail?: string;
  header?: StoreHeader;
  io?: DiskIO;
  journal?: CatalogJournal;
  /** Every block of the disk by number; free ones included. */
  blocks: BlockEntry[];
  /** Free block numbers, lowest first handed out last (pop from the end). */
  free: number[];
}

export interface BlockEntry {
  disk: DiskEntry;
  blockNo: number;
  generation: number;
  state: BlockState;
  channel: string;
  stream: StreamKind;
  /** µs of first and last frame; 0/0 while an open block is empty. */
  start: number;
  end: number;
  frames: number;
  bytes: number;
  keyframe: boolean;
  /** Open blocks: the flushed frames and the stream description, kept by the writer. */
  live?: { records: IndexRecord[]; info: StreamInfo };
}

export function streamKey(channel: string, stream: StreamKind): string {
  return `${channel}\u0000${stream}`;
}

export class TimeIndex {
  private readonly lists = new Map<string, BlockEntry[]>();

  /** Inserts in start order; the usual case (newest block) is an append. */
  add(b: BlockEntry): void {
    const key = streamKey(b.channel, b.stream);
    let list = this.lists.get(key);
    if (!list) this.lists.set(key, (list = []));
    if (list.length === 0 || list[list.length - 1]!.start <= b.start) {
      list.push(b);
      return;
    }
    list.splice(this.upperBound(list, b.start), 0, b);
  }

  remove(b: BlockEntry): void {
    const list = this.lists.get(streamKey(b.channel, b.stream));
    if (!list) return;
    // Usually the oldest block: search from the front.
    const i = list.indexOf(b);
    if (i >= 0) list.splice(i, 1);
  }

  /** Blocks of a stream in start order (the live array: do not modify). */
  list(channel: string, stream: StreamKind): readonly BlockEntry[] {
    return this.lists.get(streamKey(channel, stream)) ?? [];
  }

  streams(): { channel: string; stream: StreamKind }[] {
    const out: { channel: string; stream: StreamKind }[] = [];
    for (const [k, v] of this.lists) {
      if (v.length === 0) continue;
      const [channel, stream] = k.split('\u0000') as [string, StreamKind];
      out.push({ channel, stream });
    }
    return out;
  }

  /** First index whose start is > t. */
  private upperBound(list: readonly BlockEntry[], t: number): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.start <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Position of the block holding time t, or of the first block after it:
   * O(log n). Blocks with no frames are skipped by callers.
   */
  seek(channel: string, stream: StreamKind, t: number): number {
    const list = this.list(channel, stream);
    const i = this.upperBound(list, t) - 1;
    if (i >= 0 && list[i]!.end >= t) return i;
    return i + 1;
  }

  /** Blocks overlapping [from, to], in order. */
  range(channel: string, stream: StreamKind, from: number, to: number): BlockEntry[] {
    const list = this.list(channel, stream);
    const out: BlockEntry[] = [];
    for (let i = Math.max(0, this.upperBound(list, from) - 1); i < list.length; i++) {
      const b = list[i]!;
      if (b.start > to) break;
      if (b.frames > 0 && b.end >= from) out.push(b);
    }
    return out;
  }
}
