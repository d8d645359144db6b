/**
 * Retention policy: which block to reuse when none is free, which blocks are
 * too old, and the event locks that protect time ranges. Decisions only; the
 * store carries them out and announces them on the bus.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCKS_FILE, writeAtomicSync } from './disk.js';
import { decodeLocks, encodeLocks, type LockRecord, type LocksFile } from './format.js';
import type { BlockEntry, DiskEntry } from './time-index.js';

export type RetentionMode = 'overwrite' | 'stop';

export interface ChannelRetention {
  /** Blocks whose last frame is older than this are deleted (ms). */
  maxAgeMs?: number;
  /** Share of all blocks (0..1) this channel may hold before it overwrites its own oldest. */
  quota?: number;
  /** Disk group the channel records to (default: every disk). */
  group?: string;
}

export interface RetentionOptions {
  mode?: RetentionMode;
  channels?: Record<string, ChannelRetention>;
}

export type Lock = LockRecord;

/** The set of event locks, with the same copy on every writable disk. */
export class LockSet {
  private file: LocksFile = { seq: 0, locks: [] };

  /** Takes the newest valid copy among the disks; damaged copies are reported and skipped. */
  load(roots: string[], warn: (msg: string, fields: Record<string, unknown>) => void): void {
    for (const root of roots) {
      const p = join(root, LOCKS_FILE);
      if (!existsSync(p)) continue;
      try {
        const f = decodeLocks(readFileSync(p));
        if (f.seq > this.file.seq) this.file = f;
      } catch (e) {
        warn('ignoring a damaged locks file', { path: p, error: (e as Error).message });
      }
    }
  }

  /** Writes the set to every given disk; returns the disks where that failed. */
  save(roots: string[]): { root: string; error: Error }[] {
    this.file.seq++;
    const bytes = encodeLocks(this.file);
    const failed: { root: string; error: Error }[] = [];
    for (const root of roots) {
      try {
        writeAtomicSync(root, LOCKS_FILE, bytes);
      } catch (e) {
        failed.push({ root, error: e as Error });
      }
    }
    return failed;
  }

  list(): readonly Lock[] {
    return this.file.locks;
  }

  add(lock: Lock): void {
    this.file.locks.push(lock);
  }

  remove(id: string): Lock | undefined {
    const i = this.file.locks.findIndex((l) => l.id === id);
    return i < 0 ? undefined : this.file.locks.splice(i, 1)[0];
  }

  /** Removes and returns locks whose expiry has passed. */
  expire(nowMs: number): Lock[] {
    const gone = this.file.locks.filter((l) => l.expiresMs !== undefined && l.expiresMs <= nowMs);
    if (gone.length) this.file.locks = this.file.locks.filter((l) => !gone.includes(l));
    return gone;
  }

  /** True when a live lock of the block's channel overlaps the block's time span. */
  covers(b: BlockEntry, nowMs: number): boolean {
    for (const l of this.file.locks) {
      if (l.channel !== b.channel) continue;
      if (l.expiresMs !== undefined && l.expiresMs <= nowMs) continue;
      if (l.start <= b.end && l.end >= b.start) return true;
    }
    return false;
  }
}

export type Victim = { block: BlockEntry } | { none: 'all-locked' | 'no-blocks' };

/**
 * The block to reuse for `channel` when no block is free on `disks`: the oldest
 * sealed unlocked block; if the channel is over quota, its own oldest first.
 * O(blocks): called once per block fill, not per frame.
 */
export function pickVictim(disks: DiskEntry[], channel: string, overQuota: boolean, locks: LockSet, nowMs: number): Victim {
  let best: BlockEntry | undefined;
  let bestOwn: BlockEntry | undefined;
  let sealed = 0;
  for (const d of disks) {
    for (const b of d.blocks) {
      if (b.state !== 'sealed') continue;
      sealed++;
      if (locks.covers(b, nowMs)) continue;
      if (!best || b.start < best.start) best = b;
      if (overQuota && b.channel === channel && (!bestOwn || b.start < bestOwn.start)) bestOwn = b;
    }
  }
  const pick = bestOwn ?? best;
  if (pick) return { block: pick };
  return { none: sealed > 0 ? 'all-locked' : 'no-blocks' };
}

/** Sealed, unlocked blocks whose channel has a max age they have passed. */
export function expiredBlocks(disks: DiskEntry[], channels: Record<string, ChannelRetention>, locks: LockSet, nowMs: number): BlockEntry[] {
  const out: BlockEntry[] = [];
  for (const d of disks) {
    for (const b of d.blocks) {
      if (b.state !== 'sealed') continue;
      const maxAge = channels[b.channel]?.maxAgeMs;
      if (maxAge === undefined) continue;
      if (b.end / 1000 < nowMs - maxAge && !locks.covers(b, nowMs)) out.push(b);
    }
  }
  return out;
}
