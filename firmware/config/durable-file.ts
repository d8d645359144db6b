import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';

/**
 * A lowdb adapter that survives power cuts.
 *
 * lowdb's own file adapter writes a temp file and renames it but never
 * fsyncs, so after a power cut the rename may be on disk while the data is
 * not (an empty or truncated config). Here: write temp, fsync it, rename over
 * the target, fsync the directory so the rename itself is durable. At every
 * instant the target holds either the old or the new content in full.
 */
export class DurableJsonFile<T> implements Adapter<T> {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly mode = 0o600,
  ) {}

  /** null when the file does not exist; throws JsonFileError when it exists but is not JSON. */
  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      const why = text.length === 0 ? 'the file is empty' : (e as Error).message;
      throw new JsonFileError(this.file, why);
    }
  }

  write(data: T): Promise<void> {
    const text = JSON.stringify(data, null, 2) + '\n';
    // Writes are serialised: two renames racing could leave the older content last.
    const next = this.queue.then(() => writeDurably(this.file, text, this.mode));
    this.queue = next.catch(() => {});
    return next;
  }
}

export class JsonFileError extends Error {
  override name = 'JsonFileError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file} is not valid JSON: ${reason}`);
  }
}

/**
 * `mode` is filtered by the process umask (dvr.service sets 0077) unless
 * `exactMode`: then the file gets exactly `mode` before it is renamed into
 * place, for files another user must read (systemd-networkd's .network files).
 */
export async function writeDurably(file: string, text: string | Uint8Array, mode = 0o600, opts: { exactMode?: boolean } = {}): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    if (opts.exactMode) await fh.chmod(mode);
    await fh.writeFile(text);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, file);
  await fsyncDir(dir);
}

export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
