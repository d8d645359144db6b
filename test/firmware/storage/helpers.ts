/**
 * Shared by the storage tests: real disks (ext4 on loop devices when this
 * machine allows it, else plain directories, and the tests say which) and
 * deterministic frames, so any frame read back can be checked bit for bit.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { memoryLogger, type Logger } from '../../../firmware/core/log.js';
import type { Frame, StreamInfo } from '../../../firmware/media/types.js';
import { RingStore, type RingStoreOptions } from '../../../firmware/storage/ring-store.js';

export type DiskKind = 'ext4-loop' | 'directory';

export interface TestDisk {
  path: string;
  kind: DiskKind;
  /** The loop device and its backing image, when there are (to break the disk on purpose). */
  device?: string;
  image?: string;
}

export interface TestDisks {
  disks: TestDisk[];
  kind: DiskKind;
  cleanup(): void;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

let loopWorks: boolean | undefined;

/** ext4 on loop devices if losetup/mkfs/mount work here (root), else directories. */
export function makeDisks(count: number, sizeMiB = 64, prefix = 'store', mountOptions?: string): TestDisks {
  const base = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const disks: TestDisk[] = [];
  const undo: (() => void)[] = [];
  const cleanup = (): void => {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch {
        // Best effort: a lazy unmount may still be settling.
      }
    }
    rmSync(base, { recursive: true, force: true });
  };
  if (loopWorks !== false && process.env.STORAGE_TEST_NO_LOOP === undefined) {
    try {
      for (let i = 0; i < count; i++) {
        const img = join(base, `disk${i}.img`);
        sh('truncate', ['-s', `${sizeMiB}M`, img]);
        sh('mkfs.ext4', ['-q', '-F', '-m', '0', img]);
        const device = sh('losetup', ['-f', '--show', img]);
        undo.push(() => sh('losetup', ['-d', device]));
        // A free loop device can keep a read-only flag from whoever used it last.
        sh('blockdev', ['--setrw', device]);
        const mnt = join(base, `mnt${i}`);
        mkdirSync(mnt);
        sh('mount', [...(mountOptions ? ['-o', mountOptions] : []), device, mnt]);
        undo.push(() => sh('umount', ['-l', mnt]));
        const path = join(mnt, 'dvr');
        mkdirSync(path);
        disks.push({ path, kind: 'ext4-loop', device, image: img });
      }
      loopWorks = true;
      return { disks, kind: 'ext4-loop', cleanup };
    } catch {
      loopWorks = false;
      for (const u of undo.reverse()) {
        try {
          u();
        } catch {
          // ignore
        }
      }
      undo.length = 0;
      disks.length = 0;
    }
  }
  for (let i = 0; i < count; i++) {
    const path = join(base, `disk${i}`);
    mkdirSync(path);
    disks.push({ path, kind: 'directory' });
  }
  return { disks, kind: 'directory', cleanup };
}

/** False (with the reason) when ext4 on loop devices cannot be used here; for tap's `skip` option. */
export function loopUnavailable(): string | false {
  const d = makeDisks(1, 8, 'probe');
  d.cleanup();
  return d.kind === 'ext4-loop' ? false : 'needs ext4 on loop devices (losetup/mkfs.ext4/mount as root), not available here';
}

export const H264: StreamInfo = { codec: 'h264', config: Uint8Array.from([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f]), width: 1920, height: 1080 };
export const AAC: StreamInfo = { codec: 'aac', config: Uint8Array.from([0x12, 0x10]), sampleRate: 44100, channels: 1 };

/** Bytes of frame i of a stream: derived from (seed, i), so readers can check them. */
export function frameBytes(seed: string, i: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(`${seed}:${i}`).digest();
  for (let o = 0; o < size; o += 32) {
    block.copy(out, o, 0, Math.min(32, size - o));
    if (o + 32 < size) block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** Frame i at 25 fps from t0 (µs), keyframe every `gop`, size varying with i. */
export function frame(seed: string, i: number, t0: number, opts: { gop?: number; size?: number; fps?: number } = {}): Frame {
  const gop = opts.gop ?? 25;
  const base = opts.size ?? 2000;
  const size = i % gop === 0 ? base * 4 : base + ((i * 7919) % base);
  return { time: t0 + Math.round((i * 1e6) / (opts.fps ?? 25)), keyframe: i % gop === 0, data: frameBytes(seed, i, size) };
}

export function captureEvents<K extends keyof BusEvents>(bus: EventBus, name: K): BusEvents[K][] {
  const out: BusEvents[K][] = [];
  bus.on(name, (e) => out.push(e));
  return out;
}

export function storeWith(paths: string[], opts: Partial<RingStoreOptions> & { log?: Logger } = {}): { store: RingStore; bus: EventBus; log: Logger } {
  const bus = opts.bus ?? new EventBus();
  const log = opts.log ?? memoryLogger('storage');
  const store = new RingStore({
    bus,
    log,
    disks: paths.map((path, i) => ({ name: `d${i}`, path })),
    format: { blockSize: 256 * 1024, indexBytes: 8 * 1024, reserveBytes: 1024 * 1024 },
    ...opts,
  });
  return { store, bus, log };
}

/** Every frame a cursor yields, flattened. */
export async function readAll(store: RingStore, channel: string, stream: 'main' | 'sub' | 'audio', from = 0, to?: number, keyframesOnly = false): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const c of store.cursor({ channel, stream, from, ...(to !== undefined ? { to } : {}), keyframesOnly })) out.push(...c.frames);
  return out;
}
