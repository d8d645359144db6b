// CRC-16/MODBUS: reflected polynomial 0xA001 (0x8005 bit-reversed), initial
// value 0xFFFF, no final XOR; sent low byte first, unlike every other
// 16-bit field of the protocol. Table-driven: a poll of 8 inputs every
// 100 ms is cheap either way, the fuzz runs are not.

const TABLE = new Uint16Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  TABLE[n] = c;
}

/** CRC of bytes[start, end). */
export function crc16(bytes: ArrayLike<number>, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return crc;
}

/** The frame with its CRC appended (low byte first). */
export function withCrc(body: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(body.length + 2);
  for (let i = 0; i < body.length; i++) out[i] = body[i]! & 0xff;
  const crc = crc16(out, 0, body.length);
  out[body.length] = crc & 0xff;
  out[body.length + 1] = crc >>> 8;
  return out;
}

/** True when the last two bytes of bytes[start, end) are the CRC of the ones before. */
export function crcOk(bytes: ArrayLike<number>, start = 0, end = bytes.length): boolean {
  if (end - start < 4) return false;
  const crc = crc16(bytes, start, end - 2);
  return bytes[end - 2] === (crc & 0xff) && bytes[end - 1] === crc >>> 8;
}
