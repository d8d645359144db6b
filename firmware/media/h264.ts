/**
 * H.264 specifics: NAL types, SPS parsing (size, profile, level, frame rate),
 * the avcC record MP4 needs, keyframe detection and access-unit handling.
 * Annex B framing is shared with H.265 in nal.ts and re-exported here.
 */
import { BitReader, unescapeRbsp } from './bits.js';
import { concat } from './bytes.js';
import { check, MediaFormatError } from './errors.js';
import { groupAccessUnits, joinLengthPrefixed, splitLengthPrefixed } from './nal.js';

export { annexBToLengthPrefixed, lengthPrefixedToAnnexB, splitAnnexB, splitLengthPrefixed, joinLengthPrefixed } from './nal.js';

export const H264Nal = { SLICE: 1, IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9, END_SEQ: 10, END_STREAM: 11, FILLER: 12 } as const;

export function h264NalType(nal: Uint8Array): number {
  return nal.length > 0 ? nal[0]! & 0x1f : -1;
}

export interface H264Sps {
  profileIdc: number;
  /** constraint_set0..5 flags byte, as avcC wants it. */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** Displayed size, after frame cropping. */
  width: number;
  height: number;
  frameMbsOnly: boolean;
  /** From VUI timing (time_scale / 2·num_units_in_tick), when the encoder wrote it. */
  fps?: number;
  /** Sample aspect ratio from VUI, when present. */
  sar?: [number, number];
}

// Profiles whose SPS carries chroma format, bit depths and scaling matrices.
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);
// Table E-1 sample aspect ratios, index = aspect_ratio_idc.
const SAR: [number, number][] = [[0, 0], [1, 1], [12, 11], [10, 11], [16, 11], [40, 33], [24, 11], [20, 11], [32, 11], [80, 33], [18, 11], [15, 11], [64, 33], [160, 99], [4, 3], [3, 2], [2, 1]];

