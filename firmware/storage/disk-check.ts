/**
 * `dvr disk check`: a read-only audit of one disk of the store. Checks the
 * store header, the catalog journal, every block file's size, and for each
 * block the catalog says holds recordings: its block header and every index
 * record's checksum, and that the catalog agrees with the index (frames,
 * bytes, first and last time). Nothing is repaired or written: the store's
 * start-up repairs what a crash leaves (docs/storage.md); this reports what
 * no crash explains.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { replayCatalog } from './catalog.js';
import { blockPath, CATALOG_FILE, HEADER_FILE } from './disk.js';
import {
  BLOCK_HEADER_SIZE,
  decodeBlockHeader,
  decodeIndexRecord,
  decodeStoreHeader,
  INDEX_RECORD_SIZE,
  STORE_HEADER_SIZE,
  type StoreHeader,
} from './format.js';

export interface CheckReport {
  path: string;
  ok: boolean;
  header?: StoreHeader;
  blocks: number;
  sealed: number;
  open: number;
  free: number;
  indexRecords: number;
  /** One line per problem found, at most `maxProblems`. */
  problems: string[];
  /** Problems beyond those listed. */
  moreProblems: number;
}

export async function checkDisk(root: string, opts: { storeId?: string; maxProblems?: number } = {}): Promise<CheckReport> {
  const max = opts.maxProblems ?? 100;
  const r: CheckReport = { path: root, ok: false, blocks: 0, sealed: 0, open: 0, free: 0, indexRecords: 0, problems: [], moreProblems: 0 };
  const problem = (p: string) => (r.problems.length < max ? r.problems.push(p) : r.moreProblems++);
  let h: StoreHeader;
  try {
    h = decodeStoreHeader((await readFile(join(root, HEADER_FILE))).subarray(0, STORE_HEADER_SIZE));
  } catch (e) {
    problem(`store header: ${(e as Error).message}`);
    return r;
  }
  r.header = h;
  r.blocks = h.blockCount;
  if (opts.storeId && h.storeId !== opts.storeId) problem(`store header: belongs to store ${h.storeId}, not ${opts.storeId}`);
  let catalog;
  try {
    catalog = replayCatalog(await readFile(join(root, CATALOG_FILE)), h.blockCount);
  } catch (e) {
    problem(`catalog: ${(e as Error).message}`);
    return finish(r);
  }
  if (catalog.damage) problem(`catalog: damaged ${catalog.damage}`);
  const dataCapacity = h.blockSize - BLOCK_HEADER_SIZE - h.indexBytes;
  for (let n = 0; n < h.blockCount; n++) {
    const file = blockPath(root, n);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      problem(`block ${n}: file missing`);
      continue;
    }
    if (size !== h.blockSize) problem(`block ${n}: file is ${size} bytes, expected ${h.blockSize} (truncated)`);
    const c = catalog.records.get(n);
    if (!c || c.state === 'free') {
      r.free++;
      continue;
    }
    if (c.state === 'open') r.open++;
    else r.sealed++;
    const fh = await open(file, 'r');
    try {
      // Open blocks are being written: their catalog record says 0 frames, so only the header is held to it.
      const want = c.state === 'sealed' ? Math.min(c.frames, h.indexBytes / INDEX_RECORD_SIZE) : 0;
      const buf = Buffer.alloc(BLOCK_HEADER_SIZE + want * INDEX_RECORD_SIZE);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      let bh;
      try {
        bh = decodeBlockHeader(buf.subarray(0, Math.min(bytesRead, BLOCK_HEADER_SIZE)));
      } catch (e) {
        problem(`block ${n}: block header: ${(e as Error).message}`);
        continue;
      }
      if (bh.blockNo !== n) problem(`block ${n}: header says block ${bh.blockNo}`);
      if (bh.storeId !== h.storeId || bh.diskId !== h.diskId) problem(`block ${n}: header belongs to another store or disk`);
      if (bh.generation !== c.generation) {
        // An open block whose header is older: the crash came before its first frame (recovery drops it).
        if (c.state === 'sealed') problem(`block ${n}: header generation ${bh.generation}, catalog ${c.generation}`);
        continue;
      }
      if (bh.channel !== c.channel || bh.stream !== c.stream) problem(`block ${n}: header says ${bh.channel}/${bh.stream}, catalog ${c.channel}/${c.stream}`);
      if (c.state !== 'sealed') continue;
      if (c.frames > h.indexBytes / INDEX_RECORD_SIZE) problem(`block ${n}: catalog says ${c.frames} frames, the index holds at most ${h.indexBytes / INDEX_RECORD_SIZE}`);
      let next = 0;
      let first: number | undefined;
      let last: number | undefined;
      let bad = 0;
      for (let i = 0; i < want; i++) {
        const at = BLOCK_HEADER_SIZE + i * INDEX_RECORD_SIZE;
        if (at + INDEX_RECORD_SIZE > bytesRead) {
          problem(`block ${n}: index record ${i}: beyond the end of the file`);
          bad++;
          break;
        }
        r.indexRecords++;
        let rec;
        try {
          rec = decodeIndexRecord(buf, at);
        } catch (e) {
          problem(`block ${n}: index record ${i}: ${(e as Error).message}`);
          bad++;
          continue;
        }
        if (rec.gen !== c.generation >>> 0) problem(`block ${n}: index record ${i}: generation ${rec.gen}, block ${c.generation}`);
        if (rec.offset !== next && bad === 0) problem(`block ${n}: index record ${i}: offset ${rec.offset}, expected ${next}`);
        if (rec.offset + rec.size > dataCapacity) problem(`block ${n}: index record ${i}: frame ends past the data region`);
        else if (BLOCK_HEADER_SIZE + h.indexBytes + rec.offset + rec.size > size) problem(`block ${n}: index record ${i}: frame lies beyond the end of the (truncated) file`);
        next = rec.offset + rec.size;
        first ??= rec.time;
        last = rec.time;
      }
      if (bad === 0 && want > 0) {
        if (next !== c.bytes) problem(`block ${n}: catalog says ${c.bytes} bytes, index ${next}`);
        if (first !== c.start || last !== c.end) problem(`block ${n}: catalog says ${c.start}..${c.end}, index ${first}..${last}`);
      }
    } finally {
      await fh.close();
    }
  }
  return finish(r);
}

function finish(r: CheckReport): CheckReport {
  r.ok = r.problems.length === 0 && r.moreProblems === 0;
  return r;
}
