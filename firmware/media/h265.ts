/**
 * H.265/HEVC specifics: NAL types, SPS parsing (size with conformance window,
 * profile/tier/level), the hvcC record MP4 needs, IRAP keyframes and
 * access-unit handling. Frame rate is not read: in HEVC the VUI sits behind
 * scaling lists and reference picture sets, and MP4 takes timing from the
 * frame times anyway.
 */
import { BitReader, unescapeRbsp } from './bits.js';
import { concat } from './bytes.js';
import { check, MediaFormatError } from './errors.js';
import { groupAccessUnits, joinLengthPrefixed, splitLengthPrefixed } from './nal.js';

export { annexBToLengthPrefixed, lengthPrefixedToAnnexB, splitAnnexB, splitLengthPrefixed, joinLengthPrefixed } from './nal.js';

export const H265Nal = { BLA_W_LP: 16, IDR_W_RADL: 19, IDR_N_LP: 20, CRA: 21, VPS: 32, SPS: 33, PPS: 34, AUD: 35, EOS: 36, EOB: 37, FD: 38, PREFIX_SEI: 39, SUFFIX_SEI: 40 } as const;

export function h265NalType(nal: Uint8Array): number {
  return nal.length > 0 ? (nal[0]! >> 1) & 0x3f : -1;
}

/** IRAP pictures (BLA, IDR, CRA and the reserved IRAP types 22-23): decoding can start here. */
export function isIrap(type: number): boolean {
  return type >= 16 && type <= 23;
}

export interface H265Sps {
  spsId: number;
  maxSubLayers: number;
  temporalIdNesting: boolean;
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  /** general_profile_compatibility_flags, 32 bits. */
  profileCompatibility: number;
  /** general constraint indicator flags, 6 bytes. */
  constraintIndicator: Uint8Array;
  levelIdc: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** Displayed size, after the conformance window. */
  width: number;
  height: number;
}

/** Parses an SPS NAL unit (with its 2-byte header) up to the bit depths. Throws MediaFormatError when malformed. */
export function parseH265Sps(nal: Uint8Array): H265Sps {
  check(h265NalType(nal) === H265Nal.SPS, `not an H.265 SPS (NAL type ${h265NalType(nal)})`);
  const rbsp = unescapeRbsp(nal.subarray(2));
  const r = new BitReader(rbsp, 'H.265 SPS');
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayers = r.bits(3) + 1;
  check(maxSubLayers <= 7, `H.265 SPS: sps_max_sub_layers_minus1 ${maxSubLayers - 1} is out of range`);
  const temporalIdNesting = r.flag();
  // profile_tier_level(1, max_sub_layers_minus1), 7.3.3
  const profileSpace = r.bits(2);
  const tierFlag = r.bit();
  const profileIdc = r.bits(5);
  const profileCompatibility = r.bits(32);
  check(rbsp.length >= 12, 'H.265 SPS is truncated');
  const constraintIndicator = rbsp.slice(6, 12);
  r.skip(48);
  const levelIdc = r.bits(8);
  const subProfile: boolean[] = [];
  const subLevel: boolean[] = [];
  for (let i = 0; i < maxSubLayers - 1; i++) {
    subProfile.push(r.flag());
    subLevel.push(r.flag());
  }
  if (maxSubLayers > 1) r.skip(2 * (9 - maxSubLayers)); // reserved_zero_2bits up to 8 sub-layers
  for (let i = 0; i < maxSubLayers - 1; i++) {
    if (subProfile[i]) r.skip(88);
    if (subLevel[i]) r.skip(8);
  }
  const spsId = r.ueMax(15, 'sps_seq_parameter_set_id');
  const chromaFormatIdc = r.ueMax(3, 'chroma_format_idc');
  const separateColourPlane = chromaFormatIdc === 3 ? r.flag() : false;
  const codedW = r.ueMax(16888, 'pic_width_in_luma_samples');
  const codedH = r.ueMax(16888, 'pic_height_in_luma_samples');
  check(codedW > 0 && codedH > 0, `H.265 SPS: picture size ${codedW}x${codedH} is empty`);
  let width = codedW;
  let height = codedH;
  if (r.flag()) {
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
    const subW = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subH = chromaArrayType === 1 ? 2 : 1;
    const [l, rt, t, b] = [r.ue(), r.ue(), r.ue(), r.ue()];
    width = codedW - subW * (l + rt);
    height = codedH - subH * (t + b);
    check(width > 0 && height > 0, `H.265 SPS: conformance window (${l},${rt},${t},${b}) leaves nothing of ${codedW}x${codedH}`);
  }
  const bitDepthLuma = 8 + r.ueMax(8, 'bit_depth_luma_minus8');
  const bitDepthChroma = 8 + r.ueMax(8, 'bit_depth_chroma_minus8');
  return { spsId, maxSubLayers, temporalIdNesting, profileSpace, tierFlag, profileIdc, profileCompatibility, constraintIndicator, levelIdc, chromaFormatIdc, bitDepthLuma, bitDepthChroma, width, height };
}

