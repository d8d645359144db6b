/**
 * The offline queue: events waiting for the broker, in order, bounded, and
 * kept in an append-only file so a restart of the firmware loses none of them.
 *
 * File format, one JSON object a line:
 *   {"r":N}                    sequence numbers up to N may have been issued
 *   {"s":seq,"i":id,"d":data}  an event not yet delivered when it was written
 *   {"k":seq}                  everything up to seq is delivered (or dropped)
 *
 * Writes are batched: every flushMs, the events still undelivered are
 * appended and fsynced together. Events the broker acknowledges before the
 * next flush never touch the disk, so a connected box hardly writes at all.
 * Sequence numbers are reserved in blocks written before use, so a number is
 * never issued twice, even after a crash that lost the tail of the file.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { writeDurably } from '../config/durable-file.js';

export interface JournalRecord<T> {
  /** Increases by at least one per event, across restarts; gaps mean reserved but never used, or dropped. */
  seq: number;
  /** Unique: a redelivered event keeps its id. */
  id: string;
  data: T;
}

interface Entry<T> {
  rec: JournalRecord<T>;
  written: boolean;
  done: boolean;
}

export interface JournalOptions {
  file: string;
  /** Most undelivered events kept; beyond it the oldest is dropped (counted, logged). */
  limit: number;
  clock: Clock;
  log: Logger;
  /** How long an undelivered event may wait before it is on disk. */
  flushMs?: number;
  reserveBlock?: number;
}

export interface RecoveryReport {
  recovered: number;
  /** The last line was cut short (a crash mid-write); it is ignored. */
  tornTail: boolean;
  /** Unparseable lines elsewhere, skipped. */
  corruptLines: number;
  droppedOverLimit: number;
}

export class EventJournal<T> {
  private items: Entry<T>[] = [];
  private head = 0;
  private readonly bySeq = new Map<number, Entry<T>>();
  private nextSeq = 1;
  private reserved = 0;
  private persistedReserved = 0;
  /** Every seq up to here is delivered or dropped. */
  private watermark = 0;
  private writtenWatermark = 0;
  private maxWrittenSeq = 0;
  private fileLines = 0;
  private liveWritten = 0;
  private fh?: FileHandle;
  private isOpen = false;
  private timer?: Timer;
  private chain: Promise<void> = Promise.resolve();
  private lastDropWarn = -Infinity;
  private dropsSinceWarn = 0;
  /** Events dropped because the queue was full, since open(). */
  dropped = 0;
  private readonly flushMs: number;
  private readonly block: number;

  constructor(private readonly opts: JournalOptions) {
    this.flushMs = opts.flushMs ?? 100;
    this.block = opts.reserveBlock ?? 100_000;
  }

  /** Undelivered events (including those sent and not yet acknowledged). */
  get size(): number {
    return this.items.length - this.head;
  }

  async open(): Promise<RecoveryReport> {
    await mkdir(dirname(this.opts.file), { recursive: true, mode: 0o700 });
    let text = '';
    try {
      text = await readFile(this.opts.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const lines = text.split('\n');
    const tail = lines.pop() ?? '';
    const report: RecoveryReport = { recovered: 0, tornTail: tail !== '', corruptLines: 0, droppedOverLimit: 0 };
    const recs = new Map<number, JournalRecord<T>>();
    let reserved = 0;
    let watermark = 0;
    let maxSeq = 0;
    for (const line of lines) {
      let o: { r?: unknown; s?: unknown; i?: unknown; d?: unknown; k?: unknown };
      try {
        o = JSON.parse(line) as typeof o;
      } catch {
        report.corruptLines++;
        continue;
      }
      if (typeof o.r === 'number') reserved = Math.max(reserved, o.r);
      else if (typeof o.k === 'number') watermark = Math.max(watermark, o.k);
      else if (typeof o.s === 'number' && typeof o.i === 'string') {
        recs.set(o.s, { seq: o.s, id: o.i, data: o.d as T });
        maxSeq = Math.max(maxSeq, o.s);
      } else report.corruptLines++;
    }
    let pending = [...recs.values()].filter((r) => r.seq > watermark).sort((a, b) => a.seq - b.seq);
    if (pending.length > this.opts.limit) {
      report.droppedOverLimit = pending.length - this.opts.limit;
      pending = pending.slice(-this.opts.limit);
    }
    this.items = pending.map((rec) => ({ rec, written: false, done: false }));
    this.head = 0;
    this.bySeq.clear();
    for (const e of this.items) this.bySeq.set(e.rec.seq, e);
    this.watermark = this.writtenWatermark = Math.max(watermark, (pending[0]?.seq ?? watermark + 1) - 1);
    this.nextSeq = Math.max(reserved, maxSeq, watermark) + 1;
    this.reserved = this.nextSeq - 1 + this.block;
    report.recovered = pending.length;
    // Start from a clean file: the header, then what is still owed.
    await this.compact();
    this.isOpen = true;
    return report;
  }

  /** Queues an event; synchronous so the bus listener never waits for the disk. */
  append(data: T): JournalRecord<T> {
    if (this.size >= this.opts.limit) this.dropOldest();
    const rec = { seq: this.nextSeq++, id: randomUUID(), data };
    const e = { rec, written: false, done: false };
    this.items.push(e);
    this.bySeq.set(rec.seq, e);
    // Reserve the next block well before this one runs out, so a number is never issued unreserved.
    if (this.nextSeq > this.reserved - this.block / 2) this.reserved += this.block;
    this.scheduleFlush();
    return rec;
  }

  /** The first undelivered event after `seq` (0: the oldest), in order. */
  next(afterSeq: number): JournalRecord<T> | undefined {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid].rec.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.items.length; i++) if (!this.items[i].done) return this.items[i].rec;
    return undefined;
  }

