/**
 * Hot removal and insertion: every few seconds each bay is looked at. A disk
 * that vanished (its directory gone, its file system unmounted, its block
 * device gone, its store header unreadable or replaced) is detached from the
 * store (state "missing", writers move to the other disks); a disk that
 * appears in a bay whose disk is missing, unformatted or foreign is probed
 * again and rejoins the ring with its recordings. Polling rather than udev:
 * it also sees a lazy unmount or a deleted directory, which udev does not
 * report, and a look at a few inodes every few seconds costs nothing.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock, type Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import { describeBlockDevice } from '../../drivers/disk/index.js';
import { HEADER_FILE } from './disk.js';
import { decodeStoreHeader, STORE_HEADER_SIZE } from './format.js';
import type { DiskConfig, RingStore } from './ring-store.js';

export interface DiskMonitorOptions {
  store: RingStore;
  log: Logger;
  clock?: Clock;
  /** Default 3 s: a pulled disk costs at most this much recording time on the other disks' flush bound. */
  intervalMs?: number;
  /** Called when a block-device bay's device is back but its store directory is not (mount it: Bays.prepare). */
  onDeviceBack?: (cfg: DiskConfig) => Promise<void>;
  /** Called after a disk was detached (lazy-unmount the dead file system: Bays.unmount). */
  onDetached?: (cfg: DiskConfig) => Promise<void>;
}

/** Why a disk the store holds is no longer there, or null when it still is. */
export async function goneReason(cfg: DiskConfig, diskId: string | undefined): Promise<string | null> {
  if (cfg.device) {
    try {
      await describeBlockDevice(cfg.device);
    } catch (e) {
      return `device gone: ${(e as Error).message}`;
    }
  }
  try {
    if (!(await stat(cfg.path)).isDirectory()) return `${cfg.path} is no longer a directory`;
  } catch {
    return `${cfg.path} is gone (disk pulled or file system unmounted)`;
  }
  if (diskId === undefined) return null;
  let bytes: Buffer;
  try {
    bytes = await readFile(join(cfg.path, HEADER_FILE));
  } catch (e) {
    return `store header unreadable: ${(e as Error).message}`;
  }
  try {
    const h = decodeStoreHeader(bytes.subarray(0, STORE_HEADER_SIZE));
    if (h.diskId !== diskId) return `another disk is in the bay (disk id ${h.diskId})`;
  } catch (e) {
    return `store header unreadable: ${(e as Error).message}`;
  }
  return null;
}

async function present(cfg: DiskConfig): Promise<'yes' | 'device-only' | 'no'> {
  if (cfg.device) {
    try {
      await describeBlockDevice(cfg.device);
    } catch {
      return 'no';
    }
  }
  try {
    return (await stat(cfg.path)).isDirectory() ? 'yes' : 'no';
  } catch {
    return cfg.device ? 'device-only' : 'no';
  }
}

export class DiskMonitor implements Service {
  readonly name = 'disk-monitor';
  private readonly clock: Clock;
  private timer?: Timer;
  private running = false;
  private busy?: Promise<void>;

  constructor(private readonly opts: DiskMonitorOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  async start(): Promise<void> {
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.busy;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      this.busy = this.check().finally(() => this.schedule());
    }, this.opts.intervalMs ?? 3000);
    this.timer.unref?.();
  }

  /** One look at every bay (also called directly by tests and `dvr disk list`). */
  async check(): Promise<void> {
    const { store } = this.opts;
    const status = new Map(store.disks().map((d) => [d.name, d]));
    for (const cfg of store.diskConfigs()) {
      const s = status.get(cfg.name);
      if (!s) continue;
      try {
        if (s.state === 'missing' || s.state === 'unformatted' || s.state === 'foreign') {
          let p = await present(cfg);
          if (p === 'device-only' && this.opts.onDeviceBack) {
            await this.opts.onDeviceBack(cfg);
            p = await present(cfg);
          }
          if (p === 'no') {
            if (s.state !== 'missing') await store.detachDisk(cfg.name, `${cfg.path} is gone (disk pulled or file system unmounted)`);
            continue;
          }
          // Re-probed every look, so a disk formatted elsewhere or put back is picked up without a restart
          // (a block bay with its device but no store directory reads as its disk's content: unformatted, foreign).
          await store.reattachDisk(cfg.name);
          continue;
        }
        const why = await goneReason(cfg, s.diskId);
        if (why === null) continue;
        await store.detachDisk(cfg.name, why);
        await this.opts.onDetached?.(cfg);
      } catch (e) {
        this.opts.log.error(`checking disk ${cfg.name} failed`, { error: e });
      }
    }
  }
}
