/**
 * The on-disk records of the store (layout version 1, see docs/storage.md)
 * and their parsers. Pure functions over bytes, so every parser can be fuzzed:
 * a parser returns a value or throws FormatError, never anything else.
 */
import { crc32 } from 'node:zlib';
import { crc32Range } from './crc.js';
import type { Codec, StreamInfo, StreamKind } from '../media/types.js';

export const LAYOUT_VERSION = 1;
export const STORE_HEADER_SIZE = 128;
export const BLOCK_HEADER_SIZE = 4096;
export const INDEX_RECORD_SIZE = 32;
export const MAX_CHANNEL_BYTES = 63;
/** Room left in the block header for the decoder config. */
export const MAX_CONFIG_BYTES = BLOCK_HEADER_SIZE - 160 - 4;

const STORE_MAGIC = 'DVRSTORE';
const BLOCK_MAGIC = 'DVRBLOCK';

export class FormatError extends Error {
  override name = 'FormatError';
}

const STREAMS: StreamKind[] = ['main', 'sub', 'audio'];
const CODECS: Codec[] = ['h264', 'h265', 'aac', 'pcma', 'pcmu'];

export function streamCode(s: StreamKind): number {
  const i = STREAMS.indexOf(s);
  if (i < 0) throw new FormatError(`unknown stream "${String(s)}"`);
  return i;
}
export function streamName(code: number): StreamKind {
  const s = STREAMS[code];
  if (!s) throw new FormatError(`unknown stream code ${code}`);
  return s;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function checkCrc(b: Uint8Array, end: number, what: string): void {
  const stored = view(b).getUint32(end, true);
  const actual = crc32(b.subarray(0, end));
  if (stored !== actual) throw new FormatError(`${what}: checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`);
}

/** i64 / u64 little-endian as a number, without BigInt (hot in index decoding); throws past 2^53. */
function getI64(v: DataView, at: number, what: string): number {
  const lo = v.getUint32(at, true);
  const hi = v.getInt32(at + 4, true);
  if (hi > 0x1fffff || hi < -0x200000) throw new FormatError(`${what} out of range`);
  return hi * 4294967296 + lo;
}
function getU64(v: DataView, at: number, what: string): number {
  const lo = v.getUint32(at, true);
  const hi = v.getUint32(at + 4, true);
  if (hi > 0x1fffff) throw new FormatError(`${what} out of range`);
  return hi * 4294967296 + lo;
}

function safe(n: bigint, what: string): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new FormatError(`${what} out of range`);
  return Number(n);
}

// ---------------------------------------------------------------- store header

export interface StoreHeader {
  version: number;
  /** 32 hex digits; the same on every disk of one store. */
  storeId: string;
  /** 32 hex digits, unique per disk. */
  diskId: string;
  blockSize: number;
  blockCount: number;
  /** Bytes of index region per block (a multiple of 32). */
  indexBytes: number;
  reserveBytes: number;
  createdMs: number;
}

function hexId(s: string, what: string): Buffer {
  if (!/^[0-9a-f]{32}$/.test(s)) throw new FormatError(`${what} must be 32 lowercase hex digits`);
  return Buffer.from(s, 'hex');
}

export function encodeStoreHeader(h: StoreHeader): Buffer {
  const b = Buffer.alloc(STORE_HEADER_SIZE);
  const v = view(b);
  b.write(STORE_MAGIC, 0, 'latin1');
  v.setUint32(8, h.version, true);
  v.setUint32(12, STORE_HEADER_SIZE, true);
  hexId(h.storeId, 'store id').copy(b, 16);
  hexId(h.diskId, 'disk id').copy(b, 32);
  v.setBigUint64(48, BigInt(h.blockSize), true);
  v.setUint32(56, h.blockCount, true);
  v.setUint32(60, h.indexBytes, true);
  v.setBigUint64(64, BigInt(h.reserveBytes), true);
  v.setBigUint64(72, BigInt(h.createdMs), true);
  v.setUint32(124, crc32(b.subarray(0, 124)), true);
  return b;
}

