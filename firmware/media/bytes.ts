/** Byte helpers shared by the codec and MP4 code. */

/** Concatenates byte arrays (or plain number arrays for short headers) into one new buffer. */
export function concat(parts: readonly ArrayLike<number>[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
