/**
 * The per-disk catalog journal (catalog.jnl): which block holds what.
 * Records are last-writer-wins per block, so replay is idempotent and
 * compaction is "write one record per block to a new file, rename".
 */
import { open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CATALOG_FILE, writeAtomicSync } from './disk.js';
import { decodeCatalogRecord, encodeCatalogRecord, type CatalogRecord } from './format.js';

export interface Replay {
  records: Map<number, CatalogRecord>;
  /** Count of records read, for the compaction decision. */
  count: number;
  /** Set when a bad or torn record ended the replay early. */
  damage?: string;
}

/** Parses a journal image: every good record up to the first bad one. */
export function replayCatalog(bytes: Uint8Array, blockCount: number): Replay & { goodBytes: number } {
  const records = new Map<number, CatalogRecord>();
  let at = 0;
  let count = 0;
  let damage: string | undefined;
  while (at < bytes.byteLength) {
    try {
      const { record, next } = decodeCatalogRecord(bytes, at);
      if (record.blockNo >= blockCount) throw new Error(`block ${record.blockNo} is beyond the ${blockCount} blocks of this disk`);
      records.set(record.blockNo, record);
      at = next;
      count++;
    } catch (e) {
      damage = `at byte ${at} of ${bytes.byteLength}: ${(e as Error).message}`;
      break;
    }
  }
  return { records, count, goodBytes: at, ...(damage ? { damage } : {}) };
}

export class CatalogJournal {
  private fh?: FileHandle;
  private size = 0;
  private count = 0;
  // Appends are serialised so records land in the order they were issued.
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly root: string, private readonly blockCount: number) {}

  /** Replays the journal and cuts off a damaged tail so new records follow good ones. */
  async load(): Promise<Replay> {
    const path = join(this.root, CATALOG_FILE);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      bytes = Buffer.alloc(0);
    }
    const r = replayCatalog(bytes, this.blockCount);
    if (r.goodBytes < bytes.length) await truncate(path, r.goodBytes);
    this.size = r.goodBytes;
    this.count = r.count;
    return { records: r.records, count: r.count, ...(r.damage ? { damage: r.damage } : {}) };
  }

  private async handle(): Promise<FileHandle> {
    this.fh ??= await open(join(this.root, CATALOG_FILE), 'r+');
    return this.fh;
  }

  /** Appends records; with `sync` they are durable when the promise resolves. */
  append(records: CatalogRecord[], sync: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      const fh = await this.handle();
      const buf = Buffer.concat(records.map(encodeCatalogRecord));
      let done = 0;
      while (done < buf.length) done += (await fh.write(buf, done, buf.length - done, this.size + done)).bytesWritten;
      this.size += buf.length;
      this.count += records.length;
      if (sync) await fh.datasync();
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => {});
    return p;
  }

  get records(): number {
    return this.count;
  }

  /** Replaces the journal by one record per block (atomically). */
  compact(all: CatalogRecord[]): Promise<void> {
    const run = async (): Promise<void> => {
      await this.fh?.close();
      this.fh = undefined;
      const buf = Buffer.concat(all.map(encodeCatalogRecord));
      writeAtomicSync(this.root, CATALOG_FILE, buf);
      this.size = buf.length;
      this.count = all.length;
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => {});
    return p;
  }

  /** Makes every appended record durable (seal records are appended without a sync) and closes. */
  async close(): Promise<void> {
    await this.chain;
    try {
      await this.fh?.datasync();
    } finally {
      await this.fh?.close();
      this.fh = undefined;
    }
  }
}