/** True when the bytes start like a store header (a damaged one still counts). */
export function looksLikeStoreHeader(b: Uint8Array): boolean {
  return b.byteLength >= 8 && Buffer.from(b.subarray(0, 8)).toString('latin1') === STORE_MAGIC;
}

export function decodeStoreHeader(b: Uint8Array): StoreHeader {
  if (b.byteLength < STORE_HEADER_SIZE) throw new FormatError(`store header: ${b.byteLength} bytes, expected ${STORE_HEADER_SIZE}`);
  if (!looksLikeStoreHeader(b)) throw new FormatError('store header: bad magic');
  checkCrc(b, 124, 'store header');
  const v = view(b);
  const h: StoreHeader = {
    version: v.getUint32(8, true),
    storeId: Buffer.from(b.subarray(16, 32)).toString('hex'),
    diskId: Buffer.from(b.subarray(32, 48)).toString('hex'),
    blockSize: safe(v.getBigUint64(48, true), 'block size'),
    blockCount: v.getUint32(56, true),
    indexBytes: v.getUint32(60, true),
    reserveBytes: safe(v.getBigUint64(64, true), 'reserve'),
    createdMs: safe(v.getBigUint64(72, true), 'creation time'),
  };
  if (h.version !== LAYOUT_VERSION) throw new FormatError(`store header: layout version ${h.version}, this firmware reads ${LAYOUT_VERSION}`);
  if (v.getUint32(12, true) !== STORE_HEADER_SIZE) throw new FormatError('store header: bad header size');
  validateGeometry(h.blockSize, h.indexBytes);
  return h;
}

export function validateGeometry(blockSize: number, indexBytes: number): void {
  if (indexBytes < INDEX_RECORD_SIZE || indexBytes % INDEX_RECORD_SIZE !== 0) throw new FormatError(`index region of ${indexBytes} bytes is not a positive multiple of ${INDEX_RECORD_SIZE}`);
  // Offsets in index records are u32.
  if (blockSize > 2 ** 32) throw new FormatError(`block size ${blockSize} exceeds 4 GiB`);
  if (blockSize < BLOCK_HEADER_SIZE + indexBytes + 4096) throw new FormatError(`block size ${blockSize} leaves no room for data`);
}

// ---------------------------------------------------------------- block header

export interface BlockHeader {
  blockNo: number;
  storeId: string;
  diskId: string;
  generation: number;
  channel: string;
  stream: StreamKind;
  info: StreamInfo;
  openedMs: number;
}

export function encodeBlockHeader(h: BlockHeader): Buffer {
  const b = Buffer.alloc(BLOCK_HEADER_SIZE);
  const v = view(b);
  b.write(BLOCK_MAGIC, 0, 'latin1');
  v.setUint32(8, LAYOUT_VERSION, true);
  v.setUint32(12, h.blockNo, true);
  hexId(h.storeId, 'store id').copy(b, 16);
  hexId(h.diskId, 'disk id').copy(b, 32);
  v.setBigUint64(48, BigInt(h.generation), true);
  const ch = Buffer.from(h.channel, 'utf8');
  if (ch.length === 0 || ch.length > MAX_CHANNEL_BYTES) throw new FormatError(`channel name must be 1..${MAX_CHANNEL_BYTES} bytes`);
  b[56] = ch.length;
  ch.copy(b, 57);
  b[120] = streamCode(h.stream);
  const codec = CODECS.indexOf(h.info.codec);
  if (codec < 0) throw new FormatError(`unknown codec "${String(h.info.codec)}"`);
  b[121] = codec;
  v.setUint16(124, h.info.width ?? 0, true);
  v.setUint16(126, h.info.height ?? 0, true);
  v.setUint32(128, h.info.sampleRate ?? 0, true);
  b[132] = h.info.channels ?? 0;
  v.setBigUint64(136, BigInt(h.openedMs), true);
  if (h.info.config.byteLength > MAX_CONFIG_BYTES) throw new FormatError(`decoder config of ${h.info.config.byteLength} bytes exceeds ${MAX_CONFIG_BYTES}`);
  v.setUint16(144, h.info.config.byteLength, true);
  b.set(h.info.config, 160);
  v.setUint32(BLOCK_HEADER_SIZE - 4, crc32(b.subarray(0, BLOCK_HEADER_SIZE - 4)), true);
  return b;
}

