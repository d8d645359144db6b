/**
 * Start-up repair of a block that was open when the recorder stopped
 * (invariants 3 and 4 in docs/storage.md): its frames are the valid prefix of
 * its index region, and the last flush group is checked against the data so
 * a frame whose bytes never reached the disk is cut off, never served.
 */
import { crc32 } from 'node:zlib';
import type { DiskIO } from './disk.js';
import { BLOCK_HEADER_SIZE, decodeBlockHeader, decodeIndexRegion, type BlockHeader, type IndexRecord } from './format.js';

export interface Recovered {
  header?: BlockHeader;
  records: IndexRecord[];
  /** Why frames were cut, if they were. */
  note?: string;
}

export async function recoverOpenBlock(io: DiskIO, blockNo: number, generation: number): Promise<Recovered> {
  let header: BlockHeader;
  try {
    header = decodeBlockHeader(await io.read(blockNo, 0, BLOCK_HEADER_SIZE));
  } catch (e) {
    return { records: [], note: `no valid block header (${(e as Error).message})` };
  }
  // The catalog record is durable before the header is written (invariant 2), so an
  // older generation here means the crash came before any frame of this one.
  if (header.generation !== generation) return { records: [], note: `header generation ${header.generation}, catalog ${generation}: nothing written yet` };
  const region = await io.read(blockNo, BLOCK_HEADER_SIZE, io.header.indexBytes);
  const records = decodeIndexRegion(region, generation, io.dataCapacity);
  if (records.length === 0) return { header, records };
  const lastSeq = records[records.length - 1]!.seq;
  let first = records.length - 1;
  while (first > 0 && records[first - 1]!.seq === lastSeq) first--;
  const a = records[first]!;
  const z = records[records.length - 1]!;
  const data = await io.read(blockNo, io.dataStart + a.offset, z.offset + z.size - a.offset);
  for (let i = first; i < records.length; i++) {
    const r = records[i]!;
    if (crc32(data.subarray(r.offset - a.offset, r.offset - a.offset + r.size)) !== r.dataCrc) {
      return { header, records: records.slice(0, i), note: `frame ${i} of the last flush does not match its checksum: cut ${records.length - i} frames` };
    }
  }
  return { header, records };
}
