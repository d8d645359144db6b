/**
 * Shared by the storage benchmarks: an ext4 file system on a loop device
 * (root only) or, failing that, a plain directory; and the sectors the
 * device has written, for write amplification.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export interface BenchDisk {
  path: string;
  kind: 'ext4-loop' | 'directory';
  device?: string;
  /** The file behind the loop device (its page cache holds the disk's blocks a second time). */
  image?: string;
  cleanup(): void;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function benchDisk(sizeMiB: number, inodes?: number): BenchDisk {
  const base = mkdtempSync(join(tmpdir(), 'storage-bench-'));
  const undo: (() => void)[] = [];
  const cleanup = (): void => {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch {
        // best effort
      }
    }
    rmSync(base, { recursive: true, force: true });
  };
  try {
    const img = join(base, 'disk.img');
    sh('truncate', ['-s', `${sizeMiB}M`, img]);
    sh('mkfs.ext4', ['-q', '-F', '-m', '0', ...(inodes ? ['-N', String(inodes)] : []), img]);
    const device = sh('losetup', ['-f', '--show', img]);
    undo.push(() => sh('losetup', ['-d', device]));
    sh('blockdev', ['--setrw', device]);
    const mnt = join(base, 'mnt');
    mkdirSync(mnt);
    sh('mount', [device, mnt]);
    undo.push(() => sh('umount', [mnt]));
    const path = join(mnt, 'dvr');
    mkdirSync(path);
    return { path, kind: 'ext4-loop', device, image: img, cleanup };
  } catch (e) {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch {
        // ignore
      }
    }
    undo.length = 0;
    console.log(`(no loop device: ${(e as Error).message.split('\n')[0]}; using a plain directory)`);
    const path = join(base, 'dir');
    mkdirSync(path);
    return { path, kind: 'directory', cleanup };
  }
}

/** Bytes the block device has written since boot (0 when unknown). */
export function deviceBytesWritten(device: string | undefined): number {
  if (!device) return 0;
  const f = readFileSync(`/sys/block/${basename(device)}/stat`, 'utf8').trim().split(/\s+/);
  return Number(f[6]) * 512;
}

export function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown CPU'} × ${c.length}, Node ${process.version}`;
}

/** 4 Mbit/s at 25 fps, GOP 50, keyframes 5× a P-frame; one GOP of buffers reused. */
export function gopFrames(bitrate = 4_000_000, gop = 50): Uint8Array[] {
  const avg = bitrate / 8 / 25;
  const p = Math.round((avg * gop) / (gop + 4));
  return Array.from({ length: gop }, (_, i) => {
    const b = new Uint8Array(i === 0 ? p * 5 : p);
    for (let k = 0; k < b.length; k += 64) b[k] = (k * 2654435761 + i) >>> 24;
    return b;
  });
}