export function decodeBlockHeader(b: Uint8Array): BlockHeader {
  if (b.byteLength < BLOCK_HEADER_SIZE) throw new FormatError(`block header: ${b.byteLength} bytes, expected ${BLOCK_HEADER_SIZE}`);
  if (Buffer.from(b.subarray(0, 8)).toString('latin1') !== BLOCK_MAGIC) throw new FormatError('block header: bad magic');
  checkCrc(b, BLOCK_HEADER_SIZE - 4, 'block header');
  const v = view(b);
  if (v.getUint32(8, true) !== LAYOUT_VERSION) throw new FormatError('block header: unknown layout version');
  const chLen = b[56]!;
  if (chLen === 0 || chLen > MAX_CHANNEL_BYTES) throw new FormatError('block header: bad channel length');
  const codec = CODECS[b[121]!];
  if (!codec) throw new FormatError(`block header: unknown codec code ${b[121]}`);
  const cfgLen = v.getUint16(144, true);
  if (cfgLen > MAX_CONFIG_BYTES) throw new FormatError('block header: bad config length');
  const info: StreamInfo = { codec, config: Uint8Array.from(b.subarray(160, 160 + cfgLen)) };
  const width = v.getUint16(124, true);
  const height = v.getUint16(126, true);
  const sampleRate = v.getUint32(128, true);
  if (width) info.width = width;
  if (height) info.height = height;
  if (sampleRate) info.sampleRate = sampleRate;
  if (b[132]) info.channels = b[132];
  return {
    blockNo: v.getUint32(12, true),
    storeId: Buffer.from(b.subarray(16, 32)).toString('hex'),
    diskId: Buffer.from(b.subarray(32, 48)).toString('hex'),
    generation: safe(v.getBigUint64(48, true), 'generation'),
    channel: Buffer.from(b.subarray(57, 57 + chLen)).toString('utf8'),
    stream: streamName(b[120]!),
    info,
    openedMs: safe(v.getBigUint64(136, true), 'open time'),
  };
}

// ---------------------------------------------------------------- index record

export interface IndexRecord {
  /** µs since the epoch. */
  time: number;
  /** Byte offset in the block's data region. */
  offset: number;
  size: number;
  /** Low 32 bits of the block generation. */
  gen: number;
  /** Flush sequence, modulo 2^16. */
  seq: number;
  keyframe: boolean;
  /** CRC32 of the frame bytes. */
  dataCrc: number;
}

export function encodeIndexRecord(r: IndexRecord, out: Uint8Array = Buffer.alloc(INDEX_RECORD_SIZE), at = 0): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset + at, INDEX_RECORD_SIZE);
  v.setBigInt64(0, BigInt(r.time), true);
  v.setUint32(8, r.offset, true);
  v.setUint32(12, r.size, true);
  v.setUint32(16, r.gen >>> 0, true);
  v.setUint16(20, r.seq & 0xffff, true);
  v.setUint8(22, r.keyframe ? 1 : 0);
  v.setUint8(23, 0);
  v.setUint32(24, r.dataCrc >>> 0, true);
  v.setUint32(28, crc32(out.subarray(at, at + 28)), true);
  return out;
}

