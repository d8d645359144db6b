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
  /** The columns behind `blocks` (set when the catalog is loaded). */
  table?: BlockTable;
  /** Free block numbers, lowest first handed out last (pop from the end). */
  free: number[];
}

const STATES: readonly BlockState[] = ['free', 'open', 'sealed'];
const STREAMS: readonly StreamKind[] = ['main', 'sub', 'audio'];

/**
 * Every block of one disk as columns (struct of arrays), one row per block
 * number: ~37 bytes a block in a handful of typed arrays instead of an object
 * with boxed numbers and a copied catalog record. A month of 16 channels is
 * 345,600 rows; the garbage collector never has to look inside them.
 * Filled in place by the catalog replay (catalog.ts `replayCatalogInto`).
 */
export class BlockTable {
  readonly generation: Float64Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly frames: Uint32Array;
  readonly bytes: Uint32Array;
  /** Index into STATES: 0 free, 1 open, 2 sealed. */
  readonly state: Uint8Array;
  readonly stream: Uint8Array;
  /** Catalog flags; bit 0: holds a keyframe. */
  readonly flags: Uint8Array;
  /** Index into `names`; 0 is the empty name of a never-used block. */
  readonly channel: Uint16Array;
  /** Channel names, each string once; rows refer to them by number. */
  readonly names: string[] = [''];
  private readonly ids = new Map<string, number>([['', 0]]);

  constructor(readonly count: number) {
    this.generation = new Float64Array(count);
    this.start = new Float64Array(count);
    this.end = new Float64Array(count);
    this.frames = new Uint32Array(count);
    this.bytes = new Uint32Array(count);
    this.state = new Uint8Array(count);
    this.stream = new Uint8Array(count);
    this.flags = new Uint8Array(count);
    this.channel = new Uint16Array(count);
  }

  /** The number of a channel name, added on first use. */
  nameId(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      if (id > 0xffff) throw new RangeError('more than 65535 channel names on one disk');
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }
}

/**
 * One block of a disk: a view of its row in the disk's BlockTable (a
 * flyweight: three fields of its own), so writers, retention and the reader
 * keep using plain property access while the data lives in typed arrays.
 * Identity is stable: the disk holds exactly one BlockEntry per block number.
 */
export class BlockEntry {
  /** Open blocks: the flushed frames and the stream description, kept by the writer. */
  live?: { records: IndexRecord[]; info: StreamInfo } = undefined;

  constructor(readonly disk: DiskEntry, private readonly t: BlockTable, readonly blockNo: number) {}

  get generation(): number { return this.t.generation[this.blockNo]!; }
  set generation(v: number) { this.t.generation[this.blockNo] = v; }
  get state(): BlockState { return STATES[this.t.state[this.blockNo]!]!; }
  set state(v: BlockState) { this.t.state[this.blockNo] = STATES.indexOf(v); }
  get channel(): string { return this.t.names[this.t.channel[this.blockNo]!]!; }
  set channel(v: string) { this.t.channel[this.blockNo] = this.t.nameId(v); }
  get stream(): StreamKind { return STREAMS[this.t.stream[this.blockNo]!]!; }
  set stream(v: StreamKind) { this.t.stream[this.blockNo] = STREAMS.indexOf(v); }
  /** µs of first and last frame; 0/0 while an open block is empty. */
  get start(): number { return this.t.start[this.blockNo]!; }
  set start(v: number) { this.t.start[this.blockNo] = v; }
  get end(): number { return this.t.end[this.blockNo]!; }
  set end(v: number) { this.t.end[this.blockNo] = v; }
  get frames(): number { return this.t.frames[this.blockNo]!; }
  set frames(v: number) { this.t.frames[this.blockNo] = v; }
  get bytes(): number { return this.t.bytes[this.blockNo]!; }
  set bytes(v: number) { this.t.bytes[this.blockNo] = v; }
  get keyframe(): boolean { return (this.t.flags[this.blockNo]! & 1) === 1; }
  set keyframe(v: boolean) { this.t.flags[this.blockNo] = v ? this.t.flags[this.blockNo]! | 1 : this.t.flags[this.blockNo]! & ~1; }

  /** A plain copy of the row (the fields are accessors, so `{ ...b }` would copy nothing). */
  snapshot(): { generation: number; state: BlockState; channel: string; stream: StreamKind; start: number; end: number; frames: number; bytes: number; keyframe: boolean } {
    return { generation: this.generation, state: this.state, channel: this.channel, stream: this.stream, start: this.start, end: this.end, frames: this.frames, bytes: this.bytes, keyframe: this.keyframe };
  }
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

  /**
   * Adds many blocks at once (start-up): appended, then each touched list is
   * sorted once. Adding them one by one would be quadratic on a ring that has
   * wrapped, where block numbers and times disagree.
   */
  addAll(blocks: Iterable<BlockEntry>): void {
    const touched = new Set<BlockEntry[]>();
    for (const b of blocks) {
      const key = streamKey(b.channel, b.stream);
      let list = this.lists.get(key);
      if (!list) this.lists.set(key, (list = []));
      const n = list.length;
      if (n > 0 && list[n - 1]!.start > b.start) touched.add(list);
      list.push(b);
    }
    for (const list of touched) naturalMergeSort(list);
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

/**
 * Sorts blocks by start in place, stably, in O(n log r) for r ascending runs.
 * A wrapped ring read in block-number order is two runs (one per lap), so
 * this is a linear merge where a comparison sort would do n log n getter calls.
 */
export function naturalMergeSort(list: BlockEntry[]): void {
  const n = list.length;
  if (n < 2) return;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = list[i]!.start;
  let bounds: number[] = [0];
  for (let i = 1; i < n; i++) if (keys[i]! < keys[i - 1]!) bounds.push(i);
  bounds.push(n);
  let src = list.slice();
  let srcKeys = keys;
  let dst: BlockEntry[] = new Array<BlockEntry>(n);
  let dstKeys = new Float64Array(n);
  while (bounds.length > 2) {
    const next: number[] = [0];
    for (let r = 0; r + 1 < bounds.length; r += 2) {
      const lo = bounds[r]!;
      const mid = bounds[r + 1]!;
      const hi = r + 2 < bounds.length ? bounds[r + 2]! : mid;
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        // `<=` keeps equal starts in their original order (stable).
        if (srcKeys[i]! <= srcKeys[j]!) (dst[k] = src[i]!, dstKeys[k++] = srcKeys[i++]!);
        else (dst[k] = src[j]!, dstKeys[k++] = srcKeys[j++]!);
      }
      while (i < mid) (dst[k] = src[i]!, dstKeys[k++] = srcKeys[i++]!);
      while (j < hi) (dst[k] = src[j]!, dstKeys[k++] = srcKeys[j++]!);
      next.push(hi);
    }
    bounds = next;
    [src, dst] = [dst, src];
    [srcKeys, dstKeys] = [dstKeys, srcKeys];
  }
  for (let i = 0; i < n; i++) list[i] = src[i]!;
}
