/**
 * Minimal SPS parsing (picture size, profile) and avcC/hvcC building, local
 * to the depacketizers so they do not depend on firmware/media/h264.ts and
 * h265.ts while those are written. Swap for those once they exist: the
 * depacketizers only use `h264Config` and `h265Config`.
 */
import { RtpError } from './errors.js';

/** Removes emulation prevention bytes (00 00 03 → 00 00). */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
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

class Bits {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.buf[this.pos >> 3];
      if (byte === undefined) throw new RtpError('SPS ends early');
      v = v * 2 + ((byte >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new RtpError('SPS has an invalid Exp-Golomb code');
    return 2 ** zeros - 1 + this.u(zeros);
  }
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
  skip(n: number): void {
    this.u(n);
  }
}

export interface VideoConfig {
  config: Uint8Array;
  width: number;
  height: number;
}

function scalingList(b: Bits, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + b.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** H.264 SPS (ITU-T H.264 §7.3.2.1.1) → coded picture size after cropping. */
export function parseH264Sps(sps: Uint8Array): { width: number; height: number; profile: number; compat: number; level: number } {
  if (sps.length < 4 || (sps[0]! & 0x1f) !== 7) throw new RtpError('not an H.264 SPS');
  const b = new Bits(unescapeRbsp(sps.subarray(1)));
  const profile = b.u(8);
  const compat = b.u(8);
  const level = b.u(8);
  b.ue(); // seq_parameter_set_id
  let chromaFormat = 1;
  let separateColour = 0;
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
    chromaFormat = b.ue();
    if (chromaFormat > 3) throw new RtpError('SPS chroma_format_idc out of range');
    if (chromaFormat === 3) separateColour = b.u(1);
    b.ue(); // bit_depth_luma
    b.ue(); // bit_depth_chroma
    b.skip(1);
    if (b.u(1)) for (let i = 0; i < (chromaFormat !== 3 ? 8 : 12); i++) if (b.u(1)) scalingList(b, i < 6 ? 16 : 64);
  }
  b.ue(); // log2_max_frame_num
  const pocType = b.ue();
  if (pocType === 0) b.ue();
  else if (pocType === 1) {
    b.skip(1);
    b.se();
    b.se();
    const n = b.ue();
    if (n > 255) throw new RtpError('SPS has too many ref frames in POC cycle');
    for (let i = 0; i < n; i++) b.se();
  }
  b.ue(); // max_num_ref_frames
  b.skip(1);
  const mbW = b.ue() + 1;
  const mapH = b.ue() + 1;
  const frameMbsOnly = b.u(1);
  if (!frameMbsOnly) b.skip(1);
  b.skip(1);
  let width = mbW * 16;
  let height = (2 - frameMbsOnly) * mapH * 16;
  if (b.u(1)) {
    const [l, r, t, bo] = [b.ue(), b.ue(), b.ue(), b.ue()];
    const arrayType = separateColour ? 0 : chromaFormat;
    const cropX = arrayType === 0 ? 1 : arrayType === 3 ? 1 : 2;
    const cropY = (arrayType === 0 ? 1 : arrayType === 1 ? 2 : 1) * (2 - frameMbsOnly);
    width -= (l + r) * cropX;
    height -= (t + bo) * cropY;
  }
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) throw new RtpError(`SPS picture size ${width}x${height} is implausible`);
  return { width, height, profile, compat, level };
}

/** AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1). */
export function h264Config(sps: Uint8Array, pps: Uint8Array): VideoConfig {
  const info = parseH264Sps(sps);
  const out = new Uint8Array(11 + sps.length + pps.length);
  out.set([1, info.profile, info.compat, info.level, 0xff, 0xe1, sps.length >> 8, sps.length & 0xff]);
  out.set(sps, 8);
  let o = 8 + sps.length;
  out.set([1, pps.length >> 8, pps.length & 0xff], o);
  out.set(pps, o + 3);
  return { config: out, width: info.width, height: info.height };
}

