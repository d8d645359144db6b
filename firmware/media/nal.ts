/**
 * NAL unit framing shared by H.264 and H.265: Annex B byte streams (start
 * codes, what encoders and V4L2 give us) and 4-byte length prefixes (what MP4
 * samples and our Frame.data hold).
 */
import { MediaFormatError } from './errors.js';

/**
 * Splits an Annex B buffer on 3- and 4-byte start codes. Returns views into
 * `buf` (no copies), without start codes; bytes before the first start code
 * and empty NAL units are dropped, trailing zero bytes (trailing_zero_8bits)
 * are trimmed. Never throws: an unframed buffer gives [].
 */
export function splitAnnexB(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = -1;
  let i = 0;
  const n = buf.length;
  while (i + 2 < n) {
    // Skip quickly: a start code needs buf[i+2] === 1 and two zeros before it.
    const b2 = buf[i + 2]!;
    if (b2 > 1) {
      i += 3;
      continue;
    }
    if (b2 === 1 && buf[i] === 0 && buf[i + 1] === 0) {
      if (start >= 0) push(out, buf, start, i);
      start = i + 3;
      i += 3;
      continue;
    }
    i++;
  }
  if (start >= 0) push(out, buf, start, n);
  return out;
}

function push(out: Uint8Array[], buf: Uint8Array, start: number, end: number): void {
  while (end > start && buf[end - 1] === 0) end--; // 4-byte start code's zero, trailing zeros
  if (end > start) out.push(buf.subarray(start, end));
}

/** Joins NAL units with 4-byte big-endian length prefixes (one copy). */
export function joinLengthPrefixed(nals: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const nal of nals) size += 4 + nal.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let p = 0;
  for (const nal of nals) {
    view.setUint32(p, nal.length);
    out.set(nal, p + 4);
    p += 4 + nal.length;
  }
  return out;
}

/**
 * Splits a length-prefixed access unit into views of its NAL units. Throws
 * MediaFormatError on a length that runs past the end (a truncated NAL) or a
 * zero length.
 */
export function splitLengthPrefixed(buf: Uint8Array, lengthSize = 4): Uint8Array[] {
  if (![1, 2, 4].includes(lengthSize)) throw new MediaFormatError(`NAL length size ${lengthSize} is not 1, 2 or 4`);
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < buf.length) {
    if (p + lengthSize > buf.length) throw new MediaFormatError(`truncated NAL length at byte ${p} of ${buf.length}`);
    let len = 0;
    for (let k = 0; k < lengthSize; k++) len = len * 256 + buf[p + k]!;
    p += lengthSize;
    if (len === 0) throw new MediaFormatError(`zero-length NAL unit at byte ${p - lengthSize}`);
    if (p + len > buf.length) throw new MediaFormatError(`truncated NAL unit: ${len} bytes announced at byte ${p - lengthSize}, ${buf.length - p} present`);
    out.push(buf.subarray(p, p + len));
    p += len;
  }
  return out;
}

export function annexBToLengthPrefixed(buf: Uint8Array): Uint8Array {
  return joinLengthPrefixed(splitAnnexB(buf));
}

/** Length-prefixed to Annex B with 4-byte start codes (what decoders and RTSP-less players take). */
export function lengthPrefixedToAnnexB(buf: Uint8Array): Uint8Array {
  const nals = splitLengthPrefixed(buf);
  const out = new Uint8Array(buf.length); // same size: each 4-byte length becomes 00 00 00 01
  let p = 0;
  for (const nal of nals) {
    out[p + 3] = 1;
    out.set(nal, p + 4);
    p += 4 + nal.length;
  }
  return out;
}

/**
 * Groups a NAL sequence into access units, given the codec's rule for "this
 * NAL starts a new access unit once the current one has a picture". Shared by
 * the H.264 and H.265 wrappers.
 */
export function groupAccessUnits(
  nals: Iterable<Uint8Array>,
  classify: (nal: Uint8Array) => 'vcl-first' | 'vcl' | 'prefix' | 'other',
): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  let cur: Uint8Array[] = [];
  let hasPicture = false;
  for (const nal of nals) {
    const kind = classify(nal);
    if (hasPicture && (kind === 'vcl-first' || kind === 'prefix')) {
      out.push(cur);
      cur = [];
      hasPicture = false;
    }
    cur.push(nal);
    if (kind === 'vcl-first' || kind === 'vcl') hasPicture = true;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
