/**
 * The lean index (docs/storage.md, "Index in memory"): the column decoders
 * must accept and reject exactly what the record-by-record parsers do, since
 * they replace them on the start-up and seek paths. fast-check, a few thousand
 * cases each, against the record parsers and zlib as references.
 */
import t from 'tap';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { crc32Range } from '../../../firmware/storage/crc.js';
import { replayCatalog, replayCatalogInto } from '../../../firmware/storage/catalog.js';
import {
  FrameIndex,
  INDEX_RECORD_SIZE,
  decodeFrameIndex,
  decodeIndexRecord,
  encodeCatalogRecord,
  encodeIndexRecord,
  type CatalogRecord,
  type IndexRecord,
} from '../../../firmware/storage/format.js';
import { BlockEntry, BlockTable, TimeIndex, naturalMergeSort, type DiskEntry } from '../../../firmware/storage/time-index.js';

const RUNS = Number(process.env.STORAGE_FUZZ_RUNS ?? 3000);

function flip(b: Uint8Array, bit: number): Uint8Array {
  const c = Uint8Array.from(b);
  if (c.length) c[(bit >>> 3) % c.length]! ^= 1 << (bit & 7);
  return c;
}

/** The definition of a valid index prefix (invariant 3), one record object at a time: the reference. */
function referencePrefix(b: Uint8Array, generation: number, cap: number): IndexRecord[] {
  const out: IndexRecord[] = [];
  let next = 0;
  let last = -Infinity;
  for (let at = 0; at + INDEX_RECORD_SIZE <= b.byteLength; at += INDEX_RECORD_SIZE) {
    let r: IndexRecord;
    try {
      r = decodeIndexRecord(b, at);
    } catch {
      break;
    }
    if (r.gen !== generation >>> 0 || r.offset !== next || r.time < last || r.size === 0 || r.offset + r.size > cap) break;
    out.push(r);
    next = r.offset + r.size;
    last = r.time;
  }
  return out;
}

/** A well-formed index region of `n` frames, so the properties reach deep into the chain checks. */
const region = fc.record({
  gen: fc.nat(),
  t0: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
  sizes: fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 0, maxLength: 40 }),
  steps: fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 40, maxLength: 40 }),
  keys: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
}).map(({ gen, t0, sizes, steps, keys }) => {
  const b = Buffer.alloc(sizes.length * INDEX_RECORD_SIZE);
  let off = 0;
  let time = t0;
  sizes.forEach((size, i) => {
    time += steps[i]!;
    encodeIndexRecord({ time, offset: off, size, gen, seq: i >> 2, keyframe: keys[i]!, dataCrc: (i * 2654435761) >>> 0 }, b, i * INDEX_RECORD_SIZE);
    off += size;
  });
  return { b, gen, total: off };
});

const sameFrames = (f: FrameIndex, recs: IndexRecord[]): boolean => JSON.stringify(f.toRecords()) === JSON.stringify(recs);

t.test('crc32Range equals zlib crc32 on any bytes and range', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (b, x, y) => {
    const a = b.length ? x % (b.length + 1) : 0;
    const e = a + (b.length - a ? y % (b.length - a + 1) : 0);
    return crc32Range(b, a, e) === crc32(b.subarray(a, e));
  }), { numRuns: RUNS });
  t.equal(crc32Range(Buffer.from('123456789'), 0, 9), 0xcbf43926, 'the standard check value');
});

t.test('decodeFrameIndex keeps exactly the valid prefix the record parser keeps', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(), fc.nat(), (b, gen, cap) => sameFrames(decodeFrameIndex(b, gen, cap), referencePrefix(b, gen, cap))), { numRuns: RUNS });
  fc.assert(fc.property(region, fc.nat(), fc.nat(), ({ b, gen, total }, bit, capCut) => {
    const cap = capCut % 3 === 0 ? total - (capCut % 7) : total;
    const damaged = bit % 4 === 0 ? b : flip(b, bit);
    return sameFrames(decodeFrameIndex(damaged, gen, cap), referencePrefix(damaged, gen, cap));
  }), { numRuns: RUNS });
  fc.assert(fc.property(region, ({ b, gen, total }) => decodeFrameIndex(b, gen, total).length === b.length / INDEX_RECORD_SIZE), { numRuns: RUNS });
  t.pass(`${RUNS} cases each: arbitrary bytes, damaged well-formed regions, intact regions`);
});

