/**
 * The read path: timeline (segments, gaps, lock marks) and playback cursors.
 * Every frame handed out has been checked against the CRC in its index record,
 * so nothing half-written or overwritten is ever served.
 */
import { crc32 } from 'node:zlib';
import type { Logger } from '../core/log.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import { BLOCK_HEADER_SIZE, INDEX_RECORD_SIZE, FrameIndex, decodeBlockHeader, decodeFrameIndex } from './format.js';
import type { Lock, LockSet } from './retention.js';
import type { BlockEntry, TimeIndex } from './time-index.js';

export interface Span {
  /** µs, inclusive. */
  start: number;
  end: number;
}

export interface Timeline {
  /** Recorded stretches; pauses shorter than the store's maxGapMs are bridged. */
  segments: Span[];
  /** The complement of segments within the asked range. */
  gaps: Span[];
  /** Event locks of the channel overlapping the range. */
  locks: Lock[];
}

export interface CursorOptions {
  channel: string;
  stream: StreamKind;
  /** µs; playback starts at the last keyframe at or before it. */
  from: number;
  /** µs, inclusive; default: up to the newest flushed frame. */
  to?: number;
  /** Only keyframes (fast forward). */
  keyframesOnly?: boolean;
  /** Upper bound of frame bytes per chunk (default 2 MiB). */
  maxChunkBytes?: number;
}

/** Frames in time order that share one stream description. */
export interface CursorChunk {
  info: StreamInfo;
  frames: Frame[];
}

export interface BlockIndex {
  info: StreamInfo;
  /** The block's frames as columns (see FrameIndex). */
  frames: FrameIndex;
}

/** Where the time goes in seeks, for the benchmark: totals since the reader was made. */
export interface ReaderStats {
  /** Sealed-block frame indexes read and decoded (cache misses), and the ms spent on them. */
  indexLoads: number;
  indexMs: number;
  /** Frame-index cache hits. */
  indexHits: number;
  /** Reads of frame bytes and the ms spent in them (CRC checks included). */
  dataReads: number;
  dataMs: number;
}

export class Reader {
  private readonly cache = new Map<string, BlockIndex>();
  readonly stats: ReaderStats = { indexLoads: 0, indexMs: 0, indexHits: 0, dataReads: 0, dataMs: 0 };

  constructor(
    private readonly index: TimeIndex,
    private readonly locks: LockSet,
    private readonly log: Logger,
    private readonly maxGapUs: number,
    private readonly cacheSize = 256,
  ) {}

  timeline(channel: string, stream: StreamKind, from: number, to: number): Timeline {
    const segments: Span[] = [];
    for (const b of this.index.range(channel, stream, from, to)) {
      const s = Math.max(b.start, from);
      const e = Math.min(b.end, to);
      const last = segments[segments.length - 1];
      if (last && s - last.end <= this.maxGapUs) last.end = Math.max(last.end, e);
      else segments.push({ start: s, end: e });
    }
    const gaps: Span[] = [];
    let at = from;
    for (const s of segments) {
      if (s.start > at) gaps.push({ start: at, end: s.start });
      at = Math.max(at, s.end);
    }
    if (at < to) gaps.push({ start: at, end: to });
    const locks = this.locks.list().filter((l) => l.channel === channel && l.start <= to && l.end >= from);
    return { segments, gaps, locks };
  }

