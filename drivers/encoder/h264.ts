// H.264 bitstream helpers shared by the encoder backends: the avcC record,
// Annex B conversion and NAL unit walking over length-prefixed data.
import { EncoderError } from './errors.js';
import type { ParameterSets } from './types.js';

export const NAL_SLICE = 1;
export const NAL_IDR = 5;
export const NAL_SEI = 6;
export const NAL_SPS = 7;
export const NAL_PPS = 8;
export const NAL_AUD = 9;

/** NAL units of 4-byte length-prefixed data, as subarrays (no copy). */
export function splitLengthPrefixed(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at + 4 <= data.length) {
    const len = ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
    if (at + 4 + len > data.length) throw new EncoderError('BACKEND', `NAL length ${len} at ${at} overruns ${data.length} bytes`);
    out.push(data.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/**
 * Annex B byte stream of one length-prefixed access unit (start codes
 * 00 00 00 01). With `params`, (VPS,) SPS and PPS are put in front (do that
 * for keyframes so a decoder can start there). H.265 data works the same.
 */
export function annexB(data: Uint8Array, params?: ParameterSets): Uint8Array {
  const head = params ? [...(params.vps ?? []), ...params.sps, ...params.pps] : [];
  const out = new Uint8Array(head.reduce((n, p) => n + 4 + p.length, 0) + data.length);
  let at = 0;
  for (const p of head) {
    out.set([0, 0, 0, 1], at);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  out.set(data, at);
  // Same size: each 4-byte length becomes a 4-byte start code, in place.
  while (at + 4 <= out.length) {
    const len = ((out[at]! << 24) | (out[at + 1]! << 16) | (out[at + 2]! << 8) | out[at + 3]!) >>> 0;
    out[at] = 0;
    out[at + 1] = 0;
    out[at + 2] = 0;
    out[at + 3] = 1;
    at += 4 + len;
  }
  return out;
}

/**
 * AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1) for 4-byte NAL
 * lengths. For High profiles the 4:2:0 8-bit chroma/bit-depth trailer is
 * written, which is what these encoders produce.
 */
export function avcC(params: ParameterSets): Uint8Array {
  const sps = params.sps[0];
  if (!sps || sps.length < 4) throw new EncoderError('BACKEND', 'avcC: no SPS');
  const profile = sps[1]!;
  const high = [100, 110, 122, 144].includes(profile);
  const size =
    7 + params.sps.reduce((n, p) => n + 2 + p.length, 0) + params.pps.reduce((n, p) => n + 2 + p.length, 0) + (high ? 4 : 0);
  const out = new Uint8Array(size);
  out[0] = 1;
  out[1] = profile;
  out[2] = sps[2]!;
  out[3] = sps[3]!;
  out[4] = 0xfc | 3; // lengthSizeMinusOne
  out[5] = 0xe0 | params.sps.length;
  let at = 6;
  for (const p of params.sps) {
    out[at] = p.length >> 8;
    out[at + 1] = p.length & 0xff;
    out.set(p, at + 2);
    at += 2 + p.length;
  }
  out[at++] = params.pps.length;
  for (const p of params.pps) {
    out[at] = p.length >> 8;
    out[at + 1] = p.length & 0xff;
    out.set(p, at + 2);
    at += 2 + p.length;
  }
  if (high) {
    out[at++] = 0xfc | 1; // chroma_format_idc 4:2:0
    out[at++] = 0xf8 | 0; // bit_depth_luma_minus8
    out[at++] = 0xf8 | 0; // bit_depth_chroma_minus8
    out[at++] = 0; // numOfSequenceParameterSetExt
  }
  return out;
}

/** NAL units of an Annex B byte stream (3- or 4-byte start codes), as subarrays (no copy). */
export function splitAnnexB(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = -1;
  let i = 0;
  while (i + 2 < data.length) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) {
        // Trailing zeros before a start code belong to the next one (4-byte form).
        let end = i;
        while (end > start && data[end - 1] === 0) end--;
        out.push(data.subarray(start, end));
      }
      i += 3;
      start = i;
    } else i++;
  }
  if (start >= 0 && start < data.length) out.push(data.subarray(start));
  return out;
}

/**
 * One Annex B access unit as a hardware encoder (V4L2 m2m) returns it ->
 * the CodedUnit form: length-prefixed NAL units without SPS, PPS or AUD, and
 * the parameter sets found in it (keyframes usually carry them).
 */
export function fromAnnexB(data: Uint8Array): { data: Uint8Array; params: ParameterSets; keyframe: boolean } {
  const params: ParameterSets = { sps: [], pps: [] };
  const keep: Uint8Array[] = [];
  let keyframe = false;
  for (const nal of splitAnnexB(data)) {
    const type = nal[0]! & 0x1f;
    if (type === NAL_SPS) params.sps.push(nal.slice());
    else if (type === NAL_PPS) params.pps.push(nal.slice());
    else if (type !== NAL_AUD && nal.length > 0) {
      if (type === NAL_IDR) keyframe = true;
      keep.push(nal);
    }
  }
  const out = new Uint8Array(keep.reduce((n, p) => n + 4 + p.length, 0));
  let at = 0;
  for (const p of keep) {
    out[at] = p.length >>> 24;
    out[at + 1] = (p.length >> 16) & 0xff;
    out[at + 2] = (p.length >> 8) & 0xff;
    out[at + 3] = p.length & 0xff;
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return { data: out, params, keyframe };
}
