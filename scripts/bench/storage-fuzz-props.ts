/**
 * fast-check properties of every parser of on-disk store records, shared by
 * the unit test (a few thousand cases) and storage-fuzz.ts (≥ 100k).
 * For each parser: arbitrary bytes give a value or a FormatError, nothing
 * else; valid records round-trip; any single bit flip is rejected.
 */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { replayCatalog } from '../../firmware/storage/catalog.js';
import {
  FormatError,
  decodeBlockHeader,
  decodeCatalogRecord,
  decodeIndexRecord,
  decodeIndexRegion,
  decodeLocks,
  decodeStoreHeader,
  encodeBlockHeader,
  encodeCatalogRecord,
  encodeIndexRecord,
  encodeLocks,
  encodeStoreHeader,
  type BlockHeader,
  type CatalogRecord,
  type IndexRecord,
  type LocksFile,
  type StoreHeader,
} from '../../firmware/storage/format.js';

const hex32 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex'));
const time = fc.integer({ min: 0, max: 2 ** 52 });
const channel = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => Buffer.byteLength(s) <= 63);
const stream = fc.constantFrom('main' as const, 'sub' as const, 'audio' as const);

const storeHeader: fc.Arbitrary<StoreHeader> = fc.record({
  version: fc.constant(1),
  storeId: hex32,
  diskId: hex32,
  blockSize: fc.integer({ min: 1 << 20, max: 2 ** 32 }),
  blockCount: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
  indexBytes: fc.integer({ min: 1, max: 1024 }).map((n) => n * 32),
  reserveBytes: fc.integer({ min: 0, max: 2 ** 50 }),
  createdMs: fc.integer({ min: 0, max: 2 ** 50 }),
});

const blockHeader: fc.Arbitrary<BlockHeader> = fc.record({
  blockNo: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  storeId: hex32,
  diskId: hex32,
  generation: fc.integer({ min: 0, max: 2 ** 50 }),
  channel,
  stream,
  info: fc.record({
    codec: fc.constantFrom('h264' as const, 'h265' as const, 'aac' as const, 'pcma' as const, 'pcmu' as const),
    config: fc.uint8Array({ maxLength: 300 }),
    width: fc.integer({ min: 1, max: 65535 }),
    height: fc.integer({ min: 1, max: 65535 }),
  }),
  openedMs: fc.integer({ min: 0, max: 2 ** 50 }),
});

const indexRecord: fc.Arbitrary<IndexRecord> = fc.record({
  time,
  offset: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  size: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
  gen: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  seq: fc.integer({ min: 0, max: 0xffff }),
  keyframe: fc.boolean(),
  dataCrc: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
});

const catalogRecord: fc.Arbitrary<CatalogRecord> = fc
  .record({
    blockNo: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    generation: fc.integer({ min: 0, max: 2 ** 50 }),
    state: fc.constantFrom('free' as const, 'open' as const, 'sealed' as const),
    channel: fc.string({ maxLength: 20 }).filter((s) => Buffer.byteLength(s) <= 63),
    stream,
    start: time,
    len: fc.integer({ min: 0, max: 2 ** 40 }),
    frames: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    bytes: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    flags: fc.integer({ min: 0, max: 255 }),
  })
  .map(({ len, ...r }) => ({ blockNo: r.blockNo, generation: r.generation, state: r.state, channel: r.channel, stream: r.stream, start: r.start, end: r.start + len, frames: r.frames, bytes: r.bytes, flags: r.flags }));

const locksFile: fc.Arbitrary<LocksFile> = fc.record({
  seq: fc.integer({ min: 0, max: 2 ** 40 }),
  locks: fc.array(
    fc.record({ id: fc.uuid(), channel, start: time, end: time, reason: fc.string({ maxLength: 30 }) }).map((l) => ({ ...l, end: Math.max(l.start, l.end) })),
    { maxLength: 5 },
  ),
});

/** Runs a parser: a value, or FormatError; anything else breaks the property. */
function total(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch (e) {
    if (e instanceof FormatError) return true;
    throw e;
  }
}

function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const c = Uint8Array.from(b);
  c[(bit >>> 3) % c.length]! ^= 1 << (bit & 7);
  return c;
}

function rejects(parse: () => unknown): boolean {
  try {
    parse();
    return false;
  } catch (e) {
    if (e instanceof FormatError) return true;
    throw e;
  }
}

const anyBytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
const bit = fc.nat();

export const properties: Record<string, fc.IProperty<any>> = {
  'store header: arbitrary bytes': fc.property(anyBytes(200), (b) => total(() => decodeStoreHeader(b))),
  'store header: round trip': fc.property(storeHeader, (h) => JSON.stringify(decodeStoreHeader(encodeStoreHeader(h))) === JSON.stringify(h)),
  'store header: a flipped bit is rejected': fc.property(storeHeader, bit, (h, n) => rejects(() => decodeStoreHeader(flipBit(encodeStoreHeader(h), n % (128 * 8))))),
  'block header: arbitrary bytes': fc.property(anyBytes(5000), (b) => total(() => decodeBlockHeader(b))),
  'block header: round trip': fc.property(blockHeader, (h) => {
    const d = decodeBlockHeader(encodeBlockHeader(h));
    return JSON.stringify({ ...d, info: { ...d.info, config: [...d.info.config] } }) === JSON.stringify({ ...h, info: { ...h.info, config: [...h.info.config] } });
  }),
  'block header: a flipped bit is rejected': fc.property(blockHeader, bit, (h, n) => rejects(() => decodeBlockHeader(flipBit(encodeBlockHeader(h), n % (4096 * 8))))),
  'index record: arbitrary bytes': fc.property(anyBytes(40), fc.nat(40), (b, at) => total(() => decodeIndexRecord(b, at))),
  'index record: round trip': fc.property(indexRecord, (r) => JSON.stringify(decodeIndexRecord(encodeIndexRecord(r))) === JSON.stringify(r)),
  'index record: a flipped bit is rejected': fc.property(indexRecord, bit, (r, n) => rejects(() => decodeIndexRecord(flipBit(encodeIndexRecord(r), n % 256)))),
  'index region: arbitrary bytes never throw, result is a valid chain': fc.property(anyBytes(400), fc.nat(), fc.nat(), (b, gen, cap) => {
    const recs = decodeIndexRegion(b, gen, cap);
    let next = 0;
    return recs.every((r) => {
      const ok = r.offset === next && r.offset + r.size <= cap;
      next = r.offset + r.size;
      return ok;
    });
  }),
  'catalog record: arbitrary bytes': fc.property(anyBytes(120), (b) => total(() => decodeCatalogRecord(b))),
  'catalog record: round trip': fc.property(catalogRecord, (r) => JSON.stringify(decodeCatalogRecord(encodeCatalogRecord(r)).record) === JSON.stringify(r)),
  'catalog record: a flipped bit is rejected': fc.property(catalogRecord, bit, (r, n) => {
    const b = encodeCatalogRecord(r);
    return rejects(() => decodeCatalogRecord(flipBit(b, n % (b.length * 8))));
  }),
  'catalog journal: any tail damage keeps the good prefix': fc.property(fc.array(catalogRecord, { maxLength: 8 }), anyBytes(60), (rs, junk) => {
    const good = Buffer.concat(rs.map(encodeCatalogRecord));
    const r = replayCatalog(Buffer.concat([good, junk]), 2 ** 32);
    return r.goodBytes >= good.length && r.count >= rs.length;
  }),
  'locks file: arbitrary bytes': fc.property(anyBytes(300), (b) => total(() => decodeLocks(b))),
  'locks file: arbitrary JSON': fc.property(fc.json(), (j) => total(() => decodeLocks(encodeLocksRaw(j)))),
  'locks file: round trip': fc.property(locksFile, (f) => JSON.stringify(decodeLocks(encodeLocks(f))) === JSON.stringify(f)),
};

/** A locks file with a valid checksum around arbitrary JSON text, to reach the shape checks. */
function encodeLocksRaw(json: string): Uint8Array {
  return Buffer.from(`${json}\n${crc32(Buffer.from(json)).toString(16)}\n`);
}

export function runAll(numRuns: number, seed?: number, onEach?: (r: { name: string; runs: number; ms: number }) => void): { name: string; runs: number; ms: number }[] {
  const out: { name: string; runs: number; ms: number }[] = [];
  for (const [name, p] of Object.entries(properties)) {
    const t0 = performance.now();
    fc.assert(p, { numRuns, ...(seed !== undefined ? { seed } : {}) });
    out.push({ name, runs: numRuns, ms: performance.now() - t0 });
    onEach?.(out[out.length - 1]!);
  }
  return out;
}
