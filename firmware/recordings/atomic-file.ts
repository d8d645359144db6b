/**
 * Writing an export so that the target path holds either nothing or the
 * complete file: the bytes go to a hidden temporary file in the same
 * directory (same file system, so the rename is atomic), which is fsynced,
 * renamed over the target and followed by an fsync of the directory.
 *
 * A failure removes the temporary file. A process killed mid-write cannot,
 * so its temporary file (named with its pid) is removed by the next export
 * into that directory once that pid is gone.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';

const SUFFIX = '.dvr-part';

export function tempPathFor(file: string, pid = process.pid): string {
  return join(dirname(file), `.${basename(file)}.${pid}.${randomBytes(4).toString('hex')}${SUFFIX}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporaries for `file` left by processes that no longer run. */
async function sweepStale(file: string): Promise<void> {
  const prefix = `.${basename(file)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(file));
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith(SUFFIX)) continue;
    const pid = Number(n.slice(prefix.length).split('.')[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) await unlink(join(dirname(file), n)).catch(() => {});
  }
}

/** Writes every byte to the file handle (short writes retried). */
export async function writeFully(fh: FileHandle, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length; ) {
    const { bytesWritten } = await fh.write(data, off, data.length - off);
    off += bytesWritten;
  }
}

/** A Writable over a file handle that leaves closing to its owner. */
export function fileWritable(fh: FileHandle): Writable {
  const w = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Uint8Array, _enc, cb) {
      writeFully(fh, chunk).then(() => cb(), cb);
    },
  });
  // A muxer that fails destroys its output with the error, which it also throws to its caller: no second report here.
  w.on('error', () => {});
  return w;
}

export class TargetExistsError extends Error {
  override readonly name = 'TargetExistsError';
}

/**
 * Runs `body` with a handle on a temporary file next to `file`, then makes it
 * `file` durably. Refuses to replace an existing file: the firmware writes as
 * root, and an export must not clobber what someone else put there.
 */
export async function writeAtomically<T>(file: string, body: (fh: FileHandle) => Promise<T>): Promise<T> {
  const exists = await access(file, constants.F_OK).then(() => true, () => false);
  if (exists) throw new TargetExistsError(`${file} already exists: remove it or choose another name`);
  await sweepStale(file);
  const tmp = tempPathFor(file);
  const fh = await open(tmp, 'wx', 0o644);
  let closed = false;
  try {
    const result = await body(fh);
    await fh.sync();
    await fh.close();
    closed = true;
    await publish(tmp, file);
    await syncDir(dirname(file));
    return result;
  } catch (e) {
    if (!closed) await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

/**
 * link + unlink rather than rename: rename would silently replace a file
 * created at the target meanwhile. File systems without hard links (FAT on a
 * USB stick) fall back to rename.
 */
async function publish(tmp: string, file: string): Promise<void> {
  try {
    await link(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new TargetExistsError(`${file} appeared while exporting: the export was not written over it`);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
    await rename(tmp, file);
    return;
  }
  await unlink(tmp);
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