  /** The frame index of a block: live for an open block, read (and cached) for a sealed one. */
  async blockIndex(b: BlockEntry): Promise<BlockIndex | null> {
    if (b.live) return { info: b.live.info, frames: FrameIndex.fromRecords(b.live.records, b.generation) };
    const key = `${b.disk.name}/${b.blockNo}/${b.generation}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      this.stats.indexHits++;
      return hit;
    }
    const io = b.disk.io;
    if (!io) return null;
    const gen = b.generation;
    const t0 = performance.now();
    try {
      // Header and the used part of the index region are adjacent: one read for both.
      const bytes = await io.read(b.blockNo, 0, BLOCK_HEADER_SIZE + Math.min(b.frames, io.indexCapacity) * INDEX_RECORD_SIZE);
      const head = decodeBlockHeader(bytes.subarray(0, BLOCK_HEADER_SIZE));
      if (head.generation !== gen) throw new Error(`block header has generation ${head.generation}, catalog ${gen}`);
      const frames = decodeFrameIndex(bytes.subarray(BLOCK_HEADER_SIZE), gen, io.dataCapacity);
      if (frames.length < b.frames) {
        this.log.warn('block index damaged: serving its valid prefix', { disk: b.disk.name, block: b.blockNo, valid: frames.length, expected: b.frames });
      }
      const bi: BlockIndex = { info: head.info, frames };
      // Not cached when the block was reused while we read it (its key names the old generation).
      if (b.generation === gen) {
        this.cache.set(key, bi);
        if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
      }
      return bi;
    } catch (e) {
      this.log.warn('block unreadable: skipped', { disk: b.disk.name, block: b.blockNo, error: (e as Error).message });
      return null;
    } finally {
      this.stats.indexLoads++;
      this.stats.indexMs += performance.now() - t0;
    }
  }

  /** Where playback of `from` starts: the block and record of the last keyframe at or before it. */
  private async start(list: readonly BlockEntry[], from: number, keyframesOnly: boolean): Promise<{ block: number; record: number }> {
    let i = this.index.seek(list[0]?.channel ?? '', list[0]?.stream ?? 'main', from);
    if (i >= list.length) return { block: list.length, record: 0 };
    // Walk back from the block holding `from` until a keyframe at or before it turns up (a few blocks at most).
    for (let k = i, tries = 0; k >= 0 && tries < 4; k--, tries++) {
      const b = list[k]!;
      if (b.start > from) continue;
      const bi = await this.blockIndex(b);
      if (!bi) break;
      const f = bi.frames;
      for (let r = f.upperBound(from) - 1; r >= 0; r--) if (f.key[r] === 1) return { block: k, record: r };
      if (k > 0 && b.start - list[k - 1]!.end > this.maxGapUs) break;
    }
    // No keyframe before `from`: start at the first frame after it (keyframe if asked).
    const b = list[i]!;
    const bi = await this.blockIndex(b);
    let r = bi ? bi.frames.upperBound(from - 1) : 0;
    if (bi && keyframesOnly) while (r < bi.frames.length && bi.frames.key[r] !== 1) r++;
    return { block: i, record: r };
  }

  async *cursor(opts: CursorOptions): AsyncGenerator<CursorChunk> {
    const to = opts.to ?? Number.MAX_SAFE_INTEGER;
    const maxChunk = opts.maxChunkBytes ?? 2 * 1024 * 1024;
    const list = this.index.list(opts.channel, opts.stream);
    let { block: bIdx, record: rIdx } = await this.start(list, opts.from, opts.keyframesOnly ?? false);
    let lastTime = -Infinity;
    let firstChunk = true;
    // `list` is live: blocks can be added (new ones) or removed (overwritten) while we run,
    // so the position is re-found by time whenever the array changed under us.
    let cur = list[bIdx];
    while (cur) {
      if (list[bIdx] !== cur) {
        bIdx = list.indexOf(cur);
        if (bIdx < 0) {
          bIdx = this.index.seek(opts.channel, opts.stream, lastTime + 1);
          rIdx = 0;
        }
      }
      const b = list[bIdx];
      if (!b || b.start > to) return;
      const gen = b.generation;
      const bi = b.frames > 0 ? await this.blockIndex(b) : null;
      let skipToKey = false;
      if (bi) {
        const f = bi.frames;
        const n = f.length;
        while (rIdx < n) {
          // One read per run of consecutive frames, at most maxChunk bytes.
          let j = rIdx;
          const sel: number[] = [];
          let bytes = 0;
          // The first chunk is small (the GOP up to `from`, then at most 256 KiB) so a seek answers quickly.
          const limit = firstChunk ? Math.min(maxChunk, 256 * 1024) : maxChunk;
          while (j < n && f.time[j]! <= to && (sel.length === 0 || (firstChunk && f.time[j]! <= opts.from) || bytes + f.size[j]! <= limit)) {
            const r = j++;
            if (f.time[r]! < lastTime) continue;
            if (opts.keyframesOnly && f.key[r] !== 1) {
              if (sel.length) break;
              continue;
            }
            sel.push(r);
            bytes += f.size[r]!;
            if (opts.keyframesOnly) break;
          }
          rIdx = j;
          if (sel.length === 0) {
            if (j < n && f.time[j]! > to) return;
            continue;
          }
          const first = sel[0]!;
          const last = sel[sel.length - 1]!;
          const base = f.offset[first]!;
          const t0 = performance.now();
          let data: Buffer;
          const io = b.disk.io;
          if (!io) {
            // The disk was pulled or failed while the cursor was on it: what is left of this block is gone.
            this.log.warn('disk detached during playback: rest of block skipped', { disk: b.disk.name, block: b.blockNo });
            break;
          }
          try {
            data = await io.read(b.blockNo, io.dataStart + base, f.offset[last]! + f.size[last]! - base);
          } catch (e) {
            this.log.warn('block unreadable: skipped', { disk: b.disk.name, block: b.blockNo, error: (e as Error).message });
            break;
          }
          if (b.generation !== gen) break; // overwritten while we read
          const frames: Frame[] = [];
          for (const r of sel) {
            const at = f.offset[r]! - base;
            const bytesOf = data.subarray(at, at + f.size[r]!);
            const keyframe = f.key[r] === 1;
            if (skipToKey && !keyframe) continue;
            if (crc32(bytesOf) !== f.dataCrc[r]) {
              // Never serve bytes that do not match their index; dependent frames up to the next keyframe go too.
              this.log.warn('frame does not match its index record: skipped', { disk: b.disk.name, block: b.blockNo, time: f.time[r] });
              skipToKey = true;
              continue;
            }
            skipToKey = false;
            frames.push({ time: f.time[r]!, keyframe, data: bytesOf });
            lastTime = f.time[r]!;
          }
          this.stats.dataReads++;
          this.stats.dataMs += performance.now() - t0;
          if (frames.length) {
            firstChunk = false;
            yield { info: bi.info, frames };
          }
          if (f.time[last]! >= to) return;
        }
        // An open block may have grown meanwhile: its live records are re-read.
        if (b.live && b.generation === gen && b.live.records.length > n) continue;
      }
      bIdx++;
      rIdx = 0;
      cur = list[bIdx];
      // Records of the next block that precede what was served are skipped by the lastTime check.
    }
  }
}