/** Decodes one record at `at`; throws on a bad checksum or impossible fields. */
export function decodeIndexRecord(b: Uint8Array, at = 0): IndexRecord {
  if (at < 0 || b.byteLength < at + INDEX_RECORD_SIZE) throw new FormatError('index record: truncated');
  return decodeIndexAt(b, new DataView(b.buffer, b.byteOffset, b.byteLength), at);
}

function decodeIndexAt(b: Uint8Array, v: DataView, at: number): IndexRecord {
  if (crc32Range(b, at, at + 28) !== v.getUint32(at + 28, true)) throw new FormatError('index record: checksum mismatch');
  const flags = v.getUint8(at + 22);
  if (flags > 1 || v.getUint8(at + 23) !== 0) throw new FormatError('index record: unknown flags');
  return {
    time: getI64(v, at, 'frame time'),
    offset: v.getUint32(at + 8, true),
    size: v.getUint32(at + 12, true),
    gen: v.getUint32(at + 16, true),
    seq: v.getUint16(at + 20, true),
    keyframe: flags === 1,
    dataCrc: v.getUint32(at + 24, true),
  };
}

/**
 * A block's frame index as columns (struct of arrays): one backing buffer per
 * block instead of one object per frame, so a cached index costs the garbage
 * collector nothing to scan or copy and a lookup touches only the column it
 * needs. Row i is the i-th index record of the block.
 */
export class FrameIndex {
  readonly time: Float64Array;
  readonly offset: Uint32Array;
  readonly size: Uint32Array;
  readonly dataCrc: Uint32Array;
  readonly seq: Uint16Array;
  /** 1 = keyframe. */
  readonly key: Uint8Array;
  length = 0;

  constructor(readonly gen: number, capacity: number) {
    // One allocation, 23 bytes per frame: f64 | u32 ×3 | u16 | u8 regions.
    const buf = new ArrayBuffer(capacity * 23);
    let at = 0;
    this.time = new Float64Array(buf, at, capacity); at += capacity * 8;
    this.offset = new Uint32Array(buf, at, capacity); at += capacity * 4;
    this.size = new Uint32Array(buf, at, capacity); at += capacity * 4;
    this.dataCrc = new Uint32Array(buf, at, capacity); at += capacity * 4;
    this.seq = new Uint16Array(buf, at, capacity); at += capacity * 2;
    this.key = new Uint8Array(buf, at, capacity);
  }

  get capacity(): number {
    return this.time.length;
  }

  static fromRecords(recs: readonly IndexRecord[], gen = recs[0]?.gen ?? 0): FrameIndex {
    const f = new FrameIndex(gen >>> 0, recs.length);
    for (const r of recs) f.push(r.time, r.offset, r.size, r.seq, r.keyframe, r.dataCrc);
    return f;
  }

  push(time: number, offset: number, size: number, seq: number, keyframe: boolean, dataCrc: number): void {
    const i = this.length++;
    this.time[i] = time;
    this.offset[i] = offset;
    this.size[i] = size;
    this.seq[i] = seq;
    this.key[i] = keyframe ? 1 : 0;
    this.dataCrc[i] = dataCrc;
  }

  record(i: number): IndexRecord {
    return { time: this.time[i]!, offset: this.offset[i]!, size: this.size[i]!, gen: this.gen, seq: this.seq[i]!, keyframe: this.key[i] === 1, dataCrc: this.dataCrc[i]! };
  }

  toRecords(): IndexRecord[] {
    return Array.from({ length: this.length }, (_, i) => this.record(i));
  }

