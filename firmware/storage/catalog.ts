/**
 * The per-disk catalog journal (catalog.jnl): which block holds what.
 * Records are last-writer-wins per block, so replay is idempotent and
 * compaction is "write one record per block to a new file, rename".
 */
import { open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CATALOG_FILE, writeAtomicSync } from './disk.js';
import { crc32Range } from './crc.js';
import { MAX_CHANNEL_BYTES, decodeCatalogRecord, encodeCatalogRecord, type CatalogRecord } from './format.js';
import type { BlockTable } from './time-index.js';

export interface Replay {
  records: Map<number, CatalogRecord>;
  /** Count of records read, for the compaction decision. */
  count: number;
  /** Set when a bad or torn record ended the replay early. */
  damage?: string;
}

/**
 * Parses a journal image into records: every good record up to the first bad
 * one. The reference decoder (tools, fuzz properties); start-up replays with
 * `replayCatalogInto`, which must agree with it.
 */
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

/** Fixed part of a catalog record body (state..channel length), as in format.ts. */
const BODY_FIXED = 1 + 4 + 8 + 1 + 8 + 8 + 4 + 4 + 1 + 1 + 1;

/**
 * Replays a journal image straight into a disk's BlockTable: the same records
 * and the same checks as `decodeCatalogRecord` (the fuzz properties hold the
 * two to agreement), but decoded in place with no object or string per
 * record: a channel name becomes a string once, when first seen. This is
 * most of the start-up time of a big disk.
 */
export function replayCatalogInto(bytes: Uint8Array, table: BlockTable): { count: number; goodBytes: number; damage?: string } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Channel names seen so far, by a hash of their bytes (then compared byte for byte).
  const seen = new Map<number, { at: number; len: number; id: number }[]>();
  let at = 0;
  let count = 0;
  const fail = (why: string): { count: number; goodBytes: number; damage: string } =>
    ({ count, goodBytes: at, damage: `at byte ${at} of ${bytes.byteLength}: ${why}` });
  while (at < bytes.byteLength) {
    if (bytes.byteLength < at + 2) return fail('catalog record: truncated length');
    const bodyLen = v.getUint16(at, true);
    if (bodyLen < BODY_FIXED || bodyLen > BODY_FIXED + MAX_CHANNEL_BYTES) return fail(`catalog record: bad length ${bodyLen}`);
    const end = at + 2 + bodyLen;
    if (bytes.byteLength < end + 4) return fail('catalog record: truncated');
    if (crc32Range(bytes, at, end) !== v.getUint32(end, true)) return fail('catalog record: checksum mismatch');
    let o = at + 2;
    const state = bytes[o++]!;
    if (state > 2) return fail('catalog record: unknown state');
    const blockNo = v.getUint32(o, true); o += 4;
    const genLo = v.getUint32(o, true);
    const genHi = v.getUint32(o + 4, true); o += 8;
    if (genHi > 0x1fffff) return fail('catalog record: generation out of range');
    const stream = bytes[o++]!;
    if (stream > 2) return fail(`catalog record: unknown stream code ${stream}`);
    const sLo = v.getUint32(o, true);
    const sHi = v.getInt32(o + 4, true); o += 8;
    if (sHi > 0x1fffff || sHi < -0x200000) return fail('catalog record: start out of range');
    const eLo = v.getUint32(o, true);
    const eHi = v.getInt32(o + 4, true); o += 8;
    if (eHi > 0x1fffff || eHi < -0x200000) return fail('catalog record: end out of range');
    const frames = v.getUint32(o, true); o += 4;
    const nbytes = v.getUint32(o, true); o += 4;
    const flags = bytes[o++]!;
    o++;
    const chLen = bytes[o++]!;
    if (o + chLen !== end) return fail('catalog record: channel length disagrees with record length');
    const start = sHi * 4294967296 + sLo;
    const endT = eHi * 4294967296 + eLo;
    if (endT < start) return fail('catalog record: end before start');
    if (blockNo >= table.count) return fail(`block ${blockNo} is beyond the ${table.count} blocks of this disk`);
    let h = 0x811c9dc5;
    for (let i = o; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    let bucket = seen.get(h);
    let id = -1;
    for (const c of bucket ?? []) {
      if (c.len !== chLen) continue;
      let same = true;
      for (let i = 0; i < chLen && same; i++) same = bytes[c.at + i] === bytes[o + i];
      if (same) {
        id = c.id;
        break;
      }
    }
    if (id < 0) {
      id = table.nameId(Buffer.from(bytes.buffer, bytes.byteOffset + o, chLen).toString('utf8'));
      if (!bucket) seen.set(h, (bucket = []));
      bucket.push({ at: o, len: chLen, id });
    }
    table.state[blockNo] = state;
    table.generation[blockNo] = genHi * 4294967296 + genLo;
    table.stream[blockNo] = stream;
    table.start[blockNo] = start;
    table.end[blockNo] = endT;
    table.frames[blockNo] = frames;
    table.bytes[blockNo] = nbytes;
    table.flags[blockNo] = flags;
    table.channel[blockNo] = id;
    at = end + 4;
    count++;
  }
  return { count, goodBytes: at };
}

export class CatalogJournal {
  private fh?: FileHandle;
  private size = 0;
  private count = 0;
  // Appends are serialised so records land in the order they were issued.
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly root: string, readonly blockCount: number) {}

  private async readAll(): Promise<Buffer> {
    try {
      return await readFile(join(this.root, CATALOG_FILE));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      return Buffer.alloc(0);
    }
  }

  /** Cuts off a damaged tail so new records follow good ones. */
  private async keep(goodBytes: number, total: number, count: number): Promise<void> {
    if (goodBytes < total) await truncate(join(this.root, CATALOG_FILE), goodBytes);
    this.size = goodBytes;
    this.count = count;
  }

  /** Replays the journal into a block table (one read, decoded in place); `truncate: false` for a read-only disk. */
  async loadInto(table: BlockTable, truncateDamage = true): Promise<{ count: number; damage?: string }> {
    const bytes = await this.readAll();
    const r = replayCatalogInto(bytes, table);
    if (truncateDamage) await this.keep(r.goodBytes, bytes.length, r.count);
    return { count: r.count, ...(r.damage ? { damage: r.damage } : {}) };
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
