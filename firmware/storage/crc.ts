/**
 * CRC32 (IEEE 802.3, zlib's) in JavaScript, for the many short inputs of the
 * index path: a 28-byte index record checksum through `node:zlib` costs a
 * subarray and a native call each (≈160 ns), the table loop here ≈60 ns, and
 * allocates nothing. Long inputs (frame bytes) still go to `node:zlib`.
 */
const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

/** CRC32 of bytes[start, end), as an unsigned 32-bit number; equal to zlib.crc32(bytes.subarray(start, end)). */
export function crc32Range(bytes: Uint8Array, start: number, end: number): number {
  let c = -1;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