  /** First row whose time is > t: O(log n). */
  upperBound(t: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A copy holding exactly `length` rows (an index decoded into a large region gives its spare room back). */
  trimmed(): FrameIndex {
    if (this.length === this.capacity) return this;
    const f = new FrameIndex(this.gen, this.length);
    f.time.set(this.time.subarray(0, this.length));
    f.offset.set(this.offset.subarray(0, this.length));
    f.size.set(this.size.subarray(0, this.length));
    f.dataCrc.set(this.dataCrc.subarray(0, this.length));
    f.seq.set(this.seq.subarray(0, this.length));
    f.key.set(this.key.subarray(0, this.length));
    f.length = this.length;
    return f;
  }
}

/**
 * The valid prefix of an index region (invariant 3), as columns: records stop
 * at the first bad CRC, foreign generation, non-contiguous offset, backwards
 * time, or a frame that would run past `dataCapacity`. Decoded in place:
 * no per-record allocation.
 */
export function decodeFrameIndex(b: Uint8Array, generation: number, dataCapacity: number): FrameIndex {
  const gen = generation >>> 0;
  const n = Math.floor(b.byteLength / INDEX_RECORD_SIZE);
  const out = new FrameIndex(gen, n);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let next = 0;
  let last = -Infinity;
  for (let i = 0, at = 0; i < n; i++, at += INDEX_RECORD_SIZE) {
    if (crc32Range(b, at, at + 28) !== v.getUint32(at + 28, true)) break;
    const flags = b[at + 22]!;
    if (flags > 1 || b[at + 23] !== 0) break;
    const lo = v.getUint32(at, true);
    const hi = v.getInt32(at + 4, true);
    if (hi > 0x1fffff || hi < -0x200000) break;
    const time = hi * 4294967296 + lo;
    const offset = v.getUint32(at + 8, true);
    const size = v.getUint32(at + 12, true);
    if (v.getUint32(at + 16, true) !== gen || offset !== next || time < last || size === 0 || offset + size > dataCapacity) break;
    out.push(time, offset, size, v.getUint16(at + 20, true), flags === 1, v.getUint32(at + 24, true));
    next = offset + size;
    last = time;
  }
  return out.length * 2 < n ? out.trimmed() : out;
}

/** The valid prefix of an index region (invariant 3) as records; see decodeFrameIndex. */
export function decodeIndexRegion(b: Uint8Array, generation: number, dataCapacity: number): IndexRecord[] {
  return decodeFrameIndex(b, generation, dataCapacity).toRecords();
}

// ---------------------------------------------------------------- catalog record

export type BlockState = 'free' | 'open' | 'sealed';
const STATES: BlockState[] = ['free', 'open', 'sealed'];

export interface CatalogRecord {
  blockNo: number;
  generation: number;
  state: BlockState;
  channel: string;
  stream: StreamKind;
  /** µs of the first and last frame (0 when empty). */
  start: number;
  end: number;
  frames: number;
  bytes: number;
  /** Bit 0: holds at least one keyframe. */
  flags: number;
}

const CATALOG_FIXED = 2 + 1 + 4 + 8 + 1 + 8 + 8 + 4 + 4 + 1 + 1; // length..channel length

/** Length-prefixed: u16 body length, body, u32 CRC over length and body. */
export function encodeCatalogRecord(r: CatalogRecord): Buffer {
  const ch = Buffer.from(r.channel, 'utf8');
  if (ch.length > MAX_CHANNEL_BYTES) throw new FormatError(`channel name must be at most ${MAX_CHANNEL_BYTES} bytes`);
  const bodyLen = CATALOG_FIXED - 2 + 1 + ch.length;
  const b = Buffer.alloc(2 + bodyLen + 4);
  const v = view(b);
  let o = 0;
  v.setUint16(o, bodyLen, true); o += 2;
  b[o++] = STATES.indexOf(r.state);
  v.setUint32(o, r.blockNo, true); o += 4;
  v.setBigUint64(o, BigInt(r.generation), true); o += 8;
  b[o++] = streamCode(r.stream);
  v.setBigInt64(o, BigInt(r.start), true); o += 8;
  v.setBigInt64(o, BigInt(r.end), true); o += 8;
  v.setUint32(o, r.frames, true); o += 4;
  v.setUint32(o, r.bytes, true); o += 4;
  b[o++] = r.flags;
  b[o++] = 0;
  b[o++] = ch.length;
  ch.copy(b, o); o += ch.length;
  v.setUint32(o, crc32(b.subarray(0, o)), true);
  return b;
}

/** Decodes the record at `at`; returns it and the offset of the next one. */
export function decodeCatalogRecord(b: Uint8Array, at = 0): { record: CatalogRecord; next: number } {
  if (b.byteLength < at + 2) throw new FormatError('catalog record: truncated length');
  const v = view(b);
  const bodyLen = v.getUint16(at, true);
  const end = at + 2 + bodyLen;
  if (bodyLen < CATALOG_FIXED - 1 || bodyLen > CATALOG_FIXED - 1 + MAX_CHANNEL_BYTES) throw new FormatError(`catalog record: bad length ${bodyLen}`);
  if (b.byteLength < end + 4) throw new FormatError('catalog record: truncated');
  const rec = b.subarray(at, end + 4);
  checkCrc(rec, 2 + bodyLen, 'catalog record');
  const rv = view(rec);
  let o = 2;
  const state = STATES[rec[o++]!];
  if (!state) throw new FormatError('catalog record: unknown state');
  const blockNo = rv.getUint32(o, true); o += 4;
  const generation = getU64(rv, o, 'generation'); o += 8;
  const stream = streamName(rec[o++]!);
  const start = getI64(rv, o, 'start'); o += 8;
  const endT = getI64(rv, o, 'end'); o += 8;
  const frames = rv.getUint32(o, true); o += 4;
  const bytes = rv.getUint32(o, true); o += 4;
  const flags = rec[o++]!;
  o++;
  const chLen = rec[o++]!;
  if (o + chLen !== 2 + bodyLen) throw new FormatError('catalog record: channel length disagrees with record length');
  const channel = Buffer.from(rec.subarray(o, o + chLen)).toString('utf8');
  if (endT < start) throw new FormatError('catalog record: end before start');
  return { record: { blockNo, generation, state, channel, stream, start, end: endT, frames, bytes, flags }, next: end + 4 };
}

// ---------------------------------------------------------------- locks file

export interface LockRecord {
  id: string;
  channel: string;
  /** µs range, inclusive. */
  start: number;
  end: number;
  /** Wall-clock ms after which the lock lapses; absent = until removed. */
  expiresMs?: number;
  reason: string;
}

export interface LocksFile {
  seq: number;
  locks: LockRecord[];
}

export function encodeLocks(f: LocksFile): Buffer {
  const body = JSON.stringify(f);
  return Buffer.from(`${body}\n${crc32(Buffer.from(body)).toString(16)}\n`);
}

export function decodeLocks(b: Uint8Array): LocksFile {
  const text = Buffer.from(b).toString('utf8');
  const m = /^(.*)\n([0-9a-f]{1,8})\n$/s.exec(text);
  if (!m) throw new FormatError('locks file: not "<json>\\n<crc>\\n"');
  if (crc32(Buffer.from(m[1]!)).toString(16) !== m[2]) throw new FormatError('locks file: checksum mismatch');
  let parsed: unknown;
  try {
    parsed = JSON.parse(m[1]!);
  } catch (e) {
    throw new FormatError(`locks file: ${(e as Error).message}`);
  }
  const f = parsed as Partial<LocksFile>;
  if (!f || typeof f !== 'object' || !Number.isSafeInteger(f.seq) || !Array.isArray(f.locks)) throw new FormatError('locks file: expected {seq, locks[]}');
  for (const l of f.locks) {
    if (!l || typeof l !== 'object' || typeof l.id !== 'string' || typeof l.channel !== 'string' || typeof l.reason !== 'string' ||
      !Number.isSafeInteger(l.start) || !Number.isSafeInteger(l.end) || l.end < l.start ||
      (l.expiresMs !== undefined && !Number.isSafeInteger(l.expiresMs))) {
      throw new FormatError('locks file: malformed lock');
    }
  }
  return f as LocksFile;
}
