/**
 * RingStore: the recording store service. Opens the disks, repairs what a
 * crash left open, hands blocks to stream writers (round-robin over the
 * channel's disk group, reusing the oldest unlocked block when full), and
 * serves timelines and cursors. Format and invariants: docs/storage.md.
 */
import { randomUUID } from 'node:crypto';
import type { DiskState, EventBus, StorageAlarmKind } from '../core/bus.js';
import { systemClock, type Clock, type Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import { CatalogJournal } from './catalog.js';
import { DiskIO, formatDisk, newId, probeDisk, stateForError, type FormatOptions } from './disk.js';
import { encodeBlockHeader, type CatalogRecord } from './format.js';
import { Reader, type CursorChunk, type CursorOptions, type Timeline } from './reader.js';
import { recoverOpenBlock } from './recovery.js';
import { LockSet, expiredBlocks, pickVictim, type Lock, type RetentionOptions } from './retention.js';
import { BlockEntry, BlockTable, TimeIndex, streamKey, type DiskEntry } from './time-index.js';
import { StreamWriter, type BlockSource, type WriterOptions, type WriterStats } from './writer.js';

export interface DiskConfig {
  /** Short name used in events and logs ("sata0"). */
  name: string;
  /** Directory: the mount point of the disk, or a plain directory on the sim board. */
  path: string;
  /** Disk group (default "default"); channels may be bound to one. */
  group?: string;
  /** Block-device bays: the device (by-path) whose absence means the disk was pulled (bays.ts). */
  device?: string;
  /** Block-device bays: why there is no store directory (an empty or foreign disk), when it is not simply absent. */
  absent?: () => Promise<{ state: DiskState; detail: string } | undefined>;
}

export interface RingStoreOptions extends Partial<WriterOptions> {
  bus: EventBus;
  log: Logger;
  clock?: Clock;
  disks: DiskConfig[];
  /** The store's id; default: adopted from the first formatted disk. Disks with another id are "foreign". */
  storeId?: string;
  /** Format unformatted disks at start with these settings (sim board, first boot). Default: leave them alone. */
  format?: Omit<FormatOptions, 'storeId'>;
  retention?: RetentionOptions;
  /** How often max age and lock expiry are enforced (default 60 s). */
  sweepIntervalMs?: number;
  /** Lock recordings around alarms: each active `alarm` bus event locks its channels' range. */
  alarmLocks?: AlarmLockOptions;
}

export interface AlarmLockOptions {
  /** Channels to lock for an alarm (by source and input); empty = none. */
  channels: (alarm: { source: string; input: string }) => string[];
  /** Recording kept before and after the alarm moment (ms). */
  beforeMs: number;
  afterMs: number;
  /** The lock lapses this long after the alarm (ms); default never. */
  keepMs?: number;
}

export interface DiskStatus {
  name: string;
  path: string;
  group: string;
  state: DiskState;
  detail?: string;
  blocks: number;
  freeBlocks: number;
  blockSize: number;
  /** Blocks holding recordings (open or sealed) and how many of those a lock protects. */
  usedBlocks: number;
  lockedBlocks: number;
  /** Media bytes in those blocks. */
  usedBytes: number;
  device?: string;
  storeId?: string;
  diskId?: string;
}

export interface NewLock {
  channel: string;
  /** µs range, inclusive. */
  start: number;
  end: number;
  reason: string;
  /** Wall-clock ms when the lock lapses; default never. */
  expiresMs?: number;
}

export class RingStore implements Service, BlockSource {
  readonly name = 'storage';
  private readonly clock: Clock;
  private readonly wopts: WriterOptions;
  private diskList: DiskEntry[] = [];
  private index = new TimeIndex();
  private locksSet = new LockSet();
  private reader?: Reader;
  private writers = new Map<string, StreamWriter>();
  private storeId?: string;
  private rr = 0;
  private alarms = new Set<string>();
  /** Disks detached for `dvr disk format`: not reattached until it is done. */
  private readonly held = new Set<string>();
  private sweepTimer?: Timer;
  /** Set by setRetention(): the settings changed while running. */
  private retentionSet?: RetentionOptions;
  private running = false;
  private unsubscribe?: () => void;

  constructor(private readonly opts: RingStoreOptions) {
    this.clock = opts.clock ?? systemClock;
    this.wopts = {
      flushIntervalMs: opts.flushIntervalMs ?? 1000,
      maxBatchBytes: opts.maxBatchBytes ?? 4 * 1024 * 1024,
      maxPendingBytes: opts.maxPendingBytes ?? 64 * 1024 * 1024,
      maxGapMs: opts.maxGapMs ?? 10_000,
      futureToleranceMs: opts.futureToleranceMs ?? 60_000,
    };
  }

  private get log(): Logger {
    return this.opts.log;
  }

  // ------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    this.diskList = [];
    this.index = new TimeIndex();
    this.locksSet = new LockSet();
    this.writers.clear();
    this.alarms.clear();
    this.storeId = this.opts.storeId;
    for (const cfg of this.opts.disks) this.diskList.push(await this.openDisk(cfg));
    this.locksSet.load(this.diskList.filter((d) => d.header).map((d) => d.root), (m, f) => this.log.warn(m, f));
    this.reader = new Reader(this.index, this.locksSet, this.log, this.wopts.maxGapMs * 1000);
    this.running = true;
    this.sweep();
    const al = this.opts.alarmLocks;
    if (al) {
      this.unsubscribe = this.opts.bus.on('alarm', (e) => {
        if (!e.active) return;
        for (const channel of al.channels(e)) {
          this.lock({
            channel, start: (e.at - al.beforeMs) * 1000, end: (e.at + al.afterMs) * 1000, reason: `alarm ${e.source}/${e.input}`,
            ...(al.keepMs !== undefined ? { expiresMs: e.at + al.keepMs } : {}),
          });
        }
      });
    }
    const ok = this.diskList.filter((d) => d.state === 'ok');
    this.log.info('recording store started', { disks: this.diskList.map((d) => `${d.name}:${d.state}`), writable: ok.length });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.sweepTimer) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const w of this.writers.values()) {
      try {
        await w.close();
      } catch (e) {
        this.log.error('closing a stream failed', { stream: `${w.channel}/${w.stream}`, error: e });
      }
    }
    this.writers.clear();
    for (const d of this.diskList) {
      await d.journal?.close().catch(() => {});
      await d.io?.close().catch(() => {});
    }
  }

  private setDiskState(d: DiskEntry, state: DiskState, detail?: string): void {
    const previous = this.diskList.includes(d) ? d.state : null;
    if (previous === state) return;
    d.state = state;
    d.detail = detail;
    const ev = { disk: d.name, state, previous, at: this.clock.now(), ...(detail ? { detail } : {}) };
    this.opts.bus.emit('diskState', ev);
    const level = state === 'ok' ? 'info' : state === 'unformatted' || state === 'full' ? 'warn' : 'error';
    this.log[level](`disk ${d.name} is ${state}`, { path: d.root, ...(detail ? { detail } : {}) });
  }

  private async openDisk(cfg: DiskConfig): Promise<DiskEntry> {
    const d: DiskEntry = { name: cfg.name, root: cfg.path, group: cfg.group ?? 'default', state: 'missing', blocks: [], free: [] };
    await this.attach(d, cfg, true);
    return d;
  }

  /** Probes a disk and, when it is this store's, loads its catalog into the index (start and hot insertion). */
  private async attach(d: DiskEntry, cfg: DiskConfig, mayFormat: boolean): Promise<void> {
    let probe = await probeDisk(cfg.path, this.storeId);
    if (probe.state === 'missing' && cfg.absent) probe = (await cfg.absent().catch(() => undefined)) ?? probe;
    // Block-device bays are formatted only by `dvr disk format`, never because they look empty.
    if (probe.state === 'unformatted' && this.opts.format && mayFormat && !cfg.device) {
      this.storeId ??= newId();
      try {
        await formatDisk(cfg.path, { ...this.opts.format, storeId: this.storeId, now: this.clock.now() });
        this.log.info(`formatted disk ${cfg.name}`, { path: cfg.path });
        probe = await probeDisk(cfg.path, this.storeId);
      } catch (e) {
        probe = { state: 'failed', detail: `format failed: ${(e as Error).message}` };
      }
    }
    if (probe.header && (probe.state === 'ok' || probe.state === 'read-only')) {
      this.storeId ??= probe.header.storeId;
      d.header = probe.header;
      try {
        await this.loadBlocks(d, probe.state === 'read-only');
      } catch (e) {
        probe = { state: 'failed', detail: `loading the catalog: ${(e as Error).message}` };
        d.blocks = [];
        d.free = [];
        for (const b of [...this.index.streams()]) for (const e2 of this.index.list(b.channel, b.stream).filter((x) => x.disk === d)) this.index.remove(e2);
      }
    }
    this.setDiskState(d, probe.state, probe.detail);
  }

  // ------------------------------------------------------------ hot removal and insertion (disk-monitor.ts)

  /** The configured disks, for the disk monitor and the disk commands. */
  diskConfigs(): readonly DiskConfig[] {
    return this.opts.disks;
  }

  /**
   * A disk was pulled (directory gone, file system unmounted, device gone):
   * its recordings leave the index (they come back with the disk), its files
   * are closed so a lazy unmount can finish, and writers move to the other
   * disks at their next flush (writer.ts checks the disk's state). `hold`
   * keeps it detached until `reattachDisk(name, true)` (formatting).
   */
  async detachDisk(name: string, detail: string, hold = false): Promise<void> {
    const d = this.diskList.find((x) => x.name === name);
    if (hold) this.held.add(name);
    if (!d || d.state === 'missing') return;
    const held = d.blocks.filter((b) => b.state !== 'free');
    for (const b of held) this.index.remove(b);
    const { journal, io } = d;
    d.journal = undefined;
    d.io = undefined;
    d.header = undefined;
    d.blocks = [];
    d.free = [];
    d.table = undefined;
    this.setDiskState(d, 'missing', detail);
    if (held.length > 0) this.log.warn(`recordings of disk ${name} are unavailable until it is back`, { blocks: held.length });
    // Closing may fail on a vanished device: nothing to keep either way.
    await journal?.close().catch(() => {});
    await io?.close().catch(() => {});
  }

  /**
   * A disk (re)appeared in a bay whose disk is missing, unformatted or
   * foreign: probed again, and when it is this store's its catalog is replayed
   * (open blocks repaired as at start) so its recordings are back in the index.
   * Never formats: an inserted disk is the user's until `dvr disk format`.
   */
  async reattachDisk(name: string, release = false): Promise<DiskState | undefined> {
    const d = this.diskList.find((x) => x.name === name);
    const cfg = this.opts.disks.find((x) => x.name === name);
    if (release) this.held.delete(name);
    if (!d || !cfg || !this.running || this.held.has(name)) return d?.state;
    if (d.state !== 'missing' && d.state !== 'unformatted' && d.state !== 'foreign') return d.state;
    d.blocks = [];
    d.free = [];
    await this.attach(d, cfg, false);
    const now = d.state as DiskState; // attach() changed it: TypeScript still narrows to the states checked above
    if (d.header && (now === 'ok' || now === 'read-only')) {
      const n = d.blocks.filter((b) => b.state !== 'free').length;
      this.log.info(`disk ${name} is back`, { recordings: n });
    }
    return d.state;
  }

  /** Catalog replay and repair of open blocks: reads no other block (docs/storage.md, start-up). */
  private async loadBlocks(d: DiskEntry, readOnly: boolean): Promise<void> {
    const h = d.header!;
    d.io = new DiskIO(d.root, h);
    const journal = new CatalogJournal(d.root, h.blockCount);
    // The blocks live in columns (BlockTable) filled in place by the replay; d.blocks holds one flyweight view per block.
    let table = new BlockTable(h.blockCount);
    let replay: { count: number; damage?: string };
    try {
      replay = await journal.loadInto(table, !readOnly);
    } catch (e) {
      if (!readOnly) throw e;
      table = new BlockTable(h.blockCount);
      replay = { count: 0 };
    }
    if (replay.damage) this.log.warn(`catalog of disk ${d.name} damaged: replayed up to the damage`, { detail: replay.damage });
    if (!readOnly) d.journal = journal;
    d.table = table;
    d.blocks = [];
    const repaired: CatalogRecord[] = [];
    const indexed: BlockEntry[] = [];
    for (let n = 0; n < h.blockCount; n++) {
      const b = new BlockEntry(d, table, n);
      if (b.state === 'open') {
        const rec = await recoverOpenBlock(d.io, n, b.generation).catch((e: Error) => ({ records: [], note: `unreadable: ${e.message}` }));
        const recs = rec.records;
        if (rec.note) this.log.warn(`repairing block ${n} of disk ${d.name}`, { note: rec.note, frames: recs.length });
        if (recs.length > 0) {
          b.state = 'sealed';
          b.start = recs[0]!.time;
          b.end = recs[recs.length - 1]!.time;
          b.frames = recs.length;
          b.bytes = recs[recs.length - 1]!.offset + recs[recs.length - 1]!.size;
          b.keyframe = recs.some((x) => x.keyframe);
        } else {
          b.state = 'free';
          b.frames = b.bytes = b.start = b.end = 0;
        }
        repaired.push(record(b));
      }
      d.blocks.push(b);
      if (b.state === 'free') d.free.push(n);
      else indexed.push(b);
    }
    this.index.addAll(indexed);
    // Lowest numbers are handed out first: pop() takes from the end.
    d.free.reverse();
    if (!readOnly) {
      if (replay.count > 4 * h.blockCount) await journal.compact(d.blocks.filter((b) => b.generation > 0).map(record));
      else if (repaired.length) await journal.append(repaired, true);
    }
  }

  // ------------------------------------------------------------ block source (writers)

  private eligible(channel: string): DiskEntry[] {
    const group = this.retention?.channels?.[channel]?.group;
    return this.diskList.filter((d) => writable(d) && (group === undefined || d.group === group));
  }

  async acquire(channel: string, stream: StreamKind, info: StreamInfo, firstTime: number): Promise<BlockEntry | null> {
    for (let attempt = 0; attempt < this.diskList.length + 2; attempt++) {
      const b = this.chooseBlock(channel, stream);
      if (!b) return null;
      const d = b.disk;
      const reused = b.state === 'sealed' ? b.snapshot() : undefined;
      if (reused) this.index.remove(b);
      else d.free.splice(d.free.indexOf(b.blockNo), 1);
      b.generation++;
      Object.assign(b, { state: 'open', channel, stream, start: firstTime, end: firstTime, frames: 0, bytes: 0, keyframe: false });
      b.live = { records: [], info };
      try {
        // Invariant 2: the catalog knows the new generation before the block holds any of it.
        await d.journal!.append([record(b)], true);
        await d.io!.writev(b.blockNo, [encodeBlockHeader({ blockNo: b.blockNo, storeId: d.header!.storeId, diskId: d.header!.diskId, generation: b.generation, channel, stream, info, openedMs: this.clock.now() })], 0);
      } catch (e) {
        b.live = undefined;
        b.state = 'free';
        this.diskError(d, e, `opening block ${b.blockNo}`);
        continue;
      }
      if (reused) {
        this.opts.bus.emit('storageOverwrite', { disk: d.name, block: b.blockNo, channel: reused.channel, stream: reused.stream, start: reused.start, end: reused.end, at: this.clock.now() });
        this.log.debug('overwrote the oldest block', { disk: d.name, block: b.blockNo, channel: reused.channel, stream: reused.stream });
      }
      this.index.add(b);
      this.clearAlarms(channel, stream);
      return b;
    }
    return null;
  }

  private chooseBlock(channel: string, stream: StreamKind): BlockEntry | null {
    const disks = this.eligible(channel);
    if (disks.length === 0) {
      this.raise('no-disk', channel, stream, 'no writable disk for this channel');
      return null;
    }
    const now = this.clock.now();
    const quota = this.retention?.channels?.[channel]?.quota;
    let overQuota = false;
    if (quota !== undefined) {
      let total = 0;
      let mine = 0;
      for (const d of disks) {
        total += d.blocks.length;
        for (const b of d.blocks) if (b.state !== 'free' && b.channel === channel) mine++;
      }
      overQuota = mine >= Math.max(1, Math.floor(quota * total));
    }
    const withFree = disks.filter((d) => d.free.length > 0);
    if (withFree.length > 0 && !overQuota) {
      // Round-robin over disks spreads concurrent streams and wear.
      const d = withFree[this.rr++ % withFree.length]!;
      return d.blocks[d.free[d.free.length - 1]!]!;
    }
    if ((this.retention?.mode ?? 'overwrite') === 'stop' && !overQuota) {
      for (const d of disks) if (d.state === 'ok' && d.free.length === 0) this.setDiskState(d, 'full', 'no free block left and retention is stop-when-full');
      this.raise('full', channel, stream, 'every block is used and retention is stop-when-full');
      return null;
    }
    this.expireLocks();
    const v = pickVictim(disks, channel, overQuota, this.locksSet, now);
    if ('block' in v) {
      if (overQuota && v.block.channel !== channel && withFree.length > 0) {
        const d = withFree[this.rr++ % withFree.length]!;
        return d.blocks[d.free[d.free.length - 1]!]!;
      }
      return v.block;
    }
    if (withFree.length > 0) {
      const d = withFree[this.rr++ % withFree.length]!;
      return d.blocks[d.free[d.free.length - 1]!]!;
    }
    this.raise(v.none === 'all-locked' ? 'all-locked' : 'full', channel, stream,
      v.none === 'all-locked' ? 'everything left is locked: new frames are dropped, locked recordings are kept' : 'no block to record to');
    return null;
  }

  async seal(b: BlockEntry): Promise<void> {
    if (b.state !== 'open') return;
    b.live = undefined;
    if (b.frames === 0) {
      // Nothing written: back to the free list instead of an empty segment.
      b.state = 'free';
      this.index.remove(b);
      b.disk.free.push(b.blockNo);
    } else {
      b.state = 'sealed';
    }
    if (!writable(b.disk) || !b.disk.journal) return;
    try {
      await b.disk.journal.append([record(b)], false);
      await this.maybeCompact(b.disk);
    } catch (e) {
      this.diskError(b.disk, e, 'writing the catalog');
    }
  }

  diskError(d: DiskEntry, err: unknown, op: string): void {
    if (!writable(d)) return;
    const state = stateForError(err);
    this.setDiskState(d, state, `${op}: ${(err as Error).message}`);
    // Open blocks there keep what is durable; their writers move on at the next flush.
    for (const b of d.blocks) {
      if (b.state !== 'open') continue;
      if (b.frames === 0) {
        b.state = 'free';
        b.live = undefined;
        this.index.remove(b);
      }
    }
  }

  private async maybeCompact(d: DiskEntry): Promise<void> {
    if (!d.journal || d.journal.records <= 4 * d.blocks.length) return;
    await d.journal.compact(d.blocks.filter((b) => b.generation > 0).map(record));
  }

  private raise(kind: StorageAlarmKind, channel: string, stream: StreamKind, detail: string): void {
    const key = `${kind}\u0000${streamKey(channel, stream)}`;
    if (this.alarms.has(key)) return;
    this.alarms.add(key);
    this.log.error(`storage alarm ${kind}: ${detail}`, { channel, stream });
    this.opts.bus.emit('storageAlarm', { kind, active: true, channel, stream, detail, at: this.clock.now() });
  }

  private clearAlarms(channel: string, stream: StreamKind): void {
    for (const key of [...this.alarms]) {
      const [kind, ...rest] = key.split('\u0000');
      if (rest.join('\u0000') !== streamKey(channel, stream)) continue;
      this.alarms.delete(key);
      this.opts.bus.emit('storageAlarm', { kind: kind as StorageAlarmKind, active: false, channel, stream, detail: 'recording again', at: this.clock.now() });
    }
  }

  // ------------------------------------------------------------ retention sweep, locks

  private get retention(): RetentionOptions | undefined {
    return this.retentionSet ?? this.opts.retention;
  }

  /**
   * New retention settings, in force at once: the next block chosen follows
   * the quotas, and a shorter max age deletes what it now covers straight
   * away rather than at the next sweep.
   */
  setRetention(retention: RetentionOptions): void {
    this.retentionSet = retention;
    if (!this.running) return;
    if (this.sweepTimer) this.clock.clearTimeout(this.sweepTimer);
    this.sweep();
  }

  private sweep(): void {
    if (!this.running) return;
    this.expireLocks();
    const now = this.clock.now();
    for (const b of expiredBlocks(this.diskList.filter(writable), this.retention?.channels ?? {}, this.locksSet, now)) {
      void this.deleteBlock(b, 'max-age');
    }
    this.sweepTimer = this.clock.setTimeout(() => this.sweep(), this.opts.sweepIntervalMs ?? 60_000);
    this.sweepTimer.unref?.();
  }

  private async deleteBlock(b: BlockEntry, reason: 'max-age' | 'manual' | 'repair'): Promise<void> {
    if (b.state !== 'sealed') return;
    const gone = { channel: b.channel, stream: b.stream, start: b.start, end: b.end };
    this.index.remove(b);
    b.state = 'free';
    b.frames = b.bytes = 0;
    b.disk.free.push(b.blockNo);
    if (b.disk.state === 'full') this.setDiskState(b.disk, 'ok', 'a block was freed');
    this.opts.bus.emit('storageDeletion', { disk: b.disk.name, block: b.blockNo, ...gone, reason, at: this.clock.now() });
    try {
      await b.disk.journal?.append([record(b)], false);
    } catch (e) {
      this.diskError(b.disk, e, 'writing the catalog');
    }
  }

  private expireLocks(): void {
    const gone = this.locksSet.expire(this.clock.now());
    if (gone.length === 0) return;
    this.saveLocks();
    for (const l of gone) this.emitLock(l, 'expired');
  }

  private saveLocks(): void {
    const roots = this.diskList.filter(writable).map((d) => d.root);
    for (const f of this.locksSet.save(roots)) this.log.error('could not save the locks file', { path: f.root, error: f.error });
  }

  private emitLock(l: Lock, action: 'added' | 'removed' | 'expired'): void {
    this.opts.bus.emit('storageLock', { id: l.id, channel: l.channel, start: l.start, end: l.end, action, reason: l.reason, ...(l.expiresMs !== undefined ? { expiresMs: l.expiresMs } : {}), at: this.clock.now() });
  }

  /** Protects a time range of a channel from overwrite and deletion. */
  lock(req: NewLock): Lock {
    if (!(req.end >= req.start)) throw new RangeError(`lock: end ${req.end} is before start ${req.start}`);
    const l: Lock = { id: randomUUID(), channel: req.channel, start: req.start, end: req.end, reason: req.reason, ...(req.expiresMs !== undefined ? { expiresMs: req.expiresMs } : {}) };
    this.locksSet.add(l);
    this.saveLocks();
    this.emitLock(l, 'added');
    return l;
  }

  unlock(id: string): boolean {
    const l = this.locksSet.remove(id);
    if (!l) return false;
    this.saveLocks();
    this.emitLock(l, 'removed');
    return true;
  }

  locks(): Lock[] {
    return [...this.locksSet.list()];
  }

  /** Deletes the unlocked sealed blocks of a channel that end before `beforeUs`; returns how many. */
  async deleteBefore(channel: string, beforeUs: number): Promise<number> {
    const now = this.clock.now();
    const victims = this.diskList.flatMap((d) => d.blocks).filter((b) => b.state === 'sealed' && b.channel === channel && b.end < beforeUs && !this.locksSet.covers(b, now));
    for (const b of victims) await this.deleteBlock(b, 'manual');
    return victims.length;
  }

  // ------------------------------------------------------------ recording

  private writer(channel: string, stream: StreamKind): StreamWriter {
    if (!this.running) throw new Error('the recording store is not running');
    const key = streamKey(channel, stream);
    let w = this.writers.get(key);
    if (!w) {
      const list = this.index.list(channel, stream);
      const last = list.length ? list[list.length - 1]!.end : -Infinity;
      w = new StreamWriter(channel, stream, this, this.clock, this.log, this.wopts, last);
      this.writers.set(key, w);
    }
    return w;
  }

  /** Describes a stream; a change (new resolution, new SPS) starts a new block. */
  setStreamInfo(channel: string, stream: StreamKind, info: StreamInfo): void {
    if (Buffer.byteLength(channel) === 0 || Buffer.byteLength(channel) > 63) throw new RangeError(`channel name "${channel}" must be 1..63 bytes`);
    this.writer(channel, stream).setInfo(info);
  }

  /** Queues a frame; false when it was refused (see WriterOptions.maxPendingBytes). */
  append(channel: string, stream: StreamKind, frame: Frame): boolean {
    return this.writer(channel, stream).append(frame);
  }

  /** Writes everything queued (one stream, or all). */
  async flush(channel?: string, stream?: StreamKind): Promise<void> {
    const ws = [...this.writers.values()].filter((w) => (channel === undefined || w.channel === channel) && (stream === undefined || w.stream === stream));
    await Promise.all(ws.map((w) => w.flush()));
  }

  /** Flushes and seals a stream's block (camera removed, recording disabled). */
  async closeStream(channel: string, stream: StreamKind): Promise<void> {
    const key = streamKey(channel, stream);
    const w = this.writers.get(key);
    if (!w) return;
    this.writers.delete(key);
    await w.close();
  }

  // ------------------------------------------------------------ reading, status

  timeline(channel: string, stream: StreamKind, fromUs: number, toUs: number): Timeline {
    return this.reader!.timeline(channel, stream, fromUs, toUs);
  }

  cursor(opts: CursorOptions): AsyncGenerator<CursorChunk> {
    if (!this.reader) throw new Error('the recording store is not running');
    return this.reader.cursor(opts);
  }

  streams(): { channel: string; stream: StreamKind }[] {
    return this.index.streams();
  }

  disks(): DiskStatus[] {
    const now = this.clock.now();
    return this.diskList.map((d) => {
      const used = d.blocks.filter((b) => b.state !== 'free');
      const device = this.opts.disks.find((c) => c.name === d.name)?.device;
      return {
        name: d.name, path: d.root, group: d.group, state: d.state, ...(d.detail ? { detail: d.detail } : {}),
        blocks: d.blocks.length, freeBlocks: d.free.length, blockSize: d.header?.blockSize ?? 0,
        usedBlocks: used.length, lockedBlocks: used.filter((b) => this.locksSet.covers(b, now)).length,
        usedBytes: used.reduce((n, b) => n + b.bytes, 0),
        ...(device ? { device } : {}),
        ...(d.header ? { storeId: d.header.storeId, diskId: d.header.diskId } : {}),
      };
    });
  }

  /** The store's id (adopted from the first formatted disk when not configured). */
  id(): string | undefined {
    return this.storeId;
  }

  writerStats(): Record<string, WriterStats> {
    const out: Record<string, WriterStats> = {};
    for (const w of this.writers.values()) out[`${w.channel}/${w.stream}`] = { ...w.stats };
    return out;
  }

  /** For tests and `dvr storage check`: every non-free block, with its disk. */
  blocks(): { disk: string; block: number; generation: number; state: string; channel: string; stream: StreamKind; start: number; end: number; frames: number }[] {
    return this.diskList.flatMap((d) => d.blocks.filter((b) => b.state !== 'free').map((b) => ({
      disk: d.name, block: b.blockNo, generation: b.generation, state: b.state, channel: b.channel, stream: b.stream, start: b.start, end: b.end, frames: b.frames,
    })));
  }

  /** Free block numbers of a disk (for invariant checks). */
  freeBlocks(disk: string): number[] {
    return [...(this.diskList.find((d) => d.name === disk)?.free ?? [])];
  }
}

/** A disk blocks can be written to; "full" only means it has no free block left. */
export function writable(d: DiskEntry): boolean {
  return d.state === 'ok' || d.state === 'full';
}

function record(b: BlockEntry): CatalogRecord {
  return { blockNo: b.blockNo, generation: b.generation, state: b.state, channel: b.channel, stream: b.stream, start: b.start, end: b.end, frames: b.frames, bytes: b.bytes, flags: b.keyframe ? 1 : 0 };
}
