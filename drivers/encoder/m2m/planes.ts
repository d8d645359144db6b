// Writing a raw picture into a single-planar V4L2 OUTPUT buffer at the
// driver's line pitch: the one copy between the caller's picture and the
// encoder. Pure functions, no device.
import { EncoderError } from '../errors.js';
import type { ResolvedPlanes } from '../raw.js';
import type { RawFormat } from '../types.js';

/** The part of a V4L2 Format this needs: line pitch of the first plane, buffer size. */
export interface OutputGeometry {
  planes: { bytesperline: number; sizeimage: number }[];
}

/**
 * Plane layout inside one V4L2 buffer: Y at pitch `bpl`, then the chroma
 * planes right after height lines (NV12: interleaved UV at the same pitch;
 * YU12: U then V at half the pitch), as the single-planar formats define it.
 */
export function bufferLayout(format: RawFormat, width: number, height: number, bpl: number): { offset: number; stride: number; lineBytes: number; rows: number }[] {
  if (format === 'yuyv') return [{ offset: 0, stride: bpl, lineBytes: width * 2, rows: height }];
  const y = { offset: 0, stride: bpl, lineBytes: width, rows: height };
  if (format === 'nv12') return [y, { offset: bpl * height, stride: bpl, lineBytes: width, rows: height / 2 }];
  const c = bpl / 2;
  return [
    y,
    { offset: bpl * height, stride: c, lineBytes: width / 2, rows: height / 2 },
    { offset: bpl * height + c * (height / 2), stride: c, lineBytes: width / 2, rows: height / 2 },
  ];
}

/**
 * Copies `src` into `dst` (the mmap()ed OUTPUT buffer) line by line, or in
 * one block per plane when the pitches match. Returns the bytes used.
 * Throws BAD_INPUT if the driver's buffer is too small for the picture.
 */
export function copyIntoBuffer(src: ResolvedPlanes, format: RawFormat, width: number, height: number, fmt: OutputGeometry, dst: Uint8Array): number {
  const minBpl = format === 'yuyv' ? width * 2 : width;
  const bpl = Math.max(fmt.planes[0]?.bytesperline || 0, minBpl);
  const layout = bufferLayout(format, width, height, bpl);
  const last = layout[layout.length - 1]!;
  const used = last.offset + last.stride * last.rows;
  if (used > dst.length) throw new EncoderError('BAD_INPUT', `v4l2-m2m: the driver's buffer holds ${dst.length} bytes, a ${width}x${height} ${format} picture needs ${used}`);
  layout.forEach((p, i) => {
    const plane = src.planes[i]!;
    const stride = src.strides[i]!;
    if (stride === p.stride && p.lineBytes === p.stride) {
      dst.set(plane.subarray(0, p.stride * p.rows), p.offset);
      return;
    }
    for (let r = 0; r < p.rows; r++) dst.set(plane.subarray(r * stride, r * stride + p.lineBytes), p.offset + r * p.stride);
  });
  return used;
}

/** 25, '25', '30000/1001', 29.97 -> { num, den }; null if not a positive rate. */
export function parseFps(fps: number | string): { num: number; den: number } | null {
  if (typeof fps === 'number') {
    if (!(fps > 0) || !Number.isFinite(fps)) return null;
    return Number.isInteger(fps) ? { num: fps, den: 1 } : { num: Math.round(fps * 1000), den: 1000 };
  }
  const m = /^\s*(\d+)(?:\s*\/\s*(\d+))?\s*$/.exec(String(fps));
  if (!m) return null;
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  return num > 0 && den > 0 ? { num, den } : null;
}
