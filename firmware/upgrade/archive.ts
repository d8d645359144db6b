/**
 * The file archive inside a firmware bundle's payload (before gzip): entries
 * of a relative path, a mode and bytes, then an end mark. Our own because
 * it is twenty lines each way, and a tar reader's corners (long names, links,
 * sparse files, PAX headers) are exactly what an upgrade must never meet.
 *
 *   entry := u16 BE path length (1..1024) | UTF-8 path | u32 BE st_mode | u64 BE size | size bytes
 *   end   := u16 0
 *
 * The mode is a full st_mode so that anything other than a regular file
 * (a symlink, a device, a directory) is seen and refused, not silently made.
 */
import { UpgradeError } from './errors.js';

export const MAX_PATH_BYTES = 1024;
const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;

export type ArchiveEvent =
  | { kind: 'file'; path: string; mode: number; size: number }
  | { kind: 'data'; bytes: Uint8Array }
  | { kind: 'file-end' }
  | { kind: 'end' };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why a path may not be unpacked, or null when it is a plain relative path. */
export function pathProblem(path: string): string | null {
  if (path.length === 0) return 'an empty path';
  if (path.startsWith('/')) return `an absolute path (${show(path)})`;
  if (/[\0\\]/.test(path)) return `a path with a NUL or backslash (${show(path)})`;
  for (const part of path.split('/')) {
    if (part === '..') return `a path leaving the slot (${show(path)})`;
    if (part === '' || part === '.') return `a path with an empty or "." part (${show(path)})`;
  }
  return null;
}

function show(path: string): string {
  return JSON.stringify(path.length > 80 ? `${path.slice(0, 80)}…` : path);
}

/** The header of one entry: what goes before its bytes. */
export function entryHeader(path: string, mode: number, size: number): Buffer {
  const name = Buffer.from(path, 'utf8');
  if (name.length < 1 || name.length > MAX_PATH_BYTES) throw new RangeError(`path of ${name.length} bytes`);
  const h = Buffer.alloc(2 + name.length + 12);
  h.writeUInt16BE(name.length, 0);
  name.copy(h, 2);
  h.writeUInt32BE(mode >>> 0, 2 + name.length);
  h.writeBigUInt64BE(BigInt(size), 6 + name.length);
  return h;
}

export const ARCHIVE_END = Buffer.from([0, 0]);

/**
 * Reads an archive pushed in chunks of any size, refusing every entry that
 * could land outside the slot or be other than a regular file. Memory is
 * the header being read plus nothing: file bytes come out as views of the
 * chunk they arrived in.
 */
export class ArchiveReader {
  private pending: Buffer = Buffer.alloc(0);
  private left = 0;
  private inFile = false;
  private done = false;
  private files = 0;
  private total = 0;

  constructor(private readonly limits: { maxFiles: number; maxBytes: number }) {}

  push(chunk: Uint8Array): ArchiveEvent[] {
    const out: ArchiveEvent[] = [];
    let buf: Buffer = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pending = Buffer.alloc(0);
    while (buf.length > 0) {
      if (this.done) throw new UpgradeError('the archive has bytes after its end');
      if (this.inFile) {
        const n = Math.min(this.left, buf.length);
        if (n > 0) out.push({ kind: 'data', bytes: buf.subarray(0, n) });
        buf = buf.subarray(n);
        this.left -= n;
        if (this.left === 0) this.closeFile(out);
        continue;
      }
      if (buf.length < 2) break;
      const len = buf.readUInt16BE(0);
      if (len === 0) {
        this.done = true;
        out.push({ kind: 'end' });
        buf = buf.subarray(2);
        continue;
      }
      if (len > MAX_PATH_BYTES) throw new UpgradeError(`an archive path of ${len} bytes (at most ${MAX_PATH_BYTES})`);
      if (buf.length < 2 + len + 12) break;
      out.push(this.openFile(buf.subarray(2, 2 + len), buf.readUInt32BE(2 + len), buf.readBigUInt64BE(6 + len)));
      buf = buf.subarray(14 + len);
      if (this.left === 0) this.closeFile(out);
    }
    // Only a partial header is ever kept: under 1 KiB.
    this.pending = Buffer.from(buf);
    return out;
  }

  /** Throws unless the archive ended exactly with its end mark. */
  end(): void {
    if (!this.done) throw new UpgradeError('the archive is truncated');
  }

  private openFile(name: Buffer, mode: number, size64: bigint): ArchiveEvent {
    let path: string;
    try {
      path = utf8.decode(name);
    } catch {
      throw new UpgradeError('an archive path that is not UTF-8');
    }
    const problem = pathProblem(path);
    if (problem) throw new UpgradeError(`the archive holds ${problem}`);
    if ((mode & S_IFMT) !== S_IFREG) throw new UpgradeError(`the archive holds ${show(path)}, which is not a regular file (a symlink, device or directory)`);
    if (++this.files > this.limits.maxFiles) throw new UpgradeError(`the archive holds more than ${this.limits.maxFiles} files`);
    if (size64 > BigInt(this.limits.maxBytes - this.total)) throw new UpgradeError(`the archive unpacks to more than ${this.limits.maxBytes} bytes`);
    const size = Number(size64);
    this.total += size;
    this.left = size;
    this.inFile = true;
    return { kind: 'file', path, mode: mode & 0o7777, size };
  }

  private closeFile(out: ArchiveEvent[]): void {
    this.inFile = false;
    out.push({ kind: 'file-end' });
  }
}
