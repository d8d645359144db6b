// 2:1 downscaling (main stream -> sub stream from one capture) and YUYV
// conversion. The 2x2 box filter runs in libyuv (Debian libyuv0, SIMD on
// x86 and NEON on ARM) when it loads: per D1 frame it costs a few tens of
// microseconds there against ~0.4 ms in JavaScript, which is most of the
// firmware's own per-frame work (scripts/bench/dvr-channel.ts). libyuv's
// ScalePlane/UVScale round exactly like halvePlane ((a+b+c+d+2)>>2), so the
// JavaScript loop below is a byte-identical fallback for hosts without it.
import { koffi } from '../libc/index.js';
import { EncoderError } from './errors.js';
import { rawFrameSize, resolvePlanes } from './raw.js';
import type { RawFormat, RawPicture } from './types.js';

/**
 * Halves one plane: dst[x, y] = average of the 2x2 block at (2x, 2y), per
 * channel. `channels` is 2 for interleaved NV12 chroma (U and V kept apart).
 */
function halvePlane(
  src: Uint8Array,
  srcStride: number,
  dst: Uint8Array,
  dstOffset: number,
  dstWidthBytes: number,
  dstHeight: number,
  channels: 1 | 2,
): void {
  let o = dstOffset;
  for (let y = 0; y < dstHeight; y++) {
    let a = 2 * y * srcStride;
    let b = a + srcStride;
    if (channels === 1) {
      for (let x = 0; x < dstWidthBytes; x++, a += 2, b += 2) {
        dst[o++] = (src[a]! + src[a + 1]! + src[b]! + src[b + 1]! + 2) >> 2;
      }
    } else {
      for (let x = 0; x < dstWidthBytes; x += 2, a += 4, b += 4) {
        dst[o++] = (src[a]! + src[a + 2]! + src[b]! + src[b + 2]! + 2) >> 2;
        dst[o++] = (src[a + 1]! + src[a + 3]! + src[b + 1]! + src[b + 3]! + 2) >> 2;
      }
    }
  }
}

type Fn = (...args: unknown[]) => number;
const FILTER_BOX = 3; // libyuv enum FilterMode kFilterBox
let libyuv: { scalePlane: Fn; uvScale: Fn } | null | undefined;

/** libyuv's scalers, or null when the library is not installed. Loaded once. */
function yuvScalers(): { scalePlane: Fn; uvScale: Fn } | null {
  if (libyuv !== undefined) return libyuv;
  try {
    const lib = koffi().load('libyuv.so.0');
    libyuv = {
      scalePlane: lib.func('int ScalePlane(const void *src, int srcStride, int srcWidth, int srcHeight, void *dst, int dstStride, int dstWidth, int dstHeight, int filtering)') as Fn,
      uvScale: lib.func('int UVScale(const void *src, int srcStride, int srcWidth, int srcHeight, void *dst, int dstStride, int dstWidth, int dstHeight, int filtering)') as Fn,
    };
  } catch {
    libyuv = null;
  }
  return libyuv;
}

/** Which implementation downscale2x() uses on this host: 'libyuv' or 'js'. */
export function scalerEngine(): 'libyuv' | 'js' {
  return yuvScalers() ? 'libyuv' : 'js';
}

/** halvePlane through libyuv: `widthUnits` is bytes for luma, UV pairs for NV12 chroma. */
function halveNative(yuv: { scalePlane: Fn; uvScale: Fn }, src: Uint8Array, srcStride: number, dst: Uint8Array, widthUnits: number, height: number, channels: 1 | 2): void {
  const scale = channels === 1 ? yuv.scalePlane : yuv.uvScale;
  const rc = scale(src, srcStride, widthUnits * 2, height * 2, dst, widthUnits * channels, widthUnits, height, FILTER_BOX);
  if (rc !== 0) throw new EncoderError('BACKEND', `downscale2x: libyuv returned ${rc}`);
}

/** Format of downscale2x()'s output for an input format (yuyv comes out as yuv420p). */
export function downscaledFormat(format: RawFormat): RawFormat {
  return format === 'yuyv' ? 'yuv420p' : format;
}

/**
 * Halves a picture in both directions with a 2x2 box filter: nv12 -> nv12,
 * yuv420p -> yuv420p, yuyv -> yuv420p. Width and height must be multiples of 4.
 * Writes into `out` when given (exactly the output size), else allocates.
 */
