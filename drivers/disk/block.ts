import { readFile, realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';

export interface BlockDevice {
  /** The path asked for (e.g. a /dev/disk/by-path link). */
  path: string;
  /** The kernel's node, e.g. /dev/sda. */
  node: string;
  name: string;
  sizeBytes: number;
  readOnly: boolean;
  removable: boolean;
  rotational: boolean | null;
  model: string | null;
  vendor: string | null;
  serial: string | null;
}

export class BlockDeviceError extends Error {
  override name = 'BlockDeviceError';
  constructor(
    message: string,
    readonly code: 'missing' | 'not-block',
  ) {
    super(message);
  }
}

async function sys(name: string, file: string): Promise<string | null> {
  try {
    return (await readFile(`/sys/class/block/${name}/${file}`, 'utf8')).trim() || null;
  } catch {
    return null;
  }
}

/**
 * What the kernel says about a block device, from sysfs: no ioctl, no
 * privileges needed, works for SATA disks, USB disks and loop devices alike.
 * A missing path (a bay with no disk, a disk pulled out) is a BlockDeviceError
 * with code 'missing', which the store turns into the disk state "missing".
 */
export async function describeBlockDevice(path: string): Promise<BlockDevice> {
  let node: string;
  try {
    node = await realpath(path);
  } catch {
    throw new BlockDeviceError(`${path}: no such device`, 'missing');
  }
  const st = await stat(node);
  if (!st.isBlockDevice()) throw new BlockDeviceError(`${path} is not a block device`, 'not-block');
  const name = basename(node);
  const sectors = Number((await sys(name, 'size')) ?? 0);
  const rot = await sys(name, 'queue/rotational');
  return {
    path,
    node,
    name,
    // sysfs "size" counts 512-byte sectors whatever the disk's own sector size.
    sizeBytes: sectors * 512,
    readOnly: (await sys(name, 'ro')) === '1',
    removable: (await sys(name, 'removable')) === '1',
    rotational: rot === null ? null : rot === '1',
    model: await sys(name, 'device/model'),
    vendor: await sys(name, 'device/vendor'),
    serial: (await sys(name, 'device/serial')) ?? (await sys(name, 'serial')),
  };
}
