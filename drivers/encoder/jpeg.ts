// JPEG snapshots through libturbojpeg (Debian libturbojpeg0; the TurboJPEG 2
// API: Debian 12 ships 2.1.5, which has no tj3* functions). The planes go to
// tjCompressFromYUVPlanes(): nv12 has its chroma split into U and V, yuyv is
// converted to I420, and (by default) the samples are expanded from video to
// full range as JFIF expects; with fullRange: false yuv420p goes in uncopied.
import { koffi } from '../libc/index.js';
import { EncoderError } from './errors.js';
import { RAW_FORMATS, resolvePlanes } from './raw.js';
import { yuyvToI420 } from './scale.js';
import type { RawFormat, RawPicture } from './types.js';

type Fn = ((...args: any[]) => any) & { async: (...args: any[]) => void };

interface TurboJpeg {
  library: string;
  tjInitCompress: Fn;
  tjCompressFromYUVPlanes: Fn;
  tjBufSize: Fn;
  tjGetErrorStr2: Fn;
  tjDestroy: Fn;
}

const TJSAMP_420 = 2;
const TJFLAG_NOREALLOC = 1024;

let bound: TurboJpeg | undefined;

function turbojpeg(): TurboJpeg {
  if (bound) return bound;
  const k = koffi();
  const failures: string[] = [];
  for (const name of ['libturbojpeg.so.0', 'libturbojpeg.so']) {
    try {
      const lib = k.load(name);
      bound = {
        library: name,
        tjInitCompress: lib.func('void *tjInitCompress(void)') as Fn,
        tjCompressFromYUVPlanes: lib.func(
          'int tjCompressFromYUVPlanes(void *handle, void *srcPlanes, int width, void *strides, int height, int subsamp, void *jpegBuf, void *jpegSize, int jpegQual, int flags)',
        ) as Fn,
        tjBufSize: lib.func('unsigned long tjBufSize(int width, int height, int jpegSubsamp)') as Fn,
        tjGetErrorStr2: lib.func('const char *tjGetErrorStr2(void *handle)') as Fn,
        tjDestroy: lib.func('int tjDestroy(void *handle)') as Fn,
      };
      return bound;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new EncoderError('UNSUPPORTED', `jpeg: cannot load libturbojpeg (Debian: libturbojpeg0): ${failures.join('; ')}`);
}

export interface JpegOptions {
  /** 1-100, default 85. */
  quality?: number;
  /**
   * JFIF means full-range YCbCr (0-255); capture is video range (Y 16-235,
   * chroma 16-240). true (default) expands the range on the way (one pass
   * over the picture), so viewers show true blacks and whites; false passes
   * the samples through untouched.
   */
  fullRange?: boolean;
}

// Video range -> full range lookup tables.
const LUMA = Uint8Array.from({ length: 256 }, (_, v) => Math.min(255, Math.max(0, Math.round(((v - 16) * 255) / 219))));
const CHROMA = Uint8Array.from({ length: 256 }, (_, v) => Math.min(255, Math.max(0, Math.round(((v - 128) * 255) / 224 + 128))));

function mapPlane(src: Uint8Array, stride: number, width: number, height: number, lut: Uint8Array, dst: Uint8Array): void {
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0, a = y * stride; x < width; x++) dst[o++] = lut[src[a++]!]!;
  }
}

/**
 * One TurboJPEG compressor, reusable for any size and format. Not safe for
 * two calls at once: await compressAsync() before the next call.
 */
export class JpegEncoder {
  private lib: TurboJpeg | undefined;
  private handle: unknown;
  private closed = false;
  private busy = false;
  private out = new Uint8Array(0);
  private scratch = new Uint8Array(0);
  private ranged = new Uint8Array(0);
  private readonly pointerSize: number;
  // Pointer arrays and out-parameters, off V8's heap (see x264/encoder.ts).
  private readonly mem = new ArrayBuffer(128);
  private readonly view = new DataView(this.mem);
  private readonly planesPtr = new Uint8Array(this.mem, 0, 32);
  private readonly stridesPtr = new Uint8Array(this.mem, 32, 16);
  private readonly bufPtr = new Uint8Array(this.mem, 48, 8);
  private readonly sizePtr = new Uint8Array(this.mem, 64, 8);

  constructor() {
    this.pointerSize = koffi().sizeof('void *');
  }

  private setPointer(offset: number, value: bigint): void {
    if (this.pointerSize === 8) this.view.setBigUint64(offset, value, true);
    else this.view.setUint32(offset, Number(value), true);
  }

