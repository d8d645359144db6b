/**
 * Bit-level reading of H.264/H.265 parameter sets: emulation-prevention
 * removal and an MSB-first reader with exp-Golomb codes. Every read is
 * bounds-checked so malformed input ends in a MediaFormatError, never a hang.
 */
import { MediaFormatError } from './errors.js';

/** Removes emulation-prevention bytes (00 00 03 -> 00 00) to get the RBSP. */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

export class BitReader {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    /** What is being read, for error messages ("H.264 SPS"). */
    private readonly what: string,
  ) {}

  get bitsLeft(): number {
    return this.buf.length * 8 - this.pos;
  }

  bit(): number {
    if (this.pos >= this.buf.length * 8) throw new MediaFormatError(`${this.what} is truncated`);
    const v = (this.buf[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }

  /** Up to 32 bits, unsigned. */
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  flag(): boolean {
    return this.bit() === 1;
  }

  skip(n: number): void {
    if (n > this.bitsLeft) throw new MediaFormatError(`${this.what} is truncated`);
    this.pos += n;
  }

  /** Unsigned exp-Golomb; values past 2^32-2 are invalid in every syntax element we read. */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new MediaFormatError(`${this.what} has an invalid exp-Golomb code`);
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  /** Signed exp-Golomb. */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** ue() with a range check naming the field. */
  ueMax(max: number, field: string): number {
    const v = this.ue();
    if (v > max) throw new MediaFormatError(`${this.what}: ${field} ${v} is out of range (max ${max})`);
    return v;
  }
}
