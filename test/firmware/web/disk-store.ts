// A real RingStore over two directory bays in a temp dir (the sim board's
// kind of bay), wired to the disk tools as the firmware does, with a few
// seconds recorded on one bay so that one holds recordings and one does not.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../../firmware/core/bus.js';
import { memoryLogger } from '../../../firmware/core/log.js';
import { Bays } from '../../../firmware/storage/bays.js';
import { diskTools, type DiskTools } from '../../../firmware/storage/commands.js';
import { DiskMonitor } from '../../../firmware/storage/disk-monitor.js';
import { RingStore } from '../../../firmware/storage/ring-store.js';
import { H264, frame } from '../storage/helpers.js';

export interface DiskStore {
  store: RingStore;
  disks: DiskTools;
  /** The bay holding the recorded seconds, and the one that is still empty. */
  holding: string;
  empty: string;
  stop(): Promise<void>;
}

export async function diskStore(): Promise<DiskStore> {
  const base = mkdtempSync(join(tmpdir(), 'web-disks-'));
  const log = memoryLogger('storage');
  const names = ['sata1', 'sata2'];
  for (const n of names) mkdirSync(join(base, n));
  const bays = new Bays({ bays: names.map((bay) => ({ bay, path: join(base, bay), kind: 'directory' as const })), mountRoot: join(base, 'disks'), log });
  await bays.prepareAll();
  const store = new RingStore({ bus: new EventBus(), log, disks: bays.diskConfigs(), format: { blockSize: 256 * 1024, indexBytes: 8 * 1024, blockCount: 8, reserveBytes: 0 } });
  await store.start();
  const monitor = new DiskMonitor({ store, log });
  const disks = diskTools({ store, bays, monitor, format: { blockSize: 256 * 1024, indexBytes: 8 * 1024, reserveBytes: 0 } });
  // Less than a block: one bay gets it all.
  const t0 = Date.UTC(2026, 0, 1) * 1000;
  store.setStreamInfo('yard', 'main', H264);
  for (let i = 0; i < 40; i++) store.append('yard', 'main', frame('yard', i, t0, { size: 1500 }));
  await store.flush();
  await store.closeStream('yard', 'main');
  const holding = store.disks().find((d) => d.usedBlocks > 0)!.name;
  return {
    store,
    disks,
    holding,
    empty: names.find((n) => n !== holding)!,
    stop: async () => {
      await store.stop();
      rmSync(base, { recursive: true, force: true });
    },
  };
}
