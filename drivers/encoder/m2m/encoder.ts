// The 'v4l2-m2m' encoder backend: a stateful V4L2 memory-to-memory encoder
// (Hantro, Venus, bcm2835-codec, ... and vicodec on the virtual board) driven
// through drivers/v4l2 M2mDevice, behind the same Encoder interface as x264.
//
// One copy per picture: the raw planes are written into the driver's mmap()ed
// OUTPUT buffer (at the driver's line pitch). Coded bytes are copied once out
// of the CAPTURE buffer, which is queued back at once.
import { SysError } from '../../libc/index.js';
import {
  M2mDevice,
  V4L2_CID_MPEG_VIDEO_BITRATE,
  V4L2_CID_MPEG_VIDEO_BITRATE_MODE,
  V4L2_CID_MPEG_VIDEO_BITRATE_PEAK,
  V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME,
  V4L2_CID_MPEG_VIDEO_GOP_SIZE,
  V4L2_CID_MPEG_VIDEO_H264_I_PERIOD,
  V4L2_CID_MPEG_VIDEO_H264_PROFILE,
  V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER,
  V4L2_PIX_FMT_FWHT,
  V4L2_PIX_FMT_H264,
  V4L2_PIX_FMT_HEVC,
  V4L2_PIX_FMT_NV12,
  V4L2_PIX_FMT_YUV420,
  V4L2_PIX_FMT_YUYV,
  type CodedFrame,
  type ExtControl,
  type Format,
} from '../../v4l2/index.js';
import { EncoderError } from '../errors.js';
import { avcC, fromAnnexB } from '../h264.js';
import { fromAnnexBH265, hvcC } from '../h265.js';
import { resolvePlanes } from '../raw.js';
import type { CodedUnit, EncodedStreamInfo, Encoder, EncoderConfig, EncodeOptions, ParameterSets, RawFormat, RawPicture } from '../types.js';
import { copyIntoBuffer, parseFps } from './planes.js';

/** Coded formats this backend can ask a driver for; 'fwht' is vicodec's (tests on the virtual board). */
export type M2mCodedFormat = 'h264' | 'h265' | 'fwht';

export interface M2mEncoderOptions {
  /** The encoder node, e.g. /dev/video11. */
  device: string;
  /**
   * Overrides the coded format asked of the driver (default: config.codec).
   * 'fwht' yields vicodec's frames as they are (no parameter sets, no
   * streamInfo: the recording store and MP4 take H.264/H.265 only).
   */
  codedFormat?: M2mCodedFormat;
  /** OUTPUT (raw) and CAPTURE (coded) buffers. Default 2 and 4. */
  outputBuffers?: number;
  captureBuffers?: number;
  /** How long one encode() waits for the driver before failing with BACKEND. Default 5000 ms. */
  timeoutMs?: number;
}

const RAW_FOURCC: Record<RawFormat, number> = { nv12: V4L2_PIX_FMT_NV12, yuv420p: V4L2_PIX_FMT_YUV420, yuyv: V4L2_PIX_FMT_YUYV };
const CODED_FOURCC: Record<M2mCodedFormat, number> = { h264: V4L2_PIX_FMT_H264, h265: V4L2_PIX_FMT_HEVC, fwht: V4L2_PIX_FMT_FWHT };
// V4L2_MPEG_VIDEO_BITRATE_MODE_VBR = 0, _CBR = 1; H264 profile menu: baseline 0, main 2, high 4.
const BITRATE_MODE = { vbr: 0, cbr: 1 } as const;
const H264_PROFILE = { baseline: 0, main: 2, high: 4 } as const;

