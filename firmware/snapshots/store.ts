import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDurably } from '../config/durable-file.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';

/** Where a channel's picture comes from: an analog channel's capture, an IP camera's snapshot URI. */
export type SnapshotSource = (channel: string) => Promise<Uint8Array>;

export interface SnapshotStoreOptions {
  /** Pictures go to `<dir>/<channel>/<UTC time>.jpg`. */
  dir: string;
  clock: Clock;
  log: Logger;
  source: SnapshotSource;
  /** Newest pictures kept per channel; older ones are deleted (default 200). */
  keepPerChannel?: number;
}

export interface Snapshot {
  channel: string;
  file: string;
  bytes: number;
  at: number;
}

const SAFE_CHANNEL = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * Takes a channel's picture and keeps it on the system disk (not on the
 * recording disks: a snapshot is evidence of a moment, small, and must not
 * be overwritten by the ring), written whole or not at all, the oldest
 * deleted beyond a count per channel.
 */
export class SnapshotStore {
  constructor(private readonly o: SnapshotStoreOptions) {}

  async take(channel: string): Promise<Snapshot> {
    // The channel id names a directory: only the config's id pattern gets that far.
    if (!SAFE_CHANNEL.test(channel)) throw new Error(`bad channel id "${channel}"`);
    const jpeg = await this.o.source(channel);
    const at = this.o.clock.now();
    const dir = join(this.o.dir, channel);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    const name = `${new Date(at).toISOString().replace(/[-:]/g, '').replace('.', '-')}.jpg`;
    const file = join(dir, name);
    await writeDurably(file, jpeg, 0o640);
    await this.prune(dir).catch((err) => this.o.log.warn('old snapshots not deleted', { channel, error: (err as Error).message }));
    this.o.log.info('snapshot taken', { channel, file: name, bytes: jpeg.length });
    return { channel, file, bytes: jpeg.length, at };
  }

  /** A channel's pictures, newest first (file names sort by time). */
  async list(channel: string): Promise<string[]> {
    if (!SAFE_CHANNEL.test(channel)) throw new Error(`bad channel id "${channel}"`);
    const names = await readdir(join(this.o.dir, channel)).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith('.jpg')).sort().reverse();
  }

  private async prune(dir: string): Promise<void> {
    const keep = this.o.keepPerChannel ?? 200;
    const names = (await readdir(dir)).filter((n) => n.endsWith('.jpg')).sort();
    for (const n of names.slice(0, Math.max(0, names.length - keep))) await unlink(join(dir, n));
  }
}
