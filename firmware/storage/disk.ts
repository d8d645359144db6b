/**
 * One disk of the store: formatting, probing its state at start, and raw
 * block-file I/O. Knows nothing about channels or retention.
 */
import { randomBytes } from 'node:crypto';
import * as fsModule from 'node:fs';
import { closeSync, constants as fsc, existsSync, fsyncSync, openSync, renameSync, statfsSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskState } from '../core/bus.js';
import { fallocate } from '../../drivers/fs/index.js';
import {
  BLOCK_HEADER_SIZE,
  FormatError,
  INDEX_RECORD_SIZE,
  LAYOUT_VERSION,
  STORE_HEADER_SIZE,
  decodeStoreHeader,
  encodeStoreHeader,
  looksLikeStoreHeader,
  validateGeometry,
  type StoreHeader,
} from './format.js';

export const HEADER_FILE = 'store.hdr';
export const CATALOG_FILE = 'catalog.jnl';
export const LOCKS_FILE = 'locks.json';

export interface FormatOptions {
  storeId: string;
  diskId?: string;
  /** Bytes per block file (default 64 MiB). */
  blockSize?: number;
  /** Number of blocks; default: as many as fit after the reserve. */
  blockCount?: number;
  /** Free space left to the file system (default 1% of the disk, at least 64 MiB, capped by what is free). */
  reserveBytes?: number;
  /** Index region bytes per block (default blockSize / 32, i.e. one record per KiB of block). */
  indexBytes?: number;
  /**
   * Also write zeros over every block. Slow (the whole disk is written once),
   * but recording then never converts ext4 "unwritten" extents, which costs a
   * journal commit per flush until the ring has wrapped once (~3 % more writes).
   */
  zeroFill?: boolean;
  now?: number;
}

export function newId(): string {
  return randomBytes(16).toString('hex');
}

export function blockPath(root: string, blockNo: number): string {
  return join(root, 'blocks', `${String(blockNo).padStart(6, '0')}.blk`);
}