function backendError(err: unknown, what: string): EncoderError {
  if (err instanceof EncoderError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const e = new EncoderError('BACKEND', `v4l2-m2m: ${what}: ${message}`);
  if (err instanceof SysError) Object.assign(e, { errno: err.errno, sysCode: err.code });
  return e;
}

export class M2mEncoder implements Encoder {
  readonly backend = 'v4l2-m2m';
  readonly #options: M2mEncoderOptions;
  #dev: M2mDevice | undefined;
  #config: EncoderConfig | undefined;
  #coded: M2mCodedFormat = 'h264';
  #outputFormat: Format | undefined;
  #params: ParameterSets = { sps: [], pps: [] };
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  #lastPts = -Infinity;
  #sent = 0;
  #controls = new Set<number>();
  /** Controls the driver does not have, so they were not set (reported, not fatal: vicodec has no bitrate). */
  readonly skippedControls: string[] = [];
  /** Bytes copied per encode: one raw picture into the OUTPUT buffer (copies counted for the benchmark). */
  readonly stats = { frames: 0, copiesIn: 0, bytesIn: 0, bytesOut: 0 };

  constructor(options: M2mEncoderOptions) {
    this.#options = options;
  }

  /** Serializes calls: configure, encode, flush and close run one at a time, in order. */
  #run<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.#chain.then(fn, fn);
    this.#chain = next.catch(() => {});
    return next;
  }

  configure(config: EncoderConfig): Promise<void> {
    if (this.#closed) return Promise.reject(new EncoderError('CLOSED', 'v4l2-m2m: encoder is closed'));
    return this.#run(() => this.#open(config));
  }

  #validate(config: EncoderConfig): M2mCodedFormat {
    const bad = (setting: string, why: string) => new EncoderError('BAD_CONFIG', `v4l2-m2m: ${setting}: ${why}`, setting);
    if (typeof this.#options.device !== 'string' || !this.#options.device) throw bad('device', 'the encoder node path is missing');
    const coded = this.#options.codedFormat ?? config.codec;
    if (!(coded in CODED_FOURCC)) throw bad('codec', `unsupported codec '${String(coded)}'`);
    if (!(config.inputFormat in RAW_FOURCC)) throw bad('inputFormat', `unsupported raw format '${String(config.inputFormat)}'`);
    for (const k of ['width', 'height'] as const) {
      const v = config[k];
      if (!Number.isInteger(v) || v < 16 || v > 8192 || v % 2) throw bad(k, `must be an even integer 16..8192, got ${v}`);
    }
    if (!Number.isInteger(config.gop) || config.gop < 1) throw bad('gop', `must be a positive integer, got ${config.gop}`);
    if (!(config.bitrateKbps > 0)) throw bad('bitrateKbps', `must be positive, got ${config.bitrateKbps}`);
    if (!(config.rateControl in BITRATE_MODE)) throw bad('rateControl', `must be cbr or vbr, got '${String(config.rateControl)}'`);
    if (!(config.profile in H264_PROFILE)) throw bad('profile', `unknown profile '${String(config.profile)}'`);
    if (!parseFps(config.fps)) throw bad('fps', `not a frame rate: ${String(config.fps)}`);
    return coded;
  }

  /** The codec controls this config asks for, limited to those the driver has (queried, not guessed). */
  #controlsFor(config: EncoderConfig, dev: M2mDevice): ExtControl[] {
    const have = new Set(dev.device.listControls().map((c) => c.id));
    this.#controls = have;
    const bps = Math.round(config.bitrateKbps * 1000);
    const wanted: [number, number, string][] = [
      [V4L2_CID_MPEG_VIDEO_BITRATE_MODE, BITRATE_MODE[config.rateControl], 'bitrate mode'],
      [V4L2_CID_MPEG_VIDEO_BITRATE, bps, 'bitrate'],
      [V4L2_CID_MPEG_VIDEO_GOP_SIZE, config.gop, 'GOP size'],
    ];
    if (config.rateControl === 'vbr') wanted.push([V4L2_CID_MPEG_VIDEO_BITRATE_PEAK, 2 * bps, 'peak bitrate']);
    if (this.#coded === 'h264') {
      wanted.push([V4L2_CID_MPEG_VIDEO_H264_I_PERIOD, config.gop, 'H.264 I period']);
      wanted.push([V4L2_CID_MPEG_VIDEO_H264_PROFILE, H264_PROFILE[config.profile], 'H.264 profile']);
    }
    if (this.#coded !== 'fwht') {
      // Parameter sets before every keyframe: a recording block or a late viewer can start at any of them.
      wanted.push([V4L2_CID_MPEG_VIDEO_REPEAT_SEQ_HEADER, 1, 'repeat sequence header']);
    }
    this.skippedControls.length = 0;
    const out: ExtControl[] = [];
    for (const [id, value, name] of wanted) {
      if (have.has(id)) out.push({ id, value });
      else this.skippedControls.push(name);
    }
    return out;
  }

  async #open(config: EncoderConfig): Promise<void> {
    const coded = this.#validate(config);
    this.#release();
    this.#coded = coded;
    let dev: M2mDevice;
    try {
      dev = M2mDevice.open(this.#options.device);
    } catch (err) {
      throw backendError(err, `cannot open ${this.#options.device}`);
    }
    try {
      const fps = parseFps(config.fps)!;
      const formats = dev.configure({
        width: config.width,
        height: config.height,
        rawFormat: RAW_FOURCC[config.inputFormat],
        codedFormat: CODED_FOURCC[coded],
        timePerFrame: { numerator: fps.den, denominator: fps.num },
        controls: this.#controlsFor(config, dev),
        outputBuffers: this.#options.outputBuffers ?? 2,
        captureBuffers: this.#options.captureBuffers ?? 4,
      });
      if (formats.capture.pixelformat !== CODED_FOURCC[coded]) {
        throw new EncoderError('BAD_CONFIG', `v4l2-m2m: codec: ${this.#options.device} does not encode ${coded}`, 'codec');
      }
      if (formats.output.pixelformat !== RAW_FOURCC[config.inputFormat]) {
        throw new EncoderError('BAD_CONFIG', `v4l2-m2m: inputFormat: ${this.#options.device} does not take ${config.inputFormat}`, 'inputFormat');
      }
      if (formats.output.width !== config.width || formats.output.height !== config.height) {
        throw new EncoderError(
          'BAD_CONFIG',
          `v4l2-m2m: width/height: ${this.#options.device} offers ${formats.output.width}x${formats.output.height}, not ${config.width}x${config.height}`,
          'width',
        );
      }
      dev.start();
      this.#outputFormat = formats.output;
    } catch (err) {
      dev.close();
      throw err instanceof EncoderError ? err : backendError(err, `configuring ${this.#options.device}`);
    }
    this.#dev = dev;
    this.#config = config;
    this.#params = { sps: [], pps: [] };
    this.#lastPts = -Infinity;
    this.#sent = 0;
  }

  encode(raw: RawPicture, ptsUs: number, options: EncodeOptions = {}): Promise<CodedUnit[]> {
    if (this.#closed) return Promise.reject(new EncoderError('CLOSED', 'v4l2-m2m: encoder is closed'));
    return this.#run(() => this.#encode(raw, ptsUs, options));
  }

  async #encode(raw: RawPicture, ptsUs: number, options: EncodeOptions): Promise<CodedUnit[]> {
    const config = this.#config;
    if (!config) throw new EncoderError('NOT_CONFIGURED', 'v4l2-m2m: configure() first');
    if (!this.#dev || this.#dev.ended) await this.#open(config); // after flush(): a drained encoder is reopened
    const dev = this.#dev!;
    const planes = resolvePlanes(raw, config.inputFormat, config.width, config.height);
    if (!Number.isSafeInteger(ptsUs) || ptsUs < 0 || ptsUs <= this.#lastPts) {
      throw new EncoderError('BAD_INPUT', `v4l2-m2m: pts must be a non-negative integer above the previous one (${this.#lastPts}), got ${ptsUs}`);
    }
    try {
      if (options.forceKeyframe && this.#controls.has(V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME)) {
        dev.device.setExtControls([{ id: V4L2_CID_MPEG_VIDEO_FORCE_KEY_FRAME, value: 1 }]);
      }
      const deadline = performance.now() + (this.#options.timeoutMs ?? 5000);
      const out: CodedUnit[] = [];
      let slot = dev.acquireInput();
      while (!slot) {
        // Every OUTPUT buffer is with the driver: take coded frames out while waiting.
        this.#collect(dev, out);
        if (performance.now() > deadline) throw new EncoderError('BACKEND', `v4l2-m2m: ${this.#options.device} took no raw frame for ${this.#options.timeoutMs ?? 5000} ms`);
        await dev.wait(100);
        slot = dev.acquireInput();
      }
      const used = copyIntoBuffer(planes, config.inputFormat, config.width, config.height, this.#outputFormat!, slot.planes[0]!.data);
      this.stats.copiesIn++;
      this.stats.bytesIn += used;
      dev.queueInput(slot.index, { bytesused: used, timestampUs: ptsUs });
      this.#lastPts = ptsUs;
      this.#sent++;
      this.stats.frames++;
      // A stateful encoder gives one coded buffer per raw frame, in order: wait for this one.
      while (!out.some((u) => u.ptsUs === ptsUs)) {
        this.#collect(dev, out);
        if (out.some((u) => u.ptsUs === ptsUs) || dev.ended) break;
        if (performance.now() > deadline) throw new EncoderError('BACKEND', `v4l2-m2m: no coded frame from ${this.#options.device} within ${this.#options.timeoutMs ?? 5000} ms`);
        await dev.wait(100);
      }
      return out;
    } catch (err) {
      throw backendError(err, `encoding on ${this.#options.device}`);
    }
  }

  /** Dequeue every coded frame that is ready into `out`. */
  #collect(dev: M2mDevice, out: CodedUnit[]): void {
    for (let c = dev.dequeueCoded(); c && c !== 'eos'; c = dev.dequeueCoded()) {
      const unit = this.#unit(c);
      if (unit) out.push(unit);
      if (c.last) break;
    }
  }

  #unit(c: CodedFrame): CodedUnit | null {
    // Copy out, then give the CAPTURE buffer straight back to the driver.
    const bytes = Uint8Array.from(c.data);
    c.release();
    if (bytes.length === 0) return null; // the empty LAST buffer of a drain
    this.stats.bytesOut += bytes.length;
    if (this.#coded === 'fwht') {
      return { ptsUs: c.timestampUs, dtsUs: c.timestampUs, keyframe: c.keyframe, pictureType: c.keyframe ? 'I' : 'P', data: bytes };
    }
    const au = this.#coded === 'h265' ? fromAnnexBH265(bytes) : fromAnnexB(bytes);
    if (au.params.sps.length && au.params.pps.length && (this.#coded === 'h264' || au.params.vps?.length)) this.#params = au.params;
    const keyframe = au.keyframe || c.keyframe;
    return { ptsUs: c.timestampUs, dtsUs: c.timestampUs, keyframe, pictureType: au.keyframe ? 'IDR' : keyframe ? 'I' : 'P', data: au.data };
  }

  flush(): Promise<CodedUnit[]> {
    if (this.#closed) return Promise.reject(new EncoderError('CLOSED', 'v4l2-m2m: encoder is closed'));
    return this.#run(async () => {
      const dev = this.#dev;
      if (!this.#config) throw new EncoderError('NOT_CONFIGURED', 'v4l2-m2m: configure() first');
      const out: CodedUnit[] = [];
      if (!dev || dev.ended || this.#sent === 0) return out;
      try {
        dev.drain();
        const deadline = performance.now() + (this.#options.timeoutMs ?? 5000);
        while (!dev.ended) {
          this.#collect(dev, out);
          if (dev.ended) break;
          if (performance.now() > deadline) throw new EncoderError('BACKEND', `v4l2-m2m: ${this.#options.device} did not finish draining`);
          await dev.wait(100);
        }
      } catch (err) {
        throw backendError(err, `draining ${this.#options.device}`);
      }
      return out;
    });
  }

  parameterSets(): ParameterSets {
    const p = this.#params;
    return { sps: [...p.sps], pps: [...p.pps], ...(p.vps ? { vps: [...p.vps] } : {}) };
  }

  /**
   * Hardware encoders put (VPS,) SPS and PPS in front of their first keyframe, so the stream
   * description is known after the first encode(), not after configure().
   */
  streamInfo(): EncodedStreamInfo {
    const config = this.#config;
    if (!config) throw new EncoderError('NOT_CONFIGURED', 'v4l2-m2m: configure() first');
    if (this.#coded === 'fwht') {
      throw new EncoderError('UNSUPPORTED', 'v4l2-m2m: no stream description for fwht (the store and MP4 take h264/h265 only)');
    }
    if (!this.#params.sps.length) throw new EncoderError('NOT_CONFIGURED', 'v4l2-m2m: no parameter sets yet: the driver sends them with the first keyframe');
    const record = this.#coded === 'h265' ? hvcC(this.#params) : avcC(this.#params);
    return { codec: this.#coded, config: record, width: config.width, height: config.height };
  }

  #release(): void {
    const dev = this.#dev;
    this.#dev = undefined;
    dev?.close();
  }

  close(): Promise<void> {
    if (this.#closed) return this.#chain.then(() => {});
    this.#closed = true;
    return this.#run(() => this.#release());
  }
}
