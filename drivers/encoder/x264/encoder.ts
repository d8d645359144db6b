// H.264 software encoder over libx264 through koffi.
//
// Settings go through x264_param_parse() (portable across ABIs); only the
// fields parse cannot reach (size, colour space, time base) and the picture
// and NAL structures are touched directly, at offsets generated from x264.h
// (layout.ts). encode() runs x264_encoder_encode on koffi's async thread pool
// so the event loop keeps going; encodeSync() is the same call inline.
import { koffi } from '../../libc/index.js';
import { EncoderError } from '../errors.js';
import { avcC, NAL_AUD, NAL_PPS, NAL_SPS } from '../h264.js';
import { RAW_FORMATS, rawFrameSize, resolvePlanes } from '../raw.js';
import { yuyvToI420 } from '../scale.js';
import type {
  CodedUnit,
  EncodedStreamInfo,
  Encoder,
  EncoderConfig,
  EncodeOptions,
  ParameterSets,
  RawFormat,
  RawPicture,
} from '../types.js';
import type { X264Layout } from './layout.js';
import { requireAsyncStack, x264, type X264Lib } from './lib.js';

const X264_CSP_I420 = 0x0002;
const X264_CSP_NV12 = 0x0004;
const X264_TYPE_AUTO = 0;
const X264_TYPE_IDR = 1;
const PICTURE_TYPES: Record<number, CodedUnit['pictureType']> = { 1: 'IDR', 2: 'I', 3: 'P', 4: 'B', 5: 'B' };

export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;
export const X264_TUNES = ['film', 'animation', 'grain', 'stillimage', 'psnr', 'ssim', 'fastdecode', 'zerolatency'] as const;
const PROFILES = ['baseline', 'main', 'high'];

/** Options of the x264 backend beyond EncoderConfig. */
export interface X264EncoderOptions {
  /** x264 tune applied with the preset. Default 'zerolatency': no lookahead or B-frames, every frame out at once. */
  tune?: (typeof X264_TUNES)[number] | null;
  /**
   * How encode() calls libx264: 'sync' blocks the calling thread (use it
   * inside a worker thread: X264WorkerEncoder does); 'async' runs the call on
   * koffi's async pool, which needs koffi's async stack raised before any
   * library is loaded (see prepareKoffiForAsyncEncode()). Default 'sync'.
   */
  calls?: 'sync' | 'async';
  /**
   * Clock for stats.nativeMs, in milliseconds. Default performance.now (wall
   * time); a benchmark passes a thread CPU clock to be immune to other load.
   */
  clock?: () => number;
}

/** Counters for benchmarks: time inside libx264's encode calls. */
export interface X264Stats {
  frames: number;
  /** Milliseconds inside x264_encoder_encode (by the `clock` option), sync calls only. */
  nativeMs: number;
}

function badConfig(setting: string, message: string): EncoderError {
  return new EncoderError('BAD_CONFIG', `x264: ${setting}: ${message}`, setting);
}

function fpsFraction(fps: number | string): [number, number] {
  if (typeof fps === 'number') {
    if (!Number.isFinite(fps) || fps <= 0 || fps > 1000) throw badConfig('fps', `must be between 0 and 1000, got ${fps}`);
    if (Number.isInteger(fps)) return [fps, 1];
    return [Math.round(fps * 1000), 1000];
  }
  const m = /^(\d+)(?:\/(\d+))?$/.exec(String(fps).trim());
  const num = m ? Number(m[1]) : NaN;
  const den = m?.[2] ? Number(m[2]) : 1;
  if (!m || num <= 0 || den <= 0 || num / den > 1000) throw badConfig('fps', `must be N or N/D frames per second, got '${fps}'`);
  return [num, den];
}

function positiveInteger(config: EncoderConfig, key: 'width' | 'height' | 'bitrateKbps' | 'gop', max: number): number {
  const v = config[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > max) {
    throw badConfig(key, `must be an integer from 1 to ${max}, got ${String(v)}`);
  }
  return v;
}

interface Opened {
  handle: unknown;
  config: EncoderConfig;
  width: number;
  height: number;
  format: RawFormat;
  csp: number;
  params: ParameterSets;
  /** I420 scratch picture for yuyv input (converted in JS). */
  scratch: Uint8Array | undefined;
}

