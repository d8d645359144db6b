/**
 * SATA bays that name a block device: at start (and when a disk is inserted)
 * the device is looked at and mounted when it holds an ext4 file system;
 * an empty or foreign disk is reported and never touched. The store itself
 * only sees a directory (`<mount point>/dvr`), which exists only while the
 * file system is mounted, so an unmounted bay reads as "missing", never as an
 * empty disk to format.
 *
 * Mounting goes through /bin/mount with an argument array rather than the
 * mount(2) syscall: mount(8) follows the by-path link, records the mount for
 * umount and findmnt, and explains failures in words; it runs once per
 * insertion, so the process spawn costs nothing, and drivers/libc need not
 * grow mount/umount bindings.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import { runFile, type Run } from '../core/run.js';
import type { Service } from '../core/service.js';
import { BlockDeviceError, describeBlockDevice, type BlockDevice } from '../../drivers/disk/index.js';
import type { DiskConfig } from './ring-store.js';

export interface BayProfile {
  bay: string;
  /** By-path block device, or a directory (sim board). */
  path: string;
  kind: 'block' | 'directory';
}

export type BayState = 'mounted' | 'directory' | 'missing' | 'unformatted' | 'foreign' | 'failed';

export interface BayReport {
  bay: string;
  kind: 'block' | 'directory';
  state: BayState;
  /** The store's directory on this bay. */
  storePath: string;
  mountPoint?: string;
  device?: BlockDevice;
  /** What the start of the device holds (block bays). */
  content?: string;
  detail?: string;
}

// ---------------------------------------------------------------- what a device holds

/** Bytes read from the start of a device to recognise its content (btrfs keeps its magic at 64 KiB). */
export const PROBE_BYTES = 0x10000 + 0x1000;

/**
 * Names what the first bytes of a device hold: 'ext4', 'empty' (all zeros),
 * or what else it is ('ext2/ext3', 'partition table', 'xfs', ...: foreign).
 * Only signatures, no parsing of structures: any byte sequence is accepted.
 */
export function identifyContent(b: Uint8Array): string {
  const at = (off: number, sig: string) => off + sig.length <= b.byteLength && Buffer.from(b.buffer, b.byteOffset + off, sig.length).toString('latin1') === sig;
  const u16 = (off: number) => (off + 2 <= b.byteLength ? b[off]! | (b[off + 1]! << 8) : -1);
  const u32 = (off: number) => (off + 4 <= b.byteLength ? (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0 : 0);
  // ext2/3/4 superblock at 1024: magic 0xEF53 at offset 56; ext4 uses extents (incompat 0x40).
  if (u16(1024 + 56) === 0xef53) return (u32(1024 + 96) & 0x40) !== 0 ? 'ext4' : 'ext2/ext3';
  if (at(0, 'XFSB')) return 'xfs';
  if (at(0x10040, '_BHRfS_M')) return 'btrfs';
  if (at(3, 'NTFS    ')) return 'ntfs';
  if (at(3, 'EXFAT   ')) return 'exfat';
  if (at(0, 'LUKS\xba\xbe')) return 'luks';
  if (at(4086, 'SWAPSPACE2') || at(4086, 'SWAP-SPACE')) return 'swap';
  if (at(512, 'EFI PART')) return 'partition table (GPT)';
  if (at(0x36, 'FAT') || at(0x52, 'FAT32')) return 'fat';
  if (u16(510) === 0xaa55) return 'partition table (MBR)';
  for (let i = 0; i < b.byteLength; i++) if (b[i] !== 0) return 'unknown data';
  return 'empty';
}

// ---------------------------------------------------------------- mounts

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** `\040` and friends: how /proc/self/mountinfo escapes spaces, tabs, newlines and backslashes. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/self/mountinfo; malformed lines are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    if (left.length < 6 || right.length < 2 || !left[4]) continue;
    out.push({ mountPoint: unescapeOctal(left[4]), fsType: right[0]!, source: unescapeOctal(right[1]!) });
  }
  return out;
}

