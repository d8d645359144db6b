/**
 * ISO BMFF box writing: a growable field writer and box/full-box wrappers.
 * Boxes are built bottom-up as byte arrays; the biggest (stsz of an hour of
 * video plus audio) is a few hundred KiB, so copying on nesting is cheap.
 * mdat is never built here: the muxers write its header and stream the
 * payload.
 */
import { concat } from '../bytes.js';
import { check } from '../errors.js';

export class Fields {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private n = 0;

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.room(1);
    this.view.setUint8(this.n, v);
    this.n += 1;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.view.setUint16(this.n, v);
    this.n += 2;
    return this;
  }
  u24(v: number): this {
    return this.u8(v >>> 16).u16(v & 0xffff);
  }
  u32(v: number): this {
    this.room(4);
    this.view.setUint32(this.n, v >>> 0);
    this.n += 4;
    return this;
  }
  i32(v: number): this {
    this.room(4);
    this.view.setInt32(this.n, v);
    this.n += 4;
    return this;
  }
  /** Up to 2^53: file offsets and decode times. */
  u64(v: number): this {
    check(Number.isSafeInteger(v) && v >= 0, `u64 field value ${v} is not a safe non-negative integer`);
    return this.u32(Math.floor(v / 2 ** 32)).u32(v % 2 ** 32);
  }
  bytes(b: ArrayLike<number>): this {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }
  zeros(k: number): this {
    this.room(k);
    this.buf.fill(0, this.n, this.n + k);
    this.n += k;
    return this;
  }
  /** Four-character code or fixed ASCII text. */
  ascii(s: string): this {
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i) & 0xff);
    return this;
  }
  get length(): number {
    return this.n;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

export type Part = Uint8Array | Fields;

const asBytes = (p: Part): Uint8Array => (p instanceof Fields ? p.done() : p);

/** A plain box. Sizes stay 32-bit: only mdat can outgrow that, and it is written separately. */
export function box(type: string, ...parts: Part[]): Uint8Array {
  check(type.length === 4, `box type '${type}' is not four characters`);
  const body = concat(parts.map(asBytes));
  const out = new Uint8Array(8 + body.length);
  new DataView(out.buffer).setUint32(0, out.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  return out;
}

/** A full box: version (8 bits) and flags (24 bits) ahead of the body. */
export function fullBox(type: string, version: number, flags: number, ...parts: Part[]): Uint8Array {
  return box(type, new Fields().u8(version).u24(flags), ...parts);
}

/** The mdat header for a payload of `size` bytes: 8 bytes, or 16 with a 64-bit largesize. */
export function mdatHeader(size: number): Uint8Array {
  if (size + 8 <= 0xffffffff) return new Fields().u32(size + 8).ascii('mdat').done();
  return new Fields().u32(1).ascii('mdat').u64(size + 16).done();
}

export function mdatHeaderSize(size: number): number {
  return size + 8 <= 0xffffffff ? 8 : 16;
}