t.test('FrameIndex: columns, binary search, trimming', async (t) => {
  const recs: IndexRecord[] = [10, 20, 20, 30].map((time, i) => ({ time, offset: i * 5, size: 5, gen: 9, seq: 1, keyframe: i === 0 || i === 3, dataCrc: i }));
  const f = FrameIndex.fromRecords(recs);
  t.same(f.toRecords(), recs, 'rows read back as records');
  t.equal(f.upperBound(5), 0);
  t.equal(f.upperBound(20), 3, 'after the last of equal times');
  t.equal(f.upperBound(99), 4);
  t.equal(f.trimmed(), f, 'a full index is not copied');
  const big = new FrameIndex(9, 100);
  for (const r of recs) big.push(r.time, r.offset, r.size, r.seq, r.keyframe, r.dataCrc);
  const small = big.trimmed();
  t.equal(small.capacity, 4, 'spare room given back');
  t.same(small.toRecords(), recs);
  t.equal(FrameIndex.fromRecords([]).length, 0, 'an empty block');
  // A region with a damaged record in the middle: the decoder returns a trimmed prefix.
  const b = Buffer.alloc(10 * INDEX_RECORD_SIZE);
  for (let i = 0; i < 10; i++) encodeIndexRecord({ time: i, offset: i, size: 1, gen: 3, seq: 0, keyframe: false, dataCrc: 0 }, b, i * INDEX_RECORD_SIZE);
  b[2 * INDEX_RECORD_SIZE + 3]! ^= 1;
  const d = decodeFrameIndex(b, 3, 100);
  t.equal(d.length, 2, 'stops at the damaged record');
  t.equal(d.capacity, 2, 'and keeps no room for the 8 rows it did not take');
});

const catalogRecord: fc.Arbitrary<CatalogRecord> = fc.record({
  blockNo: fc.nat(70),
  generation: fc.integer({ min: 0, max: 2 ** 53 - 1 }),
  state: fc.constantFrom('free' as const, 'open' as const, 'sealed' as const),
  channel: fc.constantFrom('', 'cam1', 'cam2', 'hall way', 'caméra', 'x'.repeat(63)),
  stream: fc.constantFrom('main' as const, 'sub' as const, 'audio' as const),
  start: fc.integer({ min: -(2 ** 52), max: 2 ** 52 }),
  len: fc.nat(2 ** 40),
  frames: fc.nat(2 ** 32 - 1),
  bytes: fc.nat(2 ** 32 - 1),
  flags: fc.nat(255),
}).map(({ len, ...r }) => ({ ...r, end: Math.min(r.start + len, 2 ** 53 - 1) }));

/** The table's row of a block as a catalog record, to compare with the record parser's last record. */
function rowOf(tb: BlockTable, n: number): CatalogRecord {
  return {
    blockNo: n, generation: tb.generation[n]!, state: (['free', 'open', 'sealed'] as const)[tb.state[n]!]!, channel: tb.names[tb.channel[n]!]!,
    stream: (['main', 'sub', 'audio'] as const)[tb.stream[n]!]!, start: tb.start[n]!, end: tb.end[n]!, frames: tb.frames[n]!, bytes: tb.bytes[n]!, flags: tb.flags[n]!,
  };
}

t.test('replayCatalogInto agrees with replayCatalog on any journal, damaged or not', async (t) => {
  const COUNT = 64; // records for blocks 64..70 are beyond the disk and end the replay, as they must
  fc.assert(fc.property(fc.array(catalogRecord, { maxLength: 30 }), fc.uint8Array({ maxLength: 60 }), fc.nat(), fc.nat(3), (rs, junk, bit, mode) => {
    let bytes: Uint8Array = Buffer.concat([...rs.map(encodeCatalogRecord), ...(mode === 1 ? [junk] : [])]);
    if (mode === 2) bytes = flip(bytes, bit);
    if (mode === 3) bytes = bytes.subarray(0, bit % (bytes.length + 1));
    const ref = replayCatalog(bytes, COUNT);
    const tb = new BlockTable(COUNT);
    const got = replayCatalogInto(bytes, tb);
    if (got.count !== ref.count || got.goodBytes !== ref.goodBytes || (got.damage === undefined) !== (ref.damage === undefined)) return false;
    for (let n = 0; n < COUNT; n++) {
      const r = ref.records.get(n);
      const row = rowOf(tb, n);
      if (r ? JSON.stringify(row) !== JSON.stringify(r) : tb.state[n] !== 0 || tb.generation[n] !== 0) return false;
    }
    return true;
  }), { numRuns: RUNS });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
    const ref = replayCatalog(b, COUNT);
    const got = replayCatalogInto(b, new BlockTable(COUNT));
    return got.count === ref.count && got.goodBytes === ref.goodBytes;
  }), { numRuns: RUNS });
  t.pass(`${RUNS} journals of records, junk, bit flips and cuts; ${RUNS} of arbitrary bytes`);
});

