// Reading and writing struct fields in a Buffer by their generated
// [offset, size]. Little-endian only (x86_64, arm, arm64 as Linux runs them).
import { koffi } from '../libc/index.js';
import type { FieldLayout } from './spec.js';

/** Unsigned integer field (8-byte fields are returned as numbers; V4L2 values fit). */
export function getU(buf: Buffer, [offset, size]: FieldLayout): number {
  switch (size) {
    case 1:
      return buf.readUInt8(offset);
    case 2:
      return buf.readUInt16LE(offset);
    case 4:
      return buf.readUInt32LE(offset);
    case 8:
      return Number(buf.readBigUInt64LE(offset));
    default:
      throw new Error(`field of ${size} bytes is not an integer`);
  }
}

/** Signed integer field. */
export function getS(buf: Buffer, [offset, size]: FieldLayout): number {
  switch (size) {
    case 1:
      return buf.readInt8(offset);
    case 2:
      return buf.readInt16LE(offset);
    case 4:
      return buf.readInt32LE(offset);
    case 8:
      return Number(buf.readBigInt64LE(offset));
    default:
      throw new Error(`field of ${size} bytes is not an integer`);
  }
}

/** Write an integer (signed or unsigned, wrapped to the field width) or a BigInt pointer. */
export function set(buf: Buffer, [offset, size]: FieldLayout, value: number | bigint): void {
  switch (size) {
    case 1:
      buf.writeUInt8(Number(value) & 0xff, offset);
      return;
    case 2:
      buf.writeUInt16LE(Number(value) & 0xffff, offset);
      return;
    case 4:
      buf.writeUInt32LE(Number(BigInt.asUintN(32, BigInt(value))), offset);
      return;
    case 8:
      buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)), offset);
      return;
    default:
      throw new Error(`field of ${size} bytes is not an integer`);
  }
}

/** A NUL-terminated char[N] field. */
export function getString(buf: Buffer, [offset, size]: FieldLayout): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('utf8', offset, end < 0 || end > offset + size ? offset + size : end);
}

/** Copy a string into a char[N] field, truncated to leave room for the NUL. */
export function setString(buf: Buffer, [offset, size]: FieldLayout, value: string): void {
  buf.fill(0, offset, offset + size);
  buf.write(value, offset, size - 1, 'utf8');
}

/**
 * Native memory whose address can be stored in a struct (v4l2_buffer.m.planes,
 * v4l2_ext_controls.controls). JS typed arrays can move or live in the V8
 * heap; this cannot. Call free() when done.
 */
export class NativeBlock {
  readonly ptr: bigint;
  readonly buf: Buffer;
  #freed = false;

  constructor(readonly size: number) {
    const k = koffi();
    const ptr = k.alloc('uint8_t', Math.max(1, size)) as unknown;
    this.ptr = typeof ptr === 'bigint' ? ptr : k.address(ptr);
    this.buf = Buffer.from(k.view(this.ptr, Math.max(1, size)), 0, size);
    this.buf.fill(0);
  }

  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    koffi().free(this.ptr);
  }
}