export function downscale2x(raw: RawPicture, format: RawFormat, width: number, height: number, out?: Uint8Array, engine: 'auto' | 'js' = 'auto'): Uint8Array {
  if (width % 4 !== 0 || height % 4 !== 0) {
    throw new EncoderError('BAD_INPUT', `downscale2x: ${width}x${height} is not a multiple of 4 in both directions`);
  }
  const { planes, strides } = resolvePlanes(raw, format, width, height);
  const w = width / 2;
  const h = height / 2;
  const outFormat = downscaledFormat(format);
  const size = rawFrameSize(outFormat, w, h);
  if (out && out.length !== size) throw new EncoderError('BAD_INPUT', `downscale2x: output must be ${size} bytes, got ${out.length}`);
  const dst = out ?? new Uint8Array(size);
  const yuv = engine === 'auto' && format !== 'yuyv' ? yuvScalers() : null;
  if (yuv) {
    halveNative(yuv, planes[0]!, strides[0]!, dst.subarray(0, w * h), w, h, 1);
    if (format === 'nv12') {
      halveNative(yuv, planes[1]!, strides[1]!, dst.subarray(w * h), w / 2, h / 2, 2);
    } else {
      halveNative(yuv, planes[1]!, strides[1]!, dst.subarray(w * h, w * h + (w * h) / 4), w / 2, h / 2, 1);
      halveNative(yuv, planes[2]!, strides[2]!, dst.subarray(w * h + (w * h) / 4), w / 2, h / 2, 1);
    }
    return dst;
  }
  switch (format) {
    case 'nv12':
      halvePlane(planes[0]!, strides[0]!, dst, 0, w, h, 1);
      halvePlane(planes[1]!, strides[1]!, dst, w * h, w, h / 2, 2);
      break;
    case 'yuv420p':
      halvePlane(planes[0]!, strides[0]!, dst, 0, w, h, 1);
      halvePlane(planes[1]!, strides[1]!, dst, w * h, w / 2, h / 2, 1);
      halvePlane(planes[2]!, strides[2]!, dst, w * h + (w * h) / 4, w / 2, h / 2, 1);
      break;
    case 'yuyv':
      yuyvHalveToI420(planes[0]!, strides[0]!, dst, w, h);
      break;
  }
  return dst;
}

// YUYV (Y0 U Y1 V per 2 pixels) -> I420 at half size: luma is the 2x2 box
// average; chroma of output pixel pair (x, x+1) averages the 2 input rows'
// U (V) samples over 4 input pixels: the 2 macropixels of each row.
function yuyvHalveToI420(src: Uint8Array, stride: number, dst: Uint8Array, w: number, h: number): void {
  const uBase = w * h;
  const vBase = uBase + (w * h) / 4;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * stride;
    const r1 = r0 + stride;
    let o = y * w;
    for (let x = 0, a = r0, b = r1; x < w; x++, a += 4, b += 4) {
      dst[o++] = (src[a]! + src[a + 2]! + src[b]! + src[b + 2]! + 2) >> 2;
    }
    if (y % 2 === 0) {
      // Chroma rows: output chroma (h/2 rows) samples input rows 4y'..4y'+1.
      let c = (y / 2) * (w / 2);
      for (let x = 0, a = r0, b = r1; x < w / 2; x++, a += 8, b += 8, c++) {
        dst[uBase + c] = (src[a + 1]! + src[a + 5]! + src[b + 1]! + src[b + 5]! + 2) >> 2;
        dst[vBase + c] = (src[a + 3]! + src[a + 7]! + src[b + 3]! + src[b + 7]! + 2) >> 2;
      }
    }
  }
}

/**
 * YUYV 4:2:2 packed -> I420 (yuv420p) at the same size: luma copied, chroma
 * averaged over each pair of lines. Writes into `out` when given.
 */
export function yuyvToI420(raw: RawPicture, width: number, height: number, out?: Uint8Array): Uint8Array {
  if (width % 2 !== 0 || height % 2 !== 0) throw new EncoderError('BAD_INPUT', `yuyvToI420: ${width}x${height} is not even`);
  const { planes, strides } = resolvePlanes(raw, 'yuyv', width, height);
  const src = planes[0]!;
  const stride = strides[0]!;
  const size = rawFrameSize('yuv420p', width, height);
  if (out && out.length !== size) throw new EncoderError('BAD_INPUT', `yuyvToI420: output must be ${size} bytes, got ${out.length}`);
  const dst = out ?? new Uint8Array(size);
  const uBase = width * height;
  const vBase = uBase + uBase / 4;
  const cw = width / 2;
  for (let y = 0; y < height; y += 2) {
    const r0 = y * stride;
    const r1 = r0 + stride;
    let o0 = y * width;
    let o1 = o0 + width;
    let c = (y / 2) * cw;
    for (let x = 0, a = r0, b = r1; x < cw; x++, a += 4, b += 4, c++) {
      dst[o0++] = src[a]!;
      dst[o0++] = src[a + 2]!;
      dst[o1++] = src[b]!;
      dst[o1++] = src[b + 2]!;
      dst[uBase + c] = (src[a + 1]! + src[b + 1]! + 1) >> 1;
      dst[vBase + c] = (src[a + 3]! + src[b + 3]! + 1) >> 1;
    }
  }
  return dst;
}
