/**
 * The write path of one channel stream: buffers frames, then flushes them to
 * its current block as one vectored write of frame bytes, one write of their
 * index records, and one fdatasync (invariant 4 in docs/storage.md).
 */
import { crc32 } from 'node:zlib';
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import { BLOCK_HEADER_SIZE, INDEX_RECORD_SIZE, encodeIndexRecord, type IndexRecord } from './format.js';
import type { BlockEntry, DiskEntry } from './time-index.js';

export interface BlockSource {
  /** An open block for the stream (catalog record durable, header written), or null when none can be had. */
  acquire(channel: string, stream: StreamKind, info: StreamInfo, firstTime: number): Promise<BlockEntry | null>;
  /** Closes a block the writer is done with (frees it if it stayed empty). */
  seal(b: BlockEntry): Promise<void>;
  /** An I/O error on a disk: the store marks it and stops handing out its blocks. */
  diskError(disk: DiskEntry, err: unknown, op: string): void;
}

export interface WriterOptions {
  /** Oldest pending frame waits at most this long before its flush starts (default 1000 ms). */
  flushIntervalMs: number;
  /** Flush early once this many bytes are pending (default 4 MiB). */
  maxBatchBytes: number;
  /** Beyond this many pending bytes (disk stalled) new frames are refused (default 64 MiB). */
  maxPendingBytes: number;
  /** A pause in frames longer than this starts a new block, so the timeline shows the gap (default 10 s). */
  maxGapMs: number;
  /** Frame times further than this ahead of the recorder clock are treated as a camera clock jump (default 60 s). */
  futureToleranceMs: number;
}

interface Pending {
  time: number;
  keyframe: boolean;
  data: Uint8Array;
  /** Must start a new block: gap, or a new stream description. */
  boundary: boolean;
  info: StreamInfo;
}

export interface WriterStats {
  frames: number;
  bytes: number;
  dropped: number;
  restamped: number;
}

export class StreamWriter {
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private current?: BlockEntry;
  private dataOffset = 0;
  private seq = 0;
  private lastTime = -Infinity;
  /** µs added to camera times while the camera clock is untrustworthy. */
  private offset = 0;
  private info?: StreamInfo;
  private infoBoundary = false;
  private timer?: Timer;
  private chain: Promise<void> = Promise.resolve();
  private refusing = false;
  private dropping = false;
  readonly stats: WriterStats = { frames: 0, bytes: 0, dropped: 0, restamped: 0 };

  constructor(
    readonly channel: string,
    readonly stream: StreamKind,
    private readonly source: BlockSource,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: WriterOptions,
    /** Stored time of the stream's newest frame already on disk, so times stay monotonic across restarts. */
    lastStored = -Infinity,
  ) {
    this.lastTime = lastStored;
  }

  private get name(): string {
    return `${this.channel}/${this.stream}`;
  }

  setInfo(info: StreamInfo): void {
    if (this.info && sameInfo(this.info, info)) return;
    this.info = { ...info, config: Uint8Array.from(info.config) };
    this.infoBoundary = true;
  }