  /** Fills the argument block; returns the arguments and the buffers to keep alive. */
  private prepare(raw: RawPicture, format: RawFormat, width: number, height: number, options: JpegOptions): unknown[] {
    if (this.closed) throw new EncoderError('CLOSED', 'jpeg: encoder is closed');
    if (this.busy) throw new EncoderError('BAD_INPUT', 'jpeg: a compressAsync() is still running');
    if (!RAW_FORMATS.includes(format)) throw new EncoderError('BAD_CONFIG', `jpeg: format must be one of ${RAW_FORMATS.join(', ')}, got '${String(format)}'`, 'format');
    for (const [key, v] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(v) || v <= 0 || v % 2 !== 0 || v > 16384) throw new EncoderError('BAD_CONFIG', `jpeg: ${key} must be an even integer from 2 to 16384, got ${v}`, key);
    }
    const quality = options.quality ?? 85;
    if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new EncoderError('BAD_CONFIG', `jpeg: quality must be 1-100, got ${quality}`, 'quality');
    let { planes, strides } = resolvePlanes(raw, format, width, height);
    const chroma = (width / 2) * (height / 2);
    if (format === 'nv12') {
      if (this.scratch.length < 2 * chroma) this.scratch = new Uint8Array(2 * chroma);
      const uv = planes[1]!;
      const u = this.scratch.subarray(0, chroma);
      const v = this.scratch.subarray(chroma, 2 * chroma);
      const cw = width / 2;
      for (let y = 0, o = 0; y < height / 2; y++) {
        for (let x = 0, a = y * strides[1]!; x < cw; x++, a += 2, o++) {
          u[o] = uv[a]!;
          v[o] = uv[a + 1]!;
        }
      }
      planes = [planes[0]!, u, v];
      strides = [strides[0]!, cw, cw];
    } else if (format === 'yuyv') {
      const size = width * height + 2 * chroma;
      if (this.scratch.length < size) this.scratch = new Uint8Array(size);
      const i420 = yuyvToI420({ planes, strides }, width, height, this.scratch.subarray(0, size));
      ({ planes, strides } = resolvePlanes(i420, 'yuv420p', width, height));
    }
    if (options.fullRange !== false) {
      const size = width * height + 2 * chroma;
      if (this.ranged.length < size) this.ranged = new Uint8Array(size);
      const y = this.ranged.subarray(0, width * height);
      const u = this.ranged.subarray(width * height, width * height + chroma);
      const v = this.ranged.subarray(width * height + chroma, size);
      mapPlane(planes[0]!, strides[0]!, width, height, LUMA, y);
      mapPlane(planes[1]!, strides[1]!, width / 2, height / 2, CHROMA, u);
      mapPlane(planes[2]!, strides[2]!, width / 2, height / 2, CHROMA, v);
      planes = [y, u, v];
      strides = [width, width / 2, width / 2];
    }
    this.lib ??= turbojpeg();
    if (!this.handle) {
      this.handle = this.lib.tjInitCompress();
      if (!this.handle) throw new EncoderError('BACKEND', 'jpeg: tjInitCompress failed');
    }
    const bound = Number(this.lib.tjBufSize(width, height, TJSAMP_420));
    if (this.out.length < bound) this.out = new Uint8Array(bound);
    const k = koffi();
    planes.forEach((p, i) => {
      this.setPointer(i * this.pointerSize, k.address(p));
      this.view.setInt32(32 + 4 * i, strides[i]!, true);
    });
    this.setPointer(48, k.address(this.out));
    this.setPointer(64, BigInt(this.out.length)); // unsigned long: pointer-sized on Linux
    return [this.handle, this.planesPtr, width, this.stridesPtr, height, TJSAMP_420, this.bufPtr, this.sizePtr, quality, TJFLAG_NOREALLOC, planes];
  }

  private result(rc: number): Uint8Array {
    if (rc !== 0) throw new EncoderError('BACKEND', `jpeg: tjCompressFromYUVPlanes failed: ${this.lib!.tjGetErrorStr2(this.handle)}`);
    const size = this.pointerSize === 8 ? Number(this.view.getBigUint64(64, true)) : this.view.getUint32(64, true);
    return this.out.slice(0, size);
  }

  /** Compresses one picture to a baseline 4:2:0 JPEG on the calling thread (~ms for D1). */
  compress(raw: RawPicture, format: RawFormat, width: number, height: number, options: JpegOptions = {}): Uint8Array {
    const args = this.prepare(raw, format, width, height, options);
    return this.result(this.lib!.tjCompressFromYUVPlanes(...args.slice(0, 10)) as number);
  }

  /** Same as compress(), run on koffi's async pool (libjpeg-turbo's stack use is small; README). */
  compressAsync(raw: RawPicture, format: RawFormat, width: number, height: number, options: JpegOptions = {}): Promise<Uint8Array> {
    let args: unknown[];
    try {
      args = this.prepare(raw, format, width, height, options);
    } catch (err) {
      return Promise.reject(err);
    }
    this.busy = true;
    return new Promise((resolve, reject) => {
      this.lib!.tjCompressFromYUVPlanes.async(...args.slice(0, 10), (err: unknown, rc: number) => {
        this.busy = false;
        void args; // keeps the planes alive until here
        if (err) reject(err);
        else {
          try {
            resolve(this.result(rc));
          } catch (e) {
            reject(e);
          }
        }
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.handle && this.lib) this.lib.tjDestroy(this.handle);
    this.handle = undefined;
  }
}