export class X264Encoder implements Encoder {
  readonly backend = 'x264';
  readonly stats: X264Stats = { frames: 0, nativeMs: 0 };

  private readonly tune: string | null;
  private readonly calls: 'sync' | 'async';
  private readonly clock: () => number;
  private lib: X264Lib | undefined;
  private layout: X264Layout | undefined;
  // All native-facing memory lives in one ArrayBuffer: never on V8's heap,
  // so it cannot move while an async call on another thread writes to it.
  private mem: ArrayBuffer | undefined;
  private view: DataView | undefined;
  private param: Uint8Array | undefined;
  private picIn: Uint8Array | undefined;
  private picOut: Uint8Array | undefined;
  private ppNal: Uint8Array | undefined;
  private piNal: Uint8Array | undefined;
  private offsets = { param: 0, picIn: 0, picOut: 0, ppNal: 0, piNal: 0 };

  private opened: Opened | undefined;
  private closed = false;
  private busy = false;
  private tail: Promise<unknown> = Promise.resolve();
  private lastPts = -Infinity;

  constructor(options: X264EncoderOptions = {}) {
    const tune = options.tune === undefined ? 'zerolatency' : options.tune;
    if (tune !== null && !(X264_TUNES as readonly string[]).includes(tune)) {
      throw badConfig('tune', `must be one of ${X264_TUNES.join(', ')}, got '${tune}'`);
    }
    this.tune = tune;
    this.calls = options.calls ?? 'sync';
    this.clock = options.clock ?? (() => performance.now());
  }

  private bind(): void {
    if (this.lib) return;
    const lib = x264();
    if (this.calls === 'async') requireAsyncStack();
    const l = lib.layout;
    const align = (n: number) => (n + 15) & ~15;
    const o = this.offsets;
    o.param = 0;
    o.picIn = align(l.param.size);
    o.picOut = o.picIn + align(l.picture.size);
    o.ppNal = o.picOut + align(l.picture.size);
    o.piNal = o.ppNal + 16;
    this.mem = new ArrayBuffer(o.piNal + 16);
    this.view = new DataView(this.mem);
    this.param = new Uint8Array(this.mem, o.param, l.param.size);
    this.picIn = new Uint8Array(this.mem, o.picIn, l.picture.size);
    this.picOut = new Uint8Array(this.mem, o.picOut, l.picture.size);
    this.ppNal = new Uint8Array(this.mem, o.ppNal, l.pointerSize);
    this.piNal = new Uint8Array(this.mem, o.piNal, 4);
    this.lib = lib;
    this.layout = l;
  }

  private i32(offset: number): number {
    return this.view!.getInt32(offset, true);
  }

  private setI32(offset: number, value: number): void {
    this.view!.setInt32(offset, value, true);
  }

  private readPointer(view: DataView, offset: number): bigint {
    return this.layout!.pointerSize === 8 ? view.getBigUint64(offset, true) : BigInt(view.getUint32(offset, true));
  }

  private writePointer(offset: number, value: bigint): void {
    if (this.layout!.pointerSize === 8) this.view!.setBigUint64(offset, value, true);
    else this.view!.setUint32(offset, Number(value), true);
  }

  private parse(setting: string, name: string, value: string | number | boolean): void {
    const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    const rc = this.lib!.param_parse(this.param, name, text) as number;
    if (rc === -1) throw badConfig(setting, `x264 has no setting '${name}'`);
    if (rc !== 0) throw badConfig(setting, `x264 rejects ${name}=${text}`);
  }

  async configure(config: EncoderConfig): Promise<void> {
    this.configureSync(config);
  }