/** Parses an SPS NAL unit (with its 1-byte header). Throws MediaFormatError on anything malformed. */
export function parseH264Sps(nal: Uint8Array): H264Sps {
  check(h264NalType(nal) === H264Nal.SPS, `not an H.264 SPS (NAL type ${h264NalType(nal)})`);
  const r = new BitReader(unescapeRbsp(nal.subarray(1)), 'H.264 SPS');
  const profileIdc = r.bits(8);
  const constraintFlags = r.bits(8);
  const levelIdc = r.bits(8);
  const spsId = r.ueMax(31, 'seq_parameter_set_id');
  let chromaFormatIdc = 1;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ueMax(3, 'chroma_format_idc');
    if (chromaFormatIdc === 3) separateColourPlane = r.flag();
    bitDepthLuma = 8 + r.ueMax(6, 'bit_depth_luma_minus8');
    bitDepthChroma = 8 + r.ueMax(6, 'bit_depth_chroma_minus8');
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      for (let i = 0; i < (chromaFormatIdc !== 3 ? 8 : 12); i++) if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  r.ueMax(12, 'log2_max_frame_num_minus4');
  const pocType = r.ueMax(2, 'pic_order_cnt_type');
  if (pocType === 0) r.ueMax(12, 'log2_max_pic_order_cnt_lsb_minus4');
  else if (pocType === 1) {
    r.skip(1);
    r.se();
    r.se();
    const cycle = r.ueMax(255, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ueMax(32, 'max_num_ref_frames');
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ueMax(1023, 'pic_width_in_mbs_minus1') + 1;
  const heightMapUnits = r.ueMax(1023, 'pic_height_in_map_units_minus1') + 1;
  const frameMbsOnly = r.flag();
  if (!frameMbsOnly) r.skip(1); // mb_adaptive_frame_field_flag
  r.skip(1); // direct_8x8_inference_flag
  const codedW = widthMbs * 16;
  const codedH = heightMapUnits * 16 * (frameMbsOnly ? 1 : 2);
  let width = codedW;
  let height = codedH;
  if (r.flag()) {
    // Crop units depend on chroma subsampling (7.4.2.1.1, ChromaArrayType).
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const cropX = chromaArrayType === 0 ? 1 : chromaArrayType === 3 ? 1 : 2;
    const cropY = (chromaArrayType === 1 ? 2 : 1) * (frameMbsOnly ? 1 : 2);
    const [l, rt, t, b] = [r.ue(), r.ue(), r.ue(), r.ue()];
    width = codedW - cropX * (l + rt);
    height = codedH - cropY * (t + b);
    check(width > 0 && height > 0, `H.264 SPS: frame cropping (${l},${rt},${t},${b}) leaves nothing of ${codedW}x${codedH}`);
  }
  const sps: H264Sps = { profileIdc, constraintFlags, levelIdc, spsId, chromaFormatIdc, bitDepthLuma, bitDepthChroma, width, height, frameMbsOnly };
  if (r.flag()) readVui(r, sps);
  return sps;
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.se();
      check(delta >= -128 && delta <= 127, `H.264 SPS: delta_scale ${delta} is out of range`);
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/** Reads the VUI up to timing_info, which is all we need (SAR and frame rate). */
function readVui(r: BitReader, sps: H264Sps): void {
  if (r.flag()) {
    const idc = r.bits(8);
    if (idc === 255) {
      const w = r.bits(16);
      const h = r.bits(16);
      if (w > 0 && h > 0) sps.sar = [w, h];
    } else if (idc > 0 && idc < SAR.length) sps.sar = SAR[idc];
  }
  if (r.flag()) r.skip(1); // overscan
  if (r.flag()) {
    r.skip(4); // video_format, full_range
    if (r.flag()) r.skip(24); // colour description
  }
  if (r.flag()) {
    r.ue();
    r.ue(); // chroma sample locations
  }
  if (r.flag()) {
    const unitsInTick = r.bits(32);
    const timeScale = r.bits(32);
    if (unitsInTick > 0 && timeScale > 0) sps.fps = timeScale / (2 * unitsInTick);
  }
}

/** Builds the avcC box body (AVCDecoderConfigurationRecord) from SPS and PPS NAL units. */
export function buildAvcC(spsList: readonly Uint8Array[], ppsList: readonly Uint8Array[]): Uint8Array {
  check(spsList.length > 0, 'cannot build avcC: no SPS');
  check(ppsList.length > 0, 'cannot build avcC: no PPS');
  check(spsList.length <= 31, 'cannot build avcC: more than 31 SPS');
  check(ppsList.length <= 255, 'cannot build avcC: more than 255 PPS');
  const sps = parseH264Sps(spsList[0]!);
  for (const p of [...spsList, ...ppsList]) check(p.length <= 0xffff, 'cannot build avcC: parameter set larger than 64 KiB');
  const ext = [100, 110, 122, 144].includes(sps.profileIdc);
  const bytes: number[] = [1, sps.profileIdc, sps.constraintFlags, sps.levelIdc, 0xfc | 3, 0xe0 | spsList.length];
  const parts: (number[] | Uint8Array)[] = [bytes];
  for (const s of spsList) parts.push([s.length >> 8, s.length & 0xff], s);
  parts.push([ppsList.length]);
  for (const p of ppsList) parts.push([p.length >> 8, p.length & 0xff], p);
  if (ext) parts.push([0xfc | sps.chromaFormatIdc, 0xf8 | (sps.bitDepthLuma - 8), 0xf8 | (sps.bitDepthChroma - 8), 0]);
  return concat(parts);
}

export interface AvcC {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  lengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
}

/** Parses an avcC body back into its parameter sets. */
export function parseAvcC(body: Uint8Array): AvcC {
  const at = (i: number): number => {
    if (i >= body.length) throw new MediaFormatError('avcC is truncated');
    return body[i]!;
  };
  check(at(0) === 1, `avcC version ${body[0]} is not 1`);
  let p = 5;
  const sets = (count: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const len = at(p) * 256 + at(p + 1);
      p += 2;
      check(len > 0 && p + len <= body.length, 'avcC is truncated');
      out.push(body.subarray(p, p + len));
      p += len;
    }
    return out;
  };
  const sps = sets(at(p++) & 0x1f);
  const pps = sets(at(p++));
  return { profileIdc: at(1), constraintFlags: at(2), levelIdc: at(3), lengthSize: (at(4) & 3) + 1, sps, pps };
}

/** True when the NAL units (of one access unit) include an IDR slice. */
export function isH264Keyframe(nals: readonly Uint8Array[]): boolean {
  return nals.some((n) => h264NalType(n) === H264Nal.IDR);
}

export interface H264AccessUnit {
  sps: Uint8Array[];
  pps: Uint8Array[];
  /** Frame.data: length-prefixed, without SPS, PPS and access unit delimiters. */
  data: Uint8Array;
  keyframe: boolean;
}

/**
 * Takes one access unit (NAL units, or a length-prefixed buffer) apart into
 * its in-band parameter sets and the sample data the Frame contract wants.
 */
export function splitH264AccessUnit(au: readonly Uint8Array[] | Uint8Array): H264AccessUnit {
  const nals = au instanceof Uint8Array ? splitLengthPrefixed(au) : au;
  const sps: Uint8Array[] = [];
  const pps: Uint8Array[] = [];
  const rest: Uint8Array[] = [];
  for (const nal of nals) {
    const t = h264NalType(nal);
    if (t === H264Nal.SPS) sps.push(nal);
    else if (t === H264Nal.PPS) pps.push(nal);
    else if (t !== H264Nal.AUD && t !== H264Nal.FILLER && nal.length > 0) rest.push(nal);
  }
  return { sps, pps, data: joinLengthPrefixed(rest), keyframe: isH264Keyframe(rest) };
}

/**
 * Groups a NAL stream (e.g. splitAnnexB of an encoder's output) into access
 * units: a new one starts at an AUD/SPS/PPS/SEI or a slice with
 * first_mb_in_slice = 0 once the current one has a picture (7.4.1.2.3,
 * without arbitrary slice order, which no camera uses).
 */
export function h264AccessUnits(nals: Iterable<Uint8Array>): Uint8Array[][] {
  return groupAccessUnits(nals, (nal) => {
    const t = h264NalType(nal);
    if (t === H264Nal.SLICE || t === H264Nal.IDR) return nal.length > 1 && nal[1]! & 0x80 ? 'vcl-first' : 'vcl';
    if (t === H264Nal.AUD || t === H264Nal.SPS || t === H264Nal.PPS || t === H264Nal.SEI || (t >= 14 && t <= 18)) return 'prefix';
    return 'other';
  });
}