interface H265Sps {
  width: number;
  height: number;
  /** general_profile_space..general_level_idc, 12 bytes as they appear in the SPS. */
  ptl: Uint8Array;
  chromaFormat: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
}

/** H.265 SPS (ITU-T H.265 §7.3.2.2) up to the conformance window. */
export function parseH265Sps(sps: Uint8Array): H265Sps {
  if (sps.length < 15 || ((sps[0]! >> 1) & 0x3f) !== 33) throw new RtpError('not an H.265 SPS');
  const rbsp = unescapeRbsp(sps.subarray(2));
  const b = new Bits(rbsp);
  b.skip(4); // sps_video_parameter_set_id
  const maxSubLayers = b.u(3);
  b.skip(1);
  const ptl = rbsp.slice(1, 13); // general profile_tier_level: 12 bytes, byte-aligned here
  b.skip(96);
  const subProfile: boolean[] = [];
  const subLevel: boolean[] = [];
  for (let i = 0; i < maxSubLayers; i++) {
    subProfile.push(b.u(1) === 1);
    subLevel.push(b.u(1) === 1);
  }
  if (maxSubLayers > 0) for (let i = maxSubLayers; i < 8; i++) b.skip(2);
  for (let i = 0; i < maxSubLayers; i++) {
    if (subProfile[i]) b.skip(88);
    if (subLevel[i]) b.skip(8);
  }
  b.ue(); // sps_seq_parameter_set_id
  const chromaFormat = b.ue();
  if (chromaFormat > 3) throw new RtpError('SPS chroma_format_idc out of range');
  let separateColour = 0;
  if (chromaFormat === 3) separateColour = b.u(1);
  let width = b.ue();
  let height = b.ue();
  if (b.u(1)) {
    const [l, r, t, bo] = [b.ue(), b.ue(), b.ue(), b.ue()];
    const arrayType = separateColour ? 0 : chromaFormat;
    const subW = arrayType === 1 || arrayType === 2 ? 2 : 1;
    const subH = arrayType === 1 ? 2 : 1;
    width -= (l + r) * subW;
    height -= (t + bo) * subH;
  }
  const bitDepthLuma = b.ue() + 8;
  const bitDepthChroma = b.ue() + 8;
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) throw new RtpError(`SPS picture size ${width}x${height} is implausible`);
  return { width, height, ptl, chromaFormat, bitDepthLuma, bitDepthChroma };
}

/** HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1) with one array each of VPS, SPS, PPS. */
export function h265Config(vps: Uint8Array, sps: Uint8Array, pps: Uint8Array): VideoConfig {
  const s = parseH265Sps(sps);
  const arrays: [number, Uint8Array][] = [
    [32, vps],
    [33, sps],
    [34, pps],
  ];
  const len = 23 + arrays.reduce((n, [, nal]) => n + 5 + nal.length, 0);
  const out = new Uint8Array(len);
  out[0] = 1;
  out.set(s.ptl, 1); // profile space/tier/idc, compat flags, constraint flags, level
  out[13] = 0xf0; // reserved + min_spatial_segmentation_idc (0)
  out[14] = 0x00;
  out[15] = 0xfc; // reserved + parallelismType (0: unknown)
  out[16] = 0xfc | s.chromaFormat;
  out[17] = 0xf8 | (s.bitDepthLuma - 8);
  out[18] = 0xf8 | (s.bitDepthChroma - 8);
  out[19] = 0; // avgFrameRate (unknown)
  out[20] = 0;
  out[21] = 0x0f; // constantFrameRate 0, numTemporalLayers 1, temporalIdNested 1, lengthSizeMinusOne 3 (4-byte lengths)
  out[22] = arrays.length;
  let o = 23;
  for (const [type, nal] of arrays) {
    out.set([0x80 | type, 0, 1, nal.length >> 8, nal.length & 0xff], o);
    out.set(nal, o + 5);
    o += 5 + nal.length;
  }
  return { config: out, width: s.width, height: s.height };
}
