// H.265 pieces the v4l2-m2m backend needs: taking a hardware encoder's Annex B
// access unit apart (VPS/SPS/PPS out, length-prefixed sample data) and the
// hvcC record the recording store and MP4 take as StreamInfo.config. The
// same byte layout as firmware/media/h265.ts buildHvcC, reduced to what the
// record reads from the SPS; drivers/ must not import firmware/.
import { EncoderError } from './errors.js';
import { splitAnnexB } from './h264.js';
import type { ParameterSets } from './types.js';

export const H265_NAL = { VPS: 32, SPS: 33, PPS: 34, AUD: 35, FD: 38 } as const;

export function h265NalType(nal: Uint8Array): number {
  return nal.length > 0 ? (nal[0]! >> 1) & 0x3f : -1;
}

/** IRAP pictures (BLA, IDR, CRA, reserved 22-23): a decoder can start there. */
export function isH265Irap(type: number): boolean {
  return type >= 16 && type <= 23;
}

/**
 * One Annex B access unit from a hardware encoder -> the CodedUnit form:
 * length-prefixed NAL units without VPS/SPS/PPS, AUD or filler, and the
 * parameter sets found in it. Keyframe = an IRAP picture in it.
 */
export function fromAnnexBH265(data: Uint8Array): { data: Uint8Array; params: ParameterSets; keyframe: boolean } {
  const params: ParameterSets = { vps: [], sps: [], pps: [] };
  const keep: Uint8Array[] = [];
  let keyframe = false;
  for (const nal of splitAnnexB(data)) {
    const type = h265NalType(nal);
    if (type === H265_NAL.VPS) params.vps!.push(nal.slice());
    else if (type === H265_NAL.SPS) params.sps.push(nal.slice());
    else if (type === H265_NAL.PPS) params.pps.push(nal.slice());
    else if (type !== H265_NAL.AUD && type !== H265_NAL.FD && nal.length > 2) {
      if (isH265Irap(type)) keyframe = true;
      keep.push(nal);
    }
  }
  const out = new Uint8Array(keep.reduce((n, p) => n + 4 + p.length, 0));
  let at = 0;
  for (const p of keep) {
    new DataView(out.buffer, out.byteOffset + at, 4).setUint32(0, p.length);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return { data: out, params, keyframe };
}

/** Exp-Golomb and fixed-width reads over an RBSP (emulation prevention bytes already removed). */
class Bits {
  #pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  bit(): number {
    const byte = this.bytes[this.#pos >> 3];
    if (byte === undefined) throw new EncoderError('BACKEND', 'H.265 SPS is truncated');
    const b = (byte >> (7 - (this.#pos & 7))) & 1;
    this.#pos++;
    return b;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
  skip(n: number): void {
    this.#pos += n;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) if (++zeros > 31) throw new EncoderError('BACKEND', 'H.265 SPS: bad Exp-Golomb code');
    return 2 ** zeros - 1 + this.bits(zeros);
  }
}

/** 00 00 03 -> 00 00 (7.4.2). */
function unescape(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** The SPS fields hvcC repeats (7.3.2.2 up to the bit depths). */
function readSps(nal: Uint8Array) {
  if (h265NalType(nal) !== H265_NAL.SPS) throw new EncoderError('BACKEND', `hvcC: NAL type ${h265NalType(nal)} is not an SPS`);
  const rbsp = unescape(nal.subarray(2));
  if (rbsp.length < 13) throw new EncoderError('BACKEND', 'H.265 SPS is truncated');
  const r = new Bits(rbsp);
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayers = r.bits(3) + 1;
  const temporalIdNesting = r.bit();
  const ptl = rbsp.subarray(1, 13); // general profile_tier_level: 12 bytes, copied as they are
  r.skip(96);
  const subProfile: number[] = [];
  const subLevel: number[] = [];
  for (let i = 0; i < maxSubLayers - 1; i++) {
    subProfile.push(r.bit());
    subLevel.push(r.bit());
  }
  if (maxSubLayers > 1) r.skip(2 * (9 - maxSubLayers));
  for (let i = 0; i < maxSubLayers - 1; i++) r.skip((subProfile[i] ? 88 : 0) + (subLevel[i] ? 8 : 0));
  r.ue(); // sps_seq_parameter_set_id
  const chromaFormatIdc = r.ue();
  if (chromaFormatIdc === 3) r.skip(1); // separate_colour_plane_flag
  r.ue(); // pic_width_in_luma_samples
  r.ue(); // pic_height_in_luma_samples
  if (r.bit()) for (let i = 0; i < 4; i++) r.ue(); // conformance window
  const bitDepthLuma = 8 + r.ue();
  const bitDepthChroma = 8 + r.ue();
  return { maxSubLayers, temporalIdNesting, ptl, chromaFormatIdc, bitDepthLuma, bitDepthChroma };
}

/**
 * HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3) for 4-byte NAL
 * lengths, with every VPS, SPS and PPS in it (array_completeness 1).
 */
export function hvcC(params: ParameterSets): Uint8Array {
  const vps = params.vps ?? [];
  if (!vps.length || !params.sps.length || !params.pps.length) {
    throw new EncoderError('BACKEND', `hvcC: needs VPS, SPS and PPS (have ${vps.length}, ${params.sps.length}, ${params.pps.length})`);
  }
  const s = readSps(params.sps[0]!);
  const arrays = [
    [H265_NAL.VPS, vps],
    [H265_NAL.SPS, params.sps],
    [H265_NAL.PPS, params.pps],
  ] as const;
  const size = 23 + arrays.reduce((n, [, list]) => n + 3 + list.reduce((m, p) => m + 2 + p.length, 0), 0);
  const out = new Uint8Array(size);
  out[0] = 1;
  out.set(s.ptl, 1); // profile space/tier/idc, compatibility flags, constraint flags, level
  out.set([0xf0, 0x00, 0xfc], 13); // min_spatial_segmentation_idc 0, parallelismType 0: unknown
  out[16] = 0xfc | s.chromaFormatIdc;
  out[17] = 0xf8 | (s.bitDepthLuma - 8);
  out[18] = 0xf8 | (s.bitDepthChroma - 8);
  // 19-20: avgFrameRate 0 (unknown); constantFrameRate 0, lengthSizeMinusOne 3
  out[21] = (s.maxSubLayers << 3) | (s.temporalIdNesting << 2) | 3;
  out[22] = arrays.length;
  let at = 23;
  for (const [type, list] of arrays) {
    out.set([0x80 | type, list.length >> 8, list.length & 0xff], at);
    at += 3;
    for (const p of list) {
      out.set([p.length >> 8, p.length & 0xff], at);
      out.set(p, at + 2);
      at += 2 + p.length;
    }
  }
  return out;
}