t.test('replayCatalogInto: each channel name is one string, damage is named', async (t) => {
  const tb = new BlockTable(8);
  const recs = [0, 1, 2, 3].map((n): CatalogRecord => ({ blockNo: n, generation: 1, state: 'sealed', channel: n % 2 ? 'cam1' : 'cam2', stream: 'sub', start: n, end: n + 1, frames: 1, bytes: 1, flags: 1 }));
  const bytes = Buffer.concat([...recs.map(encodeCatalogRecord), Buffer.from([7, 0, 1])]);
  const r = replayCatalogInto(bytes, tb);
  t.equal(r.count, 4);
  t.match(r.damage, /bad length 7/, 'the damaged tail is described');
  t.same(tb.names, ['', 'cam2', 'cam1'], 'two names for four records');
  t.equal(tb.stream[3], 1, 'stream code stored');
});

t.test('BlockEntry is a view of its table row', async (t) => {
  const tb = new BlockTable(4);
  const disk = { name: 'd', blocks: [] } as unknown as DiskEntry;
  const b = new BlockEntry(disk, tb, 2);
  t.equal(b.state, 'free', 'a never-used block is free');
  t.equal(b.channel, '');
  t.equal(b.stream, 'main');
  Object.assign(b, { state: 'open', channel: 'cam7', stream: 'audio', start: 1.5e15, end: 1.5e15 + 40_000, frames: 3, bytes: 99, generation: 2 ** 40 });
  b.keyframe ||= true;
  t.same(b.snapshot(), { generation: 2 ** 40, state: 'open', channel: 'cam7', stream: 'audio', start: 1.5e15, end: 1.5e15 + 40_000, frames: 3, bytes: 99, keyframe: true });
  t.equal(tb.flags[2], 1, 'the keyframe flag is bit 0 of the row');
  b.keyframe = false;
  t.equal(tb.flags[2], 0);
  t.equal(new BlockEntry(disk, tb, 2).channel, 'cam7', 'a second view sees the same row');
  t.equal(tb.nameId('cam7'), tb.channel[2], 'names are shared');
  t.equal(new BlockEntry(disk, tb, 1).frames, 0, 'other rows untouched');
  t.throws(() => {
    const many = new BlockTable(1);
    for (let i = 0; i < 70_000; i++) many.nameId(`c${i}`);
  }, /65535 channel names/, 'the channel column is u16: a clear error past it');
});

t.test('TimeIndex.addAll sorts a wrapped ring once and matches one-by-one insertion', async (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(2), fc.integer({ min: 0, max: 1000 })), { maxLength: 60 }), fc.nat(), (spec, rot) => {
    const tb = new BlockTable(spec.length);
    const disk = { name: 'd', blocks: [] } as unknown as DiskEntry;
    const entries = spec.map(([c, start], n) => Object.assign(new BlockEntry(disk, tb, n), { state: 'sealed', channel: `c${c}`, stream: 'main', start, end: start + 10, frames: 1 }));
    const cut = spec.length ? rot % spec.length : 0;
    const wrapped = [...entries.slice(cut), ...entries.slice(0, cut)];
    const bulk = new TimeIndex();
    bulk.addAll(wrapped);
    const one = new TimeIndex();
    for (const e of wrapped) one.add(e);
    for (const c of [0, 1, 2]) {
      const a = bulk.list(`c${c}`, 'main').map((e) => e.start);
      const b = one.list(`c${c}`, 'main').map((e) => e.start);
      if (JSON.stringify(a) !== JSON.stringify(b)) return false;
      for (let i = 1; i < a.length; i++) if (a[i - 1]! > a[i]!) return false;
    }
    return true;
  }), { numRuns: RUNS });
  const idx = new TimeIndex();
  const tb = new BlockTable(3);
  const disk = { name: 'd', blocks: [] } as unknown as DiskEntry;
  const [a, b, c] = [300, 100, 200].map((s, n) => Object.assign(new BlockEntry(disk, tb, n), { state: 'sealed', channel: 'k', stream: 'sub', start: s, end: s + 50, frames: 5 }));
  idx.addAll([a!, b!, c!]);
  t.same(idx.list('k', 'sub').map((e) => e.blockNo), [1, 2, 0], 'in time order, not block order');
  t.equal(idx.seek('k', 'sub', 220), 1, 'seek lands in the block holding the time');
  t.same(idx.range('k', 'sub', 140, 210).map((e) => e.blockNo), [1, 2]);
});

t.test('naturalMergeSort is a stable sort by start, for any number of runs', async (t) => {
  fc.assert(fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 200 }), (starts) => {
    const tb = new BlockTable(starts.length);
    const disk = { name: 'd', blocks: [] } as unknown as DiskEntry;
    const list = starts.map((s, n) => Object.assign(new BlockEntry(disk, tb, n), { start: s }));
    const expected = list.slice().sort((a, b) => a.start - b.start || a.blockNo - b.blockNo).map((e) => e.blockNo);
    naturalMergeSort(list);
    return JSON.stringify(list.map((e) => e.blockNo)) === JSON.stringify(expected);
  }), { numRuns: RUNS });
  t.pass(`${RUNS} lists with ties and many runs`);
});
