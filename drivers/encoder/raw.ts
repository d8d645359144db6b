// Raw picture geometry and validation shared by the backends and the JPEG encoder.
import { EncoderError } from './errors.js';
import type { RawFormat, RawPicture } from './types.js';

export const RAW_FORMATS: readonly RawFormat[] = ['nv12', 'yuv420p', 'yuyv'];

/** Bytes of one contiguous picture without line padding. */
export function rawFrameSize(format: RawFormat, width: number, height: number): number {
  return format === 'yuyv' ? width * height * 2 : (width * height * 3) / 2;
}

export interface ResolvedPlanes {
  planes: Uint8Array[];
  strides: number[];
}

/** Planes and strides of a raw picture, checked against the format and size. Throws BAD_INPUT. */
export function resolvePlanes(raw: RawPicture, format: RawFormat, width: number, height: number): ResolvedPlanes {
  if (raw instanceof Uint8Array) {
    const expected = rawFrameSize(format, width, height);
    if (raw.length !== expected) {
      throw new EncoderError(
        'BAD_INPUT',
        `raw ${format} ${width}x${height} picture must be ${expected} bytes, got ${raw.length}`,
      );
    }
    const y = width * height;
    switch (format) {
      case 'nv12':
        return { planes: [raw.subarray(0, y), raw.subarray(y)], strides: [width, width] };
      case 'yuv420p':
        return {
          planes: [raw.subarray(0, y), raw.subarray(y, y + y / 4), raw.subarray(y + y / 4)],
          strides: [width, width / 2, width / 2],
        };
      case 'yuyv':
        return { planes: [raw], strides: [width * 2] };
    }
  }
  if (!raw || !Array.isArray(raw.planes) || !Array.isArray(raw.strides)) {
    throw new EncoderError('BAD_INPUT', 'raw picture must be a Uint8Array or { planes, strides }');
  }
  const shape: [number, number][] =
    format === 'nv12'
      ? [[width, height], [width, height / 2]]
      : format === 'yuv420p'
        ? [[width, height], [width / 2, height / 2], [width / 2, height / 2]]
        : [[width * 2, height]];
  if (raw.planes.length !== shape.length || raw.strides.length !== shape.length) {
    throw new EncoderError('BAD_INPUT', `raw ${format} picture needs ${shape.length} planes and strides, got ${raw.planes.length}`);
  }
  shape.forEach(([lineBytes, rows], i) => {
    const stride = raw.strides[i]!;
    const plane = raw.planes[i]!;
    if (!Number.isInteger(stride) || stride < lineBytes) {
      throw new EncoderError('BAD_INPUT', `raw ${format} plane ${i}: stride ${stride} is less than ${lineBytes} bytes per line`);
    }
    const need = stride * (rows - 1) + lineBytes;
    if (!(plane instanceof Uint8Array) || plane.length < need) {
      throw new EncoderError('BAD_INPUT', `raw ${format} plane ${i} must hold at least ${need} bytes, got ${plane?.length}`);
    }
  });
  return { planes: raw.planes, strides: raw.strides };
}