  /** The broker has it: it will not be sent again, here or after a restart. */
  ack(seq: number): void {
    const e = this.bySeq.get(seq);
    if (!e || e.done) return;
    e.done = true;
    while (this.head < this.items.length && this.items[this.head].done) this.retireHead();
    if (this.maxWrittenSeq > this.writtenWatermark) this.scheduleFlush();
  }

  private retireHead(): void {
    const e = this.items[this.head++];
    this.bySeq.delete(e.rec.seq);
    if (e.written) this.liveWritten--;
    this.watermark = e.rec.seq;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  private dropOldest(): void {
    this.items[this.head].done = true;
    this.retireHead();
    this.dropped++;
    this.dropsSinceWarn++;
    const now = this.opts.clock.monotonic();
    // One warning at the first drop, then a count at most every 10 s: a long outage must not flood the log.
    if (now - this.lastDropWarn >= 10_000) {
      this.opts.log.warn('offline queue full: dropped the oldest events', { dropped: this.dropsSinceWarn, droppedTotal: this.dropped, limit: this.opts.limit });
      this.lastDropWarn = now;
      this.dropsSinceWarn = 0;
    }
  }

  private scheduleFlush(): void {
    if (this.timer || !this.isOpen) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch((err: unknown) => this.opts.log.error('offline queue: write failed', { file: this.opts.file, error: String(err) }));
    }, this.flushMs);
  }

  /** Writes what is owed now; resolves when it is on disk. */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.writeBatch());
    this.chain = run.catch(() => {});
    return run;
  }

  private async writeBatch(): Promise<void> {
    const fh = this.fh;
    if (!fh) return;
    let text = '';
    let sync = false;
    let lines = 0;
    const reserved = this.reserved;
    if (reserved > this.persistedReserved) {
      text += `{"r":${reserved}}\n`;
      lines++;
      sync = true;
    }
    for (let i = this.head; i < this.items.length; i++) {
      const e = this.items[i];
      if (e.written || e.done) continue;
      text += JSON.stringify({ s: e.rec.seq, i: e.rec.id, d: e.rec.data }) + '\n';
      e.written = true;
      this.liveWritten++;
      this.maxWrittenSeq = Math.max(this.maxWrittenSeq, e.rec.seq);
      lines++;
      sync = true;
    }
    if (this.watermark > this.writtenWatermark && this.maxWrittenSeq > this.writtenWatermark) {
      text += `{"k":${this.watermark}}\n`;
      this.writtenWatermark = this.watermark;
      lines++;
    }
    if (!text) return;
    await fh.write(text);
    // Acknowledgements alone need no fsync: losing one only means a redelivery, with the same id.
    if (sync) await fh.datasync();
    this.persistedReserved = Math.max(this.persistedReserved, reserved);
    this.fileLines += lines;
    if (this.fileLines > 2_000 && this.fileLines > 4 * this.liveWritten) await this.compact();
  }

  /** Rewrites the file as header + undelivered events, atomically (temp, fsync, rename, fsync dir). */
  private async compact(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
    let text = `{"r":${this.reserved}}\n`;
    let live = 0;
    for (let i = this.head; i < this.items.length; i++) {
      const e = this.items[i];
      if (e.done) continue;
      text += JSON.stringify({ s: e.rec.seq, i: e.rec.id, d: e.rec.data }) + '\n';
      e.written = true;
      this.maxWrittenSeq = Math.max(this.maxWrittenSeq, e.rec.seq);
      live++;
    }
    await writeDurably(this.opts.file, text);
    this.persistedReserved = this.reserved;
    this.writtenWatermark = this.watermark;
    this.liveWritten = live;
    this.fileLines = live + 1;
    this.fh = await open(this.opts.file, 'a', 0o600);
  }

  /** Flushes and closes the file; the in-memory queue stays usable until the next open(). */
  async close(): Promise<void> {
    this.isOpen = false;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}