/** Builds the hvcC box body (HEVCDecoderConfigurationRecord, ISO/IEC 14496-15 8.3.3) from VPS, SPS and PPS NAL units. */
export function buildHvcC(vps: readonly Uint8Array[], spsList: readonly Uint8Array[], pps: readonly Uint8Array[]): Uint8Array {
  check(vps.length > 0, 'cannot build hvcC: no VPS');
  check(spsList.length > 0, 'cannot build hvcC: no SPS');
  check(pps.length > 0, 'cannot build hvcC: no PPS');
  const s = parseH265Sps(spsList[0]!);
  const pc = s.profileCompatibility;
  const head = [
    1,
    (s.profileSpace << 6) | (s.tierFlag << 5) | s.profileIdc,
    (pc >>> 24) & 0xff, (pc >>> 16) & 0xff, (pc >>> 8) & 0xff, pc & 0xff,
    ...s.constraintIndicator,
    s.levelIdc,
    0xf0, 0x00, // reserved + min_spatial_segmentation_idc 0 (unknown)
    0xfc, // reserved + parallelismType 0 (unknown)
    0xfc | s.chromaFormatIdc,
    0xf8 | (s.bitDepthLuma - 8),
    0xf8 | (s.bitDepthChroma - 8),
    0, 0, // avgFrameRate unknown
    (s.maxSubLayers << 3) | (s.temporalIdNesting ? 4 : 0) | 3, // constantFrameRate 0, lengthSizeMinusOne 3
    3, // numOfArrays
  ];
  const parts: ArrayLike<number>[] = [head];
  for (const [type, list] of [[H265Nal.VPS, vps], [H265Nal.SPS, spsList], [H265Nal.PPS, pps]] as const) {
    check(list.length <= 0xffff, 'cannot build hvcC: too many parameter sets');
    parts.push([0x80 | type, list.length >> 8, list.length & 0xff]); // array_completeness = 1: all in here, none in-band
    for (const nal of list) {
      check(nal.length <= 0xffff, 'cannot build hvcC: parameter set larger than 64 KiB');
      parts.push([nal.length >> 8, nal.length & 0xff], nal);
    }
  }
  return concat(parts);
}

export interface HvcC {
  profileIdc: number;
  levelIdc: number;
  lengthSize: number;
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
}

/** Parses an hvcC body back into its parameter sets. */
export function parseHvcC(body: Uint8Array): HvcC {
  const at = (i: number): number => {
    if (i >= body.length) throw new MediaFormatError('hvcC is truncated');
    return body[i]!;
  };
  check(at(0) === 1, `hvcC version ${body[0]} is not 1`);
  const out: HvcC = { profileIdc: at(1) & 0x1f, levelIdc: at(12), lengthSize: (at(21) & 3) + 1, vps: [], sps: [], pps: [] };
  const arrays = at(22);
  let p = 23;
  for (let a = 0; a < arrays; a++) {
    const type = at(p) & 0x3f;
    const count = at(p + 1) * 256 + at(p + 2);
    p += 3;
    for (let i = 0; i < count; i++) {
      const len = at(p) * 256 + at(p + 1);
      p += 2;
      check(len > 0 && p + len <= body.length, 'hvcC is truncated');
      const nal = body.subarray(p, p + len);
      p += len;
      if (type === H265Nal.VPS) out.vps.push(nal);
      else if (type === H265Nal.SPS) out.sps.push(nal);
      else if (type === H265Nal.PPS) out.pps.push(nal);
    }
  }
  return out;
}

/** True when the access unit's NAL units include an IRAP picture. */
export function isH265Keyframe(nals: readonly Uint8Array[]): boolean {
  return nals.some((n) => isIrap(h265NalType(n)));
}

export interface H265AccessUnit {
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
  /** Frame.data: length-prefixed, without parameter sets and delimiters. */
  data: Uint8Array;
  keyframe: boolean;
}

/** Takes one access unit apart into its in-band parameter sets and the Frame sample data. */
export function splitH265AccessUnit(au: readonly Uint8Array[] | Uint8Array): H265AccessUnit {
  const nals = au instanceof Uint8Array ? splitLengthPrefixed(au) : au;
  const out: H265AccessUnit = { vps: [], sps: [], pps: [], data: new Uint8Array(0), keyframe: false };
  const rest: Uint8Array[] = [];
  for (const nal of nals) {
    const t = h265NalType(nal);
    if (t === H265Nal.VPS) out.vps.push(nal);
    else if (t === H265Nal.SPS) out.sps.push(nal);
    else if (t === H265Nal.PPS) out.pps.push(nal);
    else if (t !== H265Nal.AUD && t !== H265Nal.FD && nal.length > 1) rest.push(nal);
  }
  out.data = joinLengthPrefixed(rest);
  out.keyframe = isH265Keyframe(rest);
  return out;
}

/**
 * Groups a NAL stream into access units (7.4.2.4.4): a new one starts at
 * AUD/VPS/SPS/PPS/prefix SEI or a slice with first_slice_segment_in_pic_flag
 * once the current one has a picture. Only the base layer is considered.
 */
export function h265AccessUnits(nals: Iterable<Uint8Array>): Uint8Array[][] {
  return groupAccessUnits(nals, (nal) => {
    const t = h265NalType(nal);
    if (t >= 0 && t <= 31) return nal.length > 2 && nal[2]! & 0x80 ? 'vcl-first' : 'vcl';
    if ((t >= 32 && t <= 35) || t === H265Nal.PREFIX_SEI || (t >= 41 && t <= 44) || (t >= 48 && t <= 55)) return 'prefix';
    return 'other';
  });
}
