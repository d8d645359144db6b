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

/**
 * A copy of bytes[start, end) in memory of its own. Not `bytes.slice()`: on a
 * Buffer that is a view, which would go stale when the buffer is reused.
 */
export function copyRange(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}