export async function mounts(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

// ---------------------------------------------------------------- bays

export interface BaysOptions {
  bays: BayProfile[];
  /** Where block bays are mounted: `<mountRoot>/<bay>` (the board's data directory + /disks). */
  mountRoot: string;
  log: Logger;
  run?: Run;
  /** ext4 mount options (default noatime,nodev,nosuid,noexec). */
  mountOptions?: string;
}

/** A service so the supervisor mounts the bays before it starts the store (start = prepareAll; stop leaves mounts as they are). */
export class Bays implements Service {
  readonly name = 'bays';
  private readonly run: Run;

  constructor(private readonly opts: BaysOptions) {
    this.run = opts.run ?? runFile;
  }

  async start(): Promise<void> {
    await this.prepareAll();
  }

  async stop(): Promise<void> {
    // Mounts outlive the process on purpose: a restart finds its disks mounted.
  }

  list(): readonly BayProfile[] {
    return this.opts.bays;
  }

  find(bay: string): BayProfile | undefined {
    return this.opts.bays.find((b) => b.bay === bay);
  }

  mountPoint(bay: string): string {
    return join(this.opts.mountRoot, bay);
  }

  storePath(b: BayProfile): string {
    return b.kind === 'directory' ? b.path : join(this.mountPoint(b.bay), 'dvr');
  }

  /** The store's disk list for these bays (block bays carry their device, so the monitor can see it go). */
  diskConfigs(): DiskConfig[] {
    return this.opts.bays.map((b) => ({
      name: b.bay,
      path: this.storePath(b),
      ...(b.kind === 'block' ? { device: b.path, absent: () => this.why(b.bay) } : {}),
    }));
  }

  /** The disk state of a block bay with no store directory: unformatted or foreign when the device says so. */
  private async why(bay: string): Promise<{ state: 'unformatted' | 'foreign'; detail: string } | undefined> {
    const r = await this.prepare(bay, false);
    return r.state === 'unformatted' || r.state === 'foreign' ? { state: r.state, detail: r.detail ?? r.state } : undefined;
  }

  private async mountedAt(node: string, mountPoint: string): Promise<{ here: boolean; elsewhere?: string }> {
    const all = await mounts();
    if (all.some((m) => m.mountPoint === mountPoint && m.source === node)) return { here: true };
    const other = all.find((m) => m.source === node);
    return { here: false, ...(other ? { elsewhere: other.mountPoint } : {}) };
  }

  /**
   * Looks at one bay and mounts its disk when it holds ext4 (unless `mount`
   * is false: `dvr disk list` only looks). Never writes to a device:
   * unformatted and foreign disks are only reported.
   */
  async prepare(bay: string, mount = true): Promise<BayReport> {
    const b = this.find(bay);
    if (!b) throw new Error(`no bay "${bay}" on this board`);
    const storePath = this.storePath(b);
    if (b.kind === 'directory') return { bay, kind: b.kind, state: 'directory', storePath };
    const mountPoint = this.mountPoint(bay);
    const base = { bay, kind: b.kind, storePath, mountPoint };
    let device: BlockDevice;
    try {
      device = await describeBlockDevice(b.path);
    } catch (e) {
      if (e instanceof BlockDeviceError) return { ...base, state: e.code === 'missing' ? 'missing' : 'failed', detail: e.message };
      return { ...base, state: 'failed', detail: (e as Error).message };
    }
    const where = await this.mountedAt(device.node, mountPoint);
    if (where.here) return { ...base, device, state: 'mounted', content: 'ext4' };
    if (where.elsewhere) return { ...base, device, state: 'failed', detail: `${device.node} is mounted at ${where.elsewhere}, not at ${mountPoint}: left alone` };
    let content: string;
    try {
      content = identifyContent(await readStart(device.node));
    } catch (e) {
      return { ...base, device, state: 'failed', detail: `reading ${device.node}: ${(e as Error).message}` };
    }
    if (content === 'empty') return { ...base, device, content, state: 'unformatted', detail: 'no file system (dvr disk format)' };
    if (content !== 'ext4') return { ...base, device, content, state: 'foreign', detail: `holds ${content}: left alone (dvr disk format erases it)` };
    if (!mount) return { ...base, device, content, state: 'failed', detail: 'ext4, not mounted' };
    try {
      await this.mount(device.node, mountPoint);
    } catch (e) {
      return { ...base, device, content, state: 'failed', detail: (e as Error).message };
    }
    this.opts.log.info(`mounted bay ${bay}`, { device: device.node, at: mountPoint });
    return { ...base, device, content, state: 'mounted' };
  }

  /** prepare() for every bay; block bays that could not be mounted are logged. */
  async prepareAll(): Promise<BayReport[]> {
    const out: BayReport[] = [];
    for (const b of this.opts.bays) {
      const r = await this.prepare(b.bay);
      if (r.state !== 'mounted' && r.state !== 'directory') this.opts.log.warn(`bay ${b.bay} is ${r.state}`, { device: b.path, ...(r.detail ? { detail: r.detail } : {}) });
      out.push(r);
    }
    return out;
  }

  async mount(node: string, mountPoint: string): Promise<void> {
    await mkdir(mountPoint, { recursive: true });
    await this.run('/bin/mount', ['-t', 'ext4', '-o', this.opts.mountOptions ?? 'noatime,nodev,nosuid,noexec', node, mountPoint], 60_000);
  }

  /** Lazy unmount of a bay (a pulled disk's dead file system, or before mkfs); no-op when not mounted. */
  async unmount(bay: string): Promise<boolean> {
    const mp = this.mountPoint(bay);
    if (!(await mounts()).some((m) => m.mountPoint === mp)) return false;
    await this.run('/bin/umount', ['-l', mp], 60_000);
    return true;
  }

  /** Writes a new ext4 file system on a block bay (dvr disk format, after the user confirmed). */
  async mkfs(bay: string): Promise<BlockDevice> {
    const b = this.find(bay);
    if (!b || b.kind !== 'block') throw new Error(`bay "${bay}" is not a block-device bay`);
    const device = await describeBlockDevice(b.path);
    const where = await this.mountedAt(device.node, this.mountPoint(bay));
    if (where.here || where.elsewhere) throw new Error(`${device.node} is mounted at ${where.elsewhere ?? this.mountPoint(bay)}: unmount it first`);
    // A big disk holds a few thousand big block files: one inode per 4 MiB is plenty. No root reserve.
    const usage = device.sizeBytes >= 16 * 1024 ** 3 ? ['-T', 'largefile4'] : [];
    await this.run('mkfs.ext4', ['-q', '-F', ...usage, '-m', '0', '-L', `dvr-${bay}`.slice(0, 16), device.node], 30 * 60_000);
    return device;
  }
}

async function readStart(node: string): Promise<Buffer> {
  const fh = await open(node, 'r');
  try {
    const buf = Buffer.alloc(PROBE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