  /** configure() on the calling thread; returns the parameter sets. */
  configureSync(config: EncoderConfig): ParameterSets {
    if (this.closed) throw new EncoderError('CLOSED', 'x264: encoder is closed');
    if (this.busy) throw new EncoderError('BAD_CONFIG', 'x264: configure() while an encode is running; await it first', 'state');
    // Validate everything before touching the library.
    if (config?.codec !== 'h264') throw badConfig('codec', `the x264 backend encodes h264 only, not '${String(config?.codec)}'`);
    const width = positiveInteger(config, 'width', 8192);
    const height = positiveInteger(config, 'height', 8192);
    if (width % 2 || height % 2) throw badConfig(width % 2 ? 'width' : 'height', `4:2:0 needs an even size, got ${width}x${height}`);
    const [fpsNum, fpsDen] = fpsFraction(config.fps);
    const kbps = positiveInteger(config, 'bitrateKbps', 200_000);
    const gop = positiveInteger(config, 'gop', 10_000);
    if (config.rateControl !== 'cbr' && config.rateControl !== 'vbr') {
      throw badConfig('rateControl', `must be 'cbr' or 'vbr', got '${String(config.rateControl)}'`);
    }
    if (!PROFILES.includes(config.profile)) throw badConfig('profile', `must be one of ${PROFILES.join(', ')}, got '${String(config.profile)}'`);
    if (!RAW_FORMATS.includes(config.inputFormat)) {
      throw badConfig('inputFormat', `must be one of ${RAW_FORMATS.join(', ')}, got '${String(config.inputFormat)}'`);
    }
    const preset = config.preset ?? 'veryfast';
    if (!(X264_PRESETS as readonly string[]).includes(preset)) throw badConfig('preset', `must be one of ${X264_PRESETS.join(', ')}, got '${preset}'`);
    const threads = config.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 0 || threads > 64) throw badConfig('threads', `must be 0 (auto) to 64, got ${threads}`);

    this.bind();
    const lib = this.lib!;
    const l = this.layout!.param;
    const p = this.offsets.param;
    this.param!.fill(0);
    if (lib.param_default_preset(this.param, preset, this.tune) < 0) throw badConfig('preset', `x264 rejects preset '${preset}' tune '${this.tune}'`);
    // The layout table must describe this library: x264_param_default sets these.
    if (this.i32(p + l.i_fps_num) !== 25 || this.i32(p + l.i_fps_den) !== 1 || this.i32(p + l.b_annexb) !== 1) {
      throw new EncoderError('UNSUPPORTED', `x264: the ${this.layout!.arch} layout table does not match ${lib.library}; regenerate it (gen-layout.sh)`);
    }

    this.parse('threads', 'threads', threads === 0 ? 'auto' : threads);
    this.parse('fps', 'fps', `${fpsNum}/${fpsDen}`);
    this.parse('gop', 'keyint', gop);
    this.parse('gop', 'min-keyint', Math.min(gop, Math.floor(gop / 2) + 1));
    this.parse('gop', 'scenecut', 0); // keyframes exactly every `gop` frames
    this.parse('bitrateKbps', 'bitrate', kbps);
    const cap = config.rateControl === 'cbr' ? kbps : 2 * kbps;
    this.parse('bitrateKbps', 'vbv-maxrate', cap);
    this.parse('bitrateKbps', 'vbv-bufsize', config.rateControl === 'cbr' ? kbps : 2 * kbps);
    // Frames carry one timestamp (no dts): no reordering.
    this.parse('profile', 'bframes', 0);
    this.parse('codec', 'repeat-headers', 0);
    this.parse('codec', 'annexb', 0);
    this.parse('options', 'log', 0); // errors only; 'info' prints statistics on close
    for (const [name, value] of Object.entries(config.options ?? {})) this.parse(`options.${name}`, name, value);

    const format = config.inputFormat;
    const csp = format === 'nv12' ? X264_CSP_NV12 : X264_CSP_I420;
    this.setI32(p + l.i_width, width);
    this.setI32(p + l.i_height, height);
    this.setI32(p + l.i_csp, csp);
    // Timestamps in microseconds: i_pts is ptsUs, and rate control follows
    // the real frame spacing (b_vfr_input stays on).
    this.setI32(p + l.i_timebase_num, 1);
    this.setI32(p + l.i_timebase_den, 1_000_000);
    if (this.i32(p + l.i_fps_num) !== fpsNum || this.i32(p + l.i_fps_den) !== fpsDen || this.i32(p + l.b_annexb) !== 0) {
      throw new EncoderError('UNSUPPORTED', `x264: the ${this.layout!.arch} layout table does not match ${lib.library}`);
    }
    if (lib.param_apply_profile(this.param, config.profile) < 0) {
      throw badConfig('profile', `x264 cannot apply profile '${config.profile}' to these settings`);
    }