/** Writes a file so that it either exists complete or not at all. */
export function writeAtomicSync(dir: string, name: string, data: Uint8Array): void {
  const tmp = join(dir, `.${name}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSyncDurable(dir, tmp, join(dir, name));
}

function renameSyncDurable(dir: string, from: string, to: string): void {
  // rename then fsync the directory, or the rename itself may not survive a power cut.
  renameSync(from, to);
  const dfd = openSync(dir, fsc.O_RDONLY);
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * "Formats" a directory: preallocates the block files, then writes the
 * header last, so a format interrupted halfway leaves an unformatted disk.
 * Blocking (fallocate is synchronous); run at install time, not while recording.
 */
export async function formatDisk(root: string, opts: FormatOptions): Promise<StoreHeader> {
  const blockSize = opts.blockSize ?? 64 * 1024 * 1024;
  const indexBytes = opts.indexBytes ?? Math.max(INDEX_RECORD_SIZE, Math.floor(blockSize / 32 / INDEX_RECORD_SIZE) * INDEX_RECORD_SIZE);
  validateGeometry(blockSize, indexBytes);
  await mkdir(join(root, 'blocks'), { recursive: true });
  if (existsSync(join(root, HEADER_FILE))) throw new Error(`${root} already holds a store header; remove it first to reformat`);
  const fsStat = statfsSync(root);
  const free = fsStat.bavail * fsStat.bsize;
  const reserveBytes = opts.reserveBytes ?? Math.min(Math.max(free * 0.01, 64 * 1024 * 1024), free / 10);
  const blockCount = opts.blockCount ?? Math.floor((free - reserveBytes) / blockSize);
  if (blockCount < 1) throw new Error(`${root}: ${free} bytes free leave room for no ${blockSize}-byte block after a ${reserveBytes}-byte reserve`);
  for (let i = 0; i < blockCount; i++) {
    const p = blockPath(root, i);
    const fd = openSync(p, 'w', 0o644);
    try {
      fallocate(fd, 0, blockSize, { path: p });
      if (opts.zeroFill) {
        const zeros = Buffer.alloc(Math.min(blockSize, 1 << 20));
        for (let at = 0; at < blockSize; at += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, blockSize - at), at);
        fsyncSync(fd);
      }
    } finally {
      closeSync(fd);
    }
  }
  const header: StoreHeader = {
    version: LAYOUT_VERSION,
    storeId: opts.storeId,
    diskId: opts.diskId ?? newId(),
    blockSize,
    blockCount,
    indexBytes,
    reserveBytes: Math.floor(reserveBytes),
    createdMs: opts.now ?? Date.now(),
  };
  writeAtomicSync(root, CATALOG_FILE, new Uint8Array(0));
  writeAtomicSync(root, HEADER_FILE, encodeStoreHeader(header));
  return header;
}

export interface Probe {
  state: DiskState;
  header?: StoreHeader;
  detail?: string;
}

/** Reads the header and decides the disk's state at start (no block is read). */
export async function probeDisk(root: string, storeId: string | undefined): Promise<Probe> {
  let st;
  try {
    st = await stat(root);
  } catch {
    return { state: 'missing', detail: `${root} does not exist` };
  }
  if (!st.isDirectory()) return { state: 'missing', detail: `${root} is not a directory` };
  let bytes: Buffer;
  try {
    bytes = await readFile(join(root, HEADER_FILE));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'unformatted', detail: 'no store header' };
    return { state: 'failed', detail: `reading the store header: ${(e as Error).message}` };
  }
  if (!looksLikeStoreHeader(bytes)) return { state: 'unformatted', detail: 'store header has no store magic' };
  let header: StoreHeader;
  try {
    header = decodeStoreHeader(bytes.subarray(0, STORE_HEADER_SIZE));
  } catch (e) {
    return { state: 'failed', detail: (e as FormatError).message };
  }
  if (storeId && header.storeId !== storeId) return { state: 'foreign', header, detail: `belongs to store ${header.storeId}` };
  // A block file shorter than the header says means a damaged or tampered disk.
  const last = blockPath(root, header.blockCount - 1);
  try {
    const s = await stat(last);
    if (s.size !== header.blockSize) return { state: 'failed', header, detail: `${last} is ${s.size} bytes, expected ${header.blockSize}` };
  } catch {
    return { state: 'failed', header, detail: `${last} is missing` };
  }
  try {
    fsModule.accessSync(root, fsc.W_OK);
    const probe = join(root, '.rw-probe');
    fsModule.writeFileSync(probe, '');
    fsModule.unlinkSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return { state: 'read-only', header, detail: code };
    return { state: 'failed', header, detail: (e as Error).message };
  }
  return { state: 'ok', header };
}

/** The state a disk should take after an I/O error. */
export function stateForError(e: unknown): DiskState {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'EROFS' ? 'read-only' : 'failed';
}

/**
 * Open block files of one disk. A small cache of handles: the writer keeps its
 * current blocks open and readers come and go.
 */
export class DiskIO {
  private readonly handles = new Map<number, { fh: Promise<FileHandle>; writable: boolean }>();
  readonly dataStart: number;
  readonly dataCapacity: number;

  constructor(readonly root: string, readonly header: StoreHeader, private readonly maxHandles = 64) {
    this.dataStart = BLOCK_HEADER_SIZE + header.indexBytes;
    this.dataCapacity = header.blockSize - this.dataStart;
  }

  get indexCapacity(): number {
    return this.header.indexBytes / INDEX_RECORD_SIZE;
  }

  private handle(blockNo: number, writable: boolean): Promise<FileHandle> {
    const h = this.handles.get(blockNo);
    if (h && (h.writable || !writable)) {
      // Refresh LRU position.
      this.handles.delete(blockNo);
      this.handles.set(blockNo, h);
      return h.fh;
    }
    if (h) void this.drop(blockNo);
    if (this.handles.size >= this.maxHandles) {
      const oldest = this.handles.keys().next().value as number;
      void this.drop(oldest);
    }
    // O_RDWR without O_CREAT/O_TRUNC: block files exist from format on and keep their size.
    const fh = open(blockPath(this.root, blockNo), writable ? 'r+' : 'r');
    fh.catch(() => this.handles.delete(blockNo));
    this.handles.set(blockNo, { fh, writable });
    return fh;
  }

  private async drop(blockNo: number): Promise<void> {
    const h = this.handles.get(blockNo);
    if (!h) return;
    this.handles.delete(blockNo);
    try {
      await (await h.fh).close();
    } catch {
      // Already failed to open or close: nothing to release.
    }
  }

  async read(blockNo: number, position: number, length: number): Promise<Buffer> {
    const fh = await this.handle(blockNo, false);
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, position + done);
      if (bytesRead === 0) throw Object.assign(new Error(`block ${blockNo}: short read at ${position + done} (file truncated?)`), { code: 'ETRUNC' });
      done += bytesRead;
    }
    return buf;
  }

  async writev(blockNo: number, buffers: Uint8Array[], position: number): Promise<void> {
    const fh = await this.handle(blockNo, true);
    let total = 0;
    for (const b of buffers) total += b.byteLength;
    let { bytesWritten } = await fh.writev(buffers, position);
    // Short writes are rare (signals, quotas) but legal: finish the rest.
    while (bytesWritten < total) {
      const rest = Buffer.concat(buffers).subarray(bytesWritten);
      const r = await fh.write(rest, 0, rest.length, position + bytesWritten);
      if (r.bytesWritten === 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
      bytesWritten += r.bytesWritten;
    }
  }

  async datasync(blockNo: number): Promise<void> {
    const fh = await this.handle(blockNo, true);
    await fh.datasync();
  }

  /** Drops a cached handle (after a block is freed, so a reader's handle does not linger). */
  async forget(blockNo: number): Promise<void> {
    await this.drop(blockNo);
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.keys()].map((b) => this.drop(b)));
  }
}