  /**
   * Queues a frame. Returns false (and counts a drop) when it cannot be taken:
   * no stream description yet, or the disk is too far behind.
   */
  append(frame: Frame): boolean {
    if (!this.info) throw new Error(`${this.name}: setStreamInfo() before the first frame`);
    if (!Number.isSafeInteger(frame.time)) throw new TypeError(`${this.name}: frame time must be an integer µs, got ${frame.time}`);
    if (frame.data.byteLength === 0) throw new RangeError(`${this.name}: empty frame`);
    if (this.pendingBytes + frame.data.byteLength > this.opts.maxPendingBytes) {
      this.stats.dropped++;
      if (!this.refusing) this.log.warn('recording falls behind: refusing frames until pending data is written', { stream: this.name, pendingBytes: this.pendingBytes });
      this.refusing = true;
      return false;
    }
    this.refusing = false;
    const time = this.storedTime(frame.time);
    const gap = this.lastTime !== -Infinity && time - this.lastTime > this.opts.maxGapMs * 1000;
    this.pending.push({ time, keyframe: frame.keyframe, data: frame.data, boundary: gap || this.infoBoundary, info: this.info });
    this.infoBoundary = false;
    this.lastTime = time;
    this.pendingBytes += frame.data.byteLength;
    if (this.pendingBytes >= this.opts.maxBatchBytes) void this.flush();
    else if (!this.timer) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.opts.flushIntervalMs);
    }
    return true;
  }

  /**
   * Camera clock rules (docs/storage.md): stored times never go backwards; a
   * jump backwards or far ahead of the recorder clock switches to restamping
   * from the recorder clock until the camera time is sane again.
   */
  private storedTime(camera: number): number {
    const now = this.clock.now() * 1000;
    const limit = now + this.opts.futureToleranceMs * 1000;
    if (this.offset !== 0 && camera >= this.lastTime && camera <= limit) {
      this.log.info('camera clock is sane again: stored times follow it', { stream: this.name });
      this.offset = 0;
    }
    const t = camera + this.offset;
    if (t >= this.lastTime && t <= limit) {
      if (this.offset !== 0) this.stats.restamped++;
      return t;
    }
    const base = Math.max(now, this.lastTime === -Infinity ? now : this.lastTime);
    const jump = (t - (this.lastTime === -Infinity ? now : this.lastTime)) / 1e6;
    this.offset = base - camera;
    this.stats.restamped++;
    this.log.warn(
      t < this.lastTime
        ? `camera timestamp went backwards by ${(-jump).toFixed(3)} s: restamping from the recorder clock`
        : `camera timestamp is ${((t - now) / 1e6).toFixed(3)} s ahead of the recorder clock: restamping from the recorder clock`,
      { stream: this.name, cameraTime: camera, storedTime: base },
    );
    return base;
  }

  /** Writes everything queued so far; resolves when it is on disk (or dropped). */
  flush(): Promise<void> {
    if (this.timer) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (batch.length === 0) return this.chain;
    const p = this.chain.then(() => this.write(batch));
    this.chain = p.catch((e) => this.log.error('flush failed', { stream: this.name, error: e }));
    return this.chain;
  }

  /** Flushes and seals the current block. */
  async close(): Promise<void> {
    await this.flush();
    await this.chain;
    if (this.current) {
      const b = this.current;
      this.current = undefined;
      await this.source.seal(b);
    }
  }

  private async rotate(first: Pending): Promise<boolean> {
    if (this.current) {
      const old = this.current;
      this.current = undefined;
      await this.source.seal(old);
    }
    const b = await this.source.acquire(this.channel, this.stream, first.info, first.time);
    if (!b) return false;
    this.current = b;
    this.dataOffset = 0;
    return true;
  }

  private async write(batch: Pending[]): Promise<void> {
    let i = 0;
    while (i < batch.length) {
      const b = this.current;
      const first = batch[i]!;
      const needNew = !b || (b.disk.state !== 'ok' && b.disk.state !== 'full') || (first.boundary && b.frames > 0) || first.info !== b.live?.info;
      if (needNew) {
        if (!(await this.rotate(first))) {
          this.drop(batch.length - i);
          return;
        }
        continue;
      }
      this.dropping = false;
      const io = b.disk.io!;
      const records = b.live!.records;
      // Take as many frames as fit in the data and index regions.
      let j = i;
      let size = 0;
      while (
        j < batch.length &&
        this.dataOffset + size + batch[j]!.data.byteLength <= io.dataCapacity &&
        records.length + (j - i) < io.indexCapacity &&
        (j === i || (!batch[j]!.boundary && batch[j]!.info === batch[i]!.info))
      ) {
        size += batch[j]!.data.byteLength;
        j++;
      }
      if (j === i) {
        if (b.frames === 0) {
          this.log.error('frame larger than a whole block: dropped', { stream: this.name, bytes: first.data.byteLength, blockData: io.dataCapacity });
          this.stats.dropped++;
          i++;
        } else if (!(await this.rotate(first))) {
          this.drop(batch.length - i);
          return;
        }
        continue;
      }
      this.seq = (this.seq + 1) & 0xffff;
      const recs: IndexRecord[] = [];
      const indexBuf = Buffer.alloc((j - i) * INDEX_RECORD_SIZE);
      const datas: Uint8Array[] = [];
      let off = this.dataOffset;
      for (let k = i; k < j; k++) {
        const f = batch[k]!;
        const r: IndexRecord = { time: f.time, offset: off, size: f.data.byteLength, gen: b.generation >>> 0, seq: this.seq, keyframe: f.keyframe, dataCrc: crc32(f.data) };
        encodeIndexRecord(r, indexBuf, (k - i) * INDEX_RECORD_SIZE);
        recs.push(r);
        datas.push(f.data);
        off += f.data.byteLength;
      }
      try {
        await io.writev(b.blockNo, datas, io.dataStart + this.dataOffset);
        await io.writev(b.blockNo, [indexBuf], BLOCK_HEADER_SIZE + records.length * INDEX_RECORD_SIZE);
        await io.datasync(b.blockNo);
      } catch (e) {
        // The same frames go to a block on another disk; this block keeps what was already durable.
        this.source.diskError(b.disk, e, `writing block ${b.blockNo}`);
        continue;
      }
      if (this.current !== b || b.generation >>> 0 !== recs[0]!.gen) continue;
      for (const r of recs) records.push(r);
      if (b.frames === 0) b.start = recs[0]!.time;
      b.end = recs[recs.length - 1]!.time;
      b.frames += recs.length;
      b.bytes += size;
      b.keyframe ||= recs.some((r) => r.keyframe);
      this.dataOffset = off;
      this.stats.frames += recs.length;
      this.stats.bytes += size;
      i = j;
    }
  }

  private drop(n: number): void {
    this.stats.dropped += n;
    if (!this.dropping) this.log.error('no block available: frames dropped', { stream: this.name, frames: n });
    this.dropping = true;
  }
}

function sameInfo(a: StreamInfo, b: StreamInfo): boolean {
  return (
    a.codec === b.codec && a.width === b.width && a.height === b.height && a.sampleRate === b.sampleRate && a.channels === b.channels &&
    Buffer.compare(Buffer.from(a.config.buffer, a.config.byteOffset, a.config.byteLength), Buffer.from(b.config.buffer, b.config.byteOffset, b.config.byteLength)) === 0
  );
}
