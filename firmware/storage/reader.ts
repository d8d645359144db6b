/**
 * The read path: timeline (segments, gaps, lock marks) and playback cursors.
 * Every frame handed out has been checked against the CRC in its index record,
 * so nothing half-written or overwritten is ever served.
 */
import { crc32 } from 'node:zlib';
import type { Logger } from '../core/log.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import { BLOCK_HEADER_SIZE, INDEX_RECORD_SIZE, decodeBlockHeader, decodeIndexRegion, type IndexRecord } from './format.js';
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

interface BlockIndex {
  info: StreamInfo;
  records: readonly IndexRecord[];
}

export class Reader {
  private readonly cache = new Map<string, BlockIndex>();

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
    if (b.live) return { info: b.live.info, records: b.live.records.slice() };
    const key = `${b.disk.name}/${b.blockNo}/${b.generation}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const io = b.disk.io;
    if (!io) return null;
    const gen = b.generation;
    try {
      // Header and index region are adjacent: one read for both.
      const bytes = await io.read(b.blockNo, 0, BLOCK_HEADER_SIZE + Math.min(b.frames, io.indexCapacity) * INDEX_RECORD_SIZE);
      const head = decodeBlockHeader(bytes.subarray(0, BLOCK_HEADER_SIZE));
      if (head.generation !== gen) throw new Error(`block header has generation ${head.generation}, catalog ${gen}`);
      const region = bytes.subarray(BLOCK_HEADER_SIZE);
      const records = decodeIndexRegion(region, gen, io.dataCapacity);
      if (records.length < b.frames) {
        this.log.warn('block index damaged: serving its valid prefix', { disk: b.disk.name, block: b.blockNo, valid: records.length, expected: b.frames });
      }
      const bi: BlockIndex = { info: head.info, records };
      if (b.generation === gen) {
        this.cache.set(key, bi);
        if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
      }
      return bi;
    } catch (e) {
      this.log.warn('block unreadable: skipped', { disk: b.disk.name, block: b.blockNo, error: (e as Error).message });
      return null;
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
      for (let r = upperBound(bi.records, from) - 1; r >= 0; r--) if (bi.records[r]!.keyframe) return { block: k, record: r };
      if (k > 0 && b.start - list[k - 1]!.end > this.maxGapUs) break;
    }
    // No keyframe before `from`: start at the first frame after it (keyframe if asked).
    const b = list[i]!;
    const bi = await this.blockIndex(b);
    let r = bi ? upperBound(bi.records, from - 1) : 0;
    if (bi && keyframesOnly) while (r < bi.records.length && !bi.records[r]!.keyframe) r++;
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
        const recs = bi.records;
        while (rIdx < recs.length) {
          // One read per run of consecutive frames, at most maxChunk bytes.
          let j = rIdx;
          const sel: IndexRecord[] = [];
          let bytes = 0;
          // The first chunk is small (the GOP up to `from`, then at most 256 KiB) so a seek answers quickly.
          const limit = firstChunk ? Math.min(maxChunk, 256 * 1024) : maxChunk;
          while (j < recs.length && recs[j]!.time <= to && (sel.length === 0 || (firstChunk && recs[j]!.time <= opts.from) || bytes + recs[j]!.size <= limit)) {
            const r = recs[j]!;
            j++;
            if (r.time < lastTime) continue;
            if (opts.keyframesOnly && !r.keyframe) {
              if (sel.length) break;
              continue;
            }
            sel.push(r);
            bytes += r.size;
            if (opts.keyframesOnly) break;
          }
          rIdx = j;
          if (sel.length === 0) {
            if (j < recs.length && recs[j]!.time > to) return;
            continue;
          }
          const first = sel[0]!;
          const last = sel[sel.length - 1]!;
          let data: Buffer;
          try {
            data = await b.disk.io!.read(b.blockNo, b.disk.io!.dataStart + first.offset, last.offset + last.size - first.offset);
          } catch (e) {
            this.log.warn('block unreadable: skipped', { disk: b.disk.name, block: b.blockNo, error: (e as Error).message });
            break;
          }
          if (b.generation !== gen) break; // overwritten while we read
          const frames: Frame[] = [];
          for (const r of sel) {
            const bytesOf = data.subarray(r.offset - first.offset, r.offset - first.offset + r.size);
            if (skipToKey && !r.keyframe) continue;
            if (crc32(bytesOf) !== r.dataCrc) {
              // Never serve bytes that do not match their index; dependent frames up to the next keyframe go too.
              this.log.warn('frame does not match its index record: skipped', { disk: b.disk.name, block: b.blockNo, time: r.time });
              skipToKey = true;
              continue;
            }
            skipToKey = false;
            frames.push({ time: r.time, keyframe: r.keyframe, data: bytesOf });
            lastTime = r.time;
          }
          if (frames.length) {
            firstChunk = false;
            yield { info: bi.info, frames };
          }
          if (last.time >= to) return;
        }
        // An open block may have grown meanwhile: its live records are re-read.
        if (b.live && b.generation === gen && b.live.records.length > recs.length) continue;
      }
      bIdx++;
      rIdx = 0;
      cur = list[bIdx];
      // Records of the next block that precede what was served are skipped by the lastTime check.
    }
  }
}

function upperBound(recs: readonly IndexRecord[], t: number): number {
  let lo = 0;
  let hi = recs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (recs[mid]!.time <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