    this.closeHandle();
    const handle = lib.encoder_open(this.param);
    if (!handle) {
      throw new EncoderError('BAD_CONFIG', `x264: x264_encoder_open refused the settings (${width}x${height}, options ${JSON.stringify(config.options ?? {})})`, 'options');
    }
    const opened: Opened = {
      handle,
      config: { ...config },
      width,
      height,
      format,
      csp,
      params: { sps: [], pps: [] },
      scratch: format === 'yuyv' ? new Uint8Array(rawFrameSize('yuv420p', width, height)) : undefined,
    };
    this.opened = opened;
    this.lastPts = -Infinity;
    const bytes = lib.encoder_headers(handle, this.ppNal, this.piNal) as number;
    if (bytes < 0) throw new EncoderError('BACKEND', `x264: x264_encoder_headers failed (${bytes})`);
    for (const nal of this.readNals(bytes).nals) {
      const body = nal.data.slice(4);
      if (nal.type === NAL_SPS) opened.params.sps.push(body);
      else if (nal.type === NAL_PPS) opened.params.pps.push(body);
    }
    lib.picture_init(this.picIn);
    return this.parameterSets();
  }

  private requireOpen(): Opened {
    if (this.closed) throw new EncoderError('CLOSED', 'x264: encoder is closed');
    if (!this.opened) throw new EncoderError('NOT_CONFIGURED', 'x264: configure() first');
    return this.opened;
  }

  parameterSets(): ParameterSets {
    const o = this.requireOpen();
    return { sps: [...o.params.sps], pps: [...o.params.pps] };
  }

  streamInfo(): EncodedStreamInfo {
    const o = this.requireOpen();
    return { codec: 'h264', config: avcC(o.params), width: o.width, height: o.height };
  }

  /** Fills pic_in for one raw picture. Returns the buffers that must stay alive for the call. */
  private preparePicture(raw: RawPicture, ptsUs: number, options?: EncodeOptions): Uint8Array[] {
    const o = this.opened;
    if (!o) throw new EncoderError('CLOSED', 'x264: encoder is closed');
    if (typeof ptsUs !== 'number' || !Number.isSafeInteger(ptsUs)) {
      throw new EncoderError('BAD_INPUT', `x264: ptsUs must be an integer number of microseconds, got ${String(ptsUs)}`);
    }
    if (ptsUs <= this.lastPts) throw new EncoderError('BAD_INPUT', `x264: ptsUs ${ptsUs} is not after the previous ${this.lastPts}`);
    let { planes, strides } = resolvePlanes(raw, o.format, o.width, o.height);
    if (o.format === 'yuyv') {
      yuyvToI420({ planes, strides }, o.width, o.height, o.scratch);
      ({ planes, strides } = resolvePlanes(o.scratch!, 'yuv420p', o.width, o.height));
    }
    this.lastPts = ptsUs;
    const l = this.layout!.picture;
    const base = this.offsets.picIn;
    const k = koffi();
    this.setI32(base + l.i_type, options?.forceKeyframe ? X264_TYPE_IDR : X264_TYPE_AUTO);
    this.view!.setBigInt64(base + l.i_pts, BigInt(ptsUs), true);
    this.setI32(base + l['img.i_csp'], o.csp);
    this.setI32(base + l['img.i_plane'], planes.length);
    for (let i = 0; i < planes.length; i++) {
      this.setI32(base + l['img.i_stride'] + 4 * i, strides[i]!);
      // The caller's memory itself: no copy on the way in.
      this.writePointer(base + l['img.plane'] + this.layout!.pointerSize * i, k.address(planes[i]!));
    }
    return planes;
  }

  /** NAL units of the last encode/headers call: copied out of x264's buffer (valid until its next call). */
  private readNals(bytes: number): { data: Uint8Array; nals: { type: number; data: Uint8Array }[] } {
    const count = this.i32(this.offsets.piNal);
    if (bytes <= 0 || count <= 0) return { data: new Uint8Array(0), nals: [] };
    const k = koffi();
    const l = this.layout!.nal;
    const array = new DataView(k.view(this.readPointer(this.view!, this.offsets.ppNal), count * l.size));
    // x264.h: "the payloads of all output NALs are guaranteed to be sequential
    // in memory", so one copy takes the whole access unit.
    const first = this.readPointer(array, l.p_payload);
    const data = new Uint8Array(bytes);
    data.set(new Uint8Array(k.view(first, bytes)));
    const nals: { type: number; data: Uint8Array }[] = [];
    let at = 0;
    for (let i = 0; i < count; i++) {
      const size = array.getInt32(i * l.size + l.i_payload, true);
      nals.push({ type: array.getInt32(i * l.size + l.i_type, true), data: data.subarray(at, at + size) });
      at += size;
    }
    return { data, nals };
  }

  private collect(bytes: number): CodedUnit[] {
    if (bytes < 0) throw new EncoderError('BACKEND', `x264: x264_encoder_encode failed (${bytes})`);
    if (bytes === 0) return [];
    let { data, nals } = this.readNals(bytes);
    if (nals.some((n) => n.type === NAL_SPS || n.type === NAL_PPS || n.type === NAL_AUD)) {
      // Only with options such as repeat-headers/aud: keep the access unit free of them.
      const keep = nals.filter((n) => n.type !== NAL_SPS && n.type !== NAL_PPS && n.type !== NAL_AUD);
      data = new Uint8Array(keep.reduce((n, x) => n + x.data.length, 0));
      let at = 0;
      for (const n of keep) {
        data.set(n.data, at);
        at += n.data.length;
      }
    }
    const l = this.layout!.picture;
    const base = this.offsets.picOut;
    const type = this.i32(base + l.i_type);
    this.stats.frames++;
    return [
      {
        ptsUs: Number(this.view!.getBigInt64(base + l.i_pts, true)),
        dtsUs: Number(this.view!.getBigInt64(base + l.i_dts, true)),
        keyframe: this.i32(base + l.b_keyframe) !== 0,
        pictureType: PICTURE_TYPES[type] ?? 'P',
        data,
      },
    ];
  }

  private callAsync(pic: Uint8Array | null): Promise<number> {
    const o = this.opened!;
    return new Promise((resolve, reject) => {
      this.lib!.encoder_encode.async(o.handle, this.ppNal, this.piNal, pic, this.picOut, (err: unknown, bytes: number) =>
        err ? reject(err) : resolve(bytes),
      );
    });
  }

  /** Runs `job` after everything queued before it. */
  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.tail.then(async () => {
      this.busy = true;
      try {
        return await job();
      } finally {
        this.busy = false;
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  encode(raw: RawPicture, ptsUs: number, options?: EncodeOptions): Promise<CodedUnit[]> {
    try {
      this.requireOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(async () => {
      const keep = this.preparePicture(raw, ptsUs, options);
      const bytes = this.calls === 'async' ? await this.callAsync(this.picIn!) : this.callSync(this.picIn!);
      void keep;
      return this.collect(bytes);
    });
  }

  encodeSync(raw: RawPicture, ptsUs: number, options?: EncodeOptions): CodedUnit[] {
    if (this.busy) throw new EncoderError('BAD_INPUT', 'x264: encodeSync() while an async encode is running');
    const o = this.requireOpen();
    void o;
    this.preparePicture(raw, ptsUs, options);
    return this.collect(this.callSync(this.picIn!));
  }

  private callSync(pic: Uint8Array | null): number {
    const t0 = this.clock();
    const bytes = this.lib!.encoder_encode(this.opened!.handle, this.ppNal, this.piNal, pic, this.picOut) as number;
    this.stats.nativeMs += this.clock() - t0;
    return bytes;
  }

  /** flush() on the calling thread. */
  flushSync(): CodedUnit[] {
    if (this.busy) throw new EncoderError('BAD_INPUT', 'x264: flushSync() while an async encode is running');
    const o = this.requireOpen();
    const out: CodedUnit[] = [];
    while ((this.lib!.encoder_delayed_frames(o.handle) as number) > 0) {
      const units = this.collect(this.callSync(null));
      if (units.length === 0) break;
      out.push(...units);
    }
    return out;
  }

  /** close() on the calling thread; only when no async call is running. */
  closeSync(): void {
    this.closed = true;
    this.closeHandle();
  }

  flush(): Promise<CodedUnit[]> {
    try {
      this.requireOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(async () => {
      const o = this.opened;
      if (!o) throw new EncoderError('CLOSED', 'x264: encoder is closed');
      const out: CodedUnit[] = [];
      while ((this.lib!.encoder_delayed_frames(o.handle) as number) > 0) {
        const units = this.collect(this.calls === 'async' ? await this.callAsync(null) : this.callSync(null));
        if (units.length === 0) break;
        out.push(...units);
      }
      return out;
    });
  }

  private closeHandle(): void {
    if (this.opened) {
      this.lib!.encoder_close(this.opened.handle);
      this.opened = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    this.closeHandle();
  }
}
