// An analog camera as a FrameSource: V4L2 capture -> main encoder, and the
// 2:1 scaler -> sub encoder, from the same capture buffer. ChannelRunner
// treats it like an RTSP camera: one instance per attempt, a failure (device
// gone, busy, bad format, bad buffer) closes it and the runner retries.
//
// Copies per frame between the capture buffer and each encoder's input:
//   main: x264 reads the mmap()ed capture buffer in place (0); v4l2-m2m copies
//         it once into the encoder's OUTPUT buffer (1).
//   sub:  the scaler reads the capture buffer and writes the half-size picture
//         (1, and it is 1/4 of the size); the encoder reads that in place.
// The capture buffer goes back to the driver once the main encode settled.
import { EventEmitter } from 'node:events';
import { JpegEncoder, downscale2x, downscaledFormat, type Encoder, type EncoderConfig, type RawPicture } from '../../drivers/encoder/index.js';
import type { Frame as CaptureFrame } from '../../drivers/v4l2/index.js';
import type { Clock } from '../core/clock.js';
import type { LumaPlane } from '../analytics/luma.js';
import { lumaOfYuyv } from '../analytics/luma.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import type { CaptureGeometry, CaptureHandle, CaptureOpener, CaptureRequest } from './dvr-capture.js';
import { SourceError, type FrameSource, type FrameSourceEvents } from './source.js';

/** Encoder settings of one stream; size and fps come from the capture (sub: half of it). */
export type DvrStreamSettings = Omit<EncoderConfig, 'width' | 'height' | 'fps' | 'inputFormat'>;

export interface DvrPicture {
  /** Luma of the sub-resolution picture (or of the main one without a sub stream). */
  luma: LumaPlane;
  /** Frame time, µs since the epoch. */
  time: number;
}

export interface DvrSourceOptions {
  capture: CaptureRequest;
  open: CaptureOpener;
  /** A new encoder for 'main' or 'sub' (the registry's createEncoder with the channel's backend). */
  createEncoder: (stream: 'main' | 'sub') => Encoder;
  main: DvrStreamSettings;
  sub: DvrStreamSettings | null;
  clock: Clock;
  /** Each captured picture, synchronously, before its buffer goes back (video loss, motion, tamper). */
  onPicture?: (p: DvrPicture) => void;
  /** The input's V4L2_IN_ST_* status, read every statusIntervalMs while streaming. */
  onStatus?: (status: number) => void;
  statusIntervalMs?: number;
}

export interface DvrSourceStats {
  frames: number;
  /** Frames the capture driver lost (sequence gaps), and the part lost for want of a free buffer. */
  dropped: number;
  starved: number;
  coded: { main: number; sub: number };
  /** Copies of picture data per captured frame between capture buffer and encoder inputs (see the file comment). */
  copiesPerFrame: { main: number; sub: number };
}

export class DvrCameraSource extends EventEmitter<FrameSourceEvents> implements FrameSource {
  #handle: CaptureHandle | undefined;
  #main: Encoder | undefined;
  #sub: Encoder | undefined;
  #geometry: CaptureGeometry | undefined;
  #info = new Map<StreamKind, StreamInfo>();
  #pending = new Set<Promise<unknown>>();
  #subPool: Uint8Array[] = [];
  #scratch: Uint8Array | undefined;
  #stopped = false;
  #closed = false;
  #t0: number | undefined;
  #wallBase = 0;
  #lastPts = -1;
  #statusTimer: ReturnType<Clock['setTimeout']> | undefined;
  /** Callers of snapshot() waiting for the next picture. */
  #snapshotWaiters: { resolve: (jpeg: Uint8Array) => void; reject: (err: Error) => void }[] = [];
  #jpeg: JpegEncoder | undefined;
  readonly stats: DvrSourceStats = { frames: 0, dropped: 0, starved: 0, coded: { main: 0, sub: 0 }, copiesPerFrame: { main: 0, sub: 0 } };

  constructor(private readonly o: DvrSourceOptions) {
    super();
  }

  async start(): Promise<void> {
    const handle = await this.o.open(this.o.capture);
    this.#handle = handle;
    if (this.#stopped) {
      await handle.close();
      throw new SourceError('stopped while starting', 'protocol');
    }
    const g = handle.geometry;
    this.#geometry = g;
    const fps = g.fps.den === 1 ? g.fps.num : `${g.fps.num}/${g.fps.den}`;
    try {
      this.#main = this.o.createEncoder('main');
      await this.#main.configure({ ...this.o.main, width: g.width, height: g.height, fps, inputFormat: g.format });
      this.stats.copiesPerFrame.main = this.#main.backend === 'x264' ? 0 : 1;
      if (this.o.sub) {
        this.#sub = this.o.createEncoder('sub');
        await this.#sub.configure({ ...this.o.sub, width: g.width / 2, height: g.height / 2, fps, inputFormat: downscaledFormat(g.format) });
        this.stats.copiesPerFrame.sub = this.#sub.backend === 'x264' ? 1 : 2;
      }
    } catch (err) {
      await this.#teardown();
      throw new SourceError(`encoder: ${(err as Error).message}`, 'protocol');
    }
    handle.stream.on('frame', (f) => this.#onFrame(f));
    handle.stream.on('error', (err) => this.#fail(err));
    handle.stream.on('end', () => this.#fail(new SourceError(`capture on ${this.o.capture.device} ended`, 'protocol')));
    this.#pollStatus();
  }

  #pollStatus(): void {
    if (!this.o.onStatus || this.#stopped || this.#closed) return;
    try {
      this.o.onStatus(this.#handle!.inputStatus());
    } catch (err) {
      this.#fail(err);
      return;
    }
    this.#statusTimer = this.o.clock.setTimeout(() => this.#pollStatus(), this.o.statusIntervalMs ?? 500);
  }

  /** The capture buffer as the encoders' raw picture: contiguous when unpadded, else planes with the driver's pitch. */
  #picture(data: Buffer, g: CaptureGeometry): RawPicture {
    const { width: w, height: h, bytesperline: bpl, format } = g;
    if (format === 'yuyv') return bpl === w * 2 ? data.subarray(0, w * h * 2) : { planes: [data], strides: [bpl] };
    if (bpl === w) return data.subarray(0, (w * h * 3) / 2);
    const y = data.subarray(0, bpl * h);
    if (format === 'nv12') return { planes: [y, data.subarray(bpl * h)], strides: [bpl, bpl] };
    const c = bpl / 2;
    return { planes: [y, data.subarray(bpl * h, bpl * h + (c * h) / 2), data.subarray(bpl * h + (c * h) / 2)], strides: [bpl, c, c] };
  }

  #onFrame(f: CaptureFrame): void {
    const g = this.#geometry!;
    if (this.#stopped || this.#closed) {
      f.release();
      return;
    }
    const data = f.data[0];
    if (!data || data.length < g.frameBytes) {
      f.release();
      this.#fail(new SourceError(`${this.o.capture.device}: buffer of ${data?.length ?? 0} bytes, a ${g.width}x${g.height} ${g.format} frame needs ${g.frameBytes}`, 'protocol'));
      return;
    }
    this.stats.frames++;
    const capStats = this.#handle!.stream.stats;
    this.stats.dropped = capStats.dropped;
    this.stats.starved = capStats.starved;
    // Capture timestamps are monotonic: anchor them to the wall clock once, keep their spacing.
    if (this.#t0 === undefined) {
      this.#t0 = f.timestampUs;
      this.#wallBase = Math.round(this.o.clock.now() * 1000);
    }
    const pts = Math.max(this.#lastPts + 1, f.timestampUs - this.#t0);
    this.#lastPts = pts;
    const time = this.#wallBase + pts;
    const raw = this.#picture(data, g);
    if (this.#snapshotWaiters.length) this.#snapshot(raw, g);
    let luma: LumaPlane;
    let subRaw: Uint8Array | undefined;
    if (this.#sub) {
      subRaw = this.#subPool.pop() ?? new Uint8Array(((g.width / 2) * (g.height / 2) * 3) / 2);
      downscale2x(raw, g.format, g.width, g.height, subRaw);
      luma = { data: subRaw, width: g.width / 2, height: g.height / 2, stride: g.width / 2 };
    } else if (g.format === 'yuyv') {
      luma = lumaOfYuyv(data, g.width, g.height, g.bytesperline, this.#scratch);
      this.#scratch = luma.data;
    } else {
      luma = { data, width: g.width, height: g.height, stride: g.bytesperline };
    }
    try {
      this.o.onPicture?.({ luma, time });
    } catch {
      // analytics must never stop the recording
    }
    const main = this.#track(
      this.#main!.encode(raw, pts).then((units) => this.#emitUnits('main', this.#main!, units)),
    );
    void main.finally(() => f.release());
    if (this.#sub && subRaw) {
      const buf = subRaw;
      void this.#track(this.#sub.encode(buf, pts).then((units) => this.#emitUnits('sub', this.#sub!, units))).finally(() => this.#subPool.push(buf));
    }
  }

  /**
   * The next captured picture as a full-size JPEG. Compressed on the event
   * loop from the capture buffer before the encoder gets it (a few ms for
   * D1, and only when asked), so it needs no copy of the picture.
   */
  snapshot(timeoutMs = 3000): Promise<Uint8Array> {
    if (this.#stopped || this.#closed || !this.#handle) return Promise.reject(new SourceError('the capture is not running', 'protocol'));
    return new Promise((resolve, reject) => {
      const timer = this.o.clock.setTimeout(() => {
        this.#snapshotWaiters = this.#snapshotWaiters.filter((w) => w !== waiter);
        reject(new SourceError(`no picture from ${this.o.capture.device} within ${timeoutMs} ms`, 'stalled'));
      }, timeoutMs);
      const waiter = {
        resolve: (jpeg: Uint8Array) => {
          this.o.clock.clearTimeout(timer);
          resolve(jpeg);
        },
        reject: (err: Error) => {
          this.o.clock.clearTimeout(timer);
          reject(err);
        },
      };
      this.#snapshotWaiters.push(waiter);
    });
  }

  #snapshot(raw: RawPicture, g: CaptureGeometry): void {
    const waiters = this.#snapshotWaiters;
    this.#snapshotWaiters = [];
    try {
      const jpeg = (this.#jpeg ??= new JpegEncoder()).compress(raw, g.format, g.width, g.height);
      for (const w of waiters) w.resolve(jpeg);
    } catch (err) {
      for (const w of waiters) w.reject(err as Error);
    }
  }

  #track(p: Promise<void>): Promise<void> {
    const tracked = p.catch((err: unknown) => this.#fail(err));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
    return tracked;
  }

  #emitUnits(stream: 'main' | 'sub', enc: Encoder, units: { ptsUs: number; keyframe: boolean; data: Uint8Array }[]): void {
    if (this.#closed || units.length === 0) return;
    const info = enc.streamInfo();
    const prev = this.#info.get(stream);
    if (!prev || !sameInfo(prev, info)) {
      this.#info.set(stream, info);
      this.emit('info', stream, info);
    }
    for (const u of units) {
      const frame: Frame = { time: this.#wallBase + u.ptsUs, keyframe: u.keyframe, data: u.data };
      this.stats.coded[stream]++;
      this.emit('frame', stream, frame);
    }
  }

  #fail(err: unknown): void {
    if (this.#closed || this.#stopped) return;
    this.#closed = true;
    const e = err instanceof Error ? err : new Error(String(err));
    void this.#teardown().finally(() => this.emit('close', e));
  }

  async #teardown(): Promise<void> {
    if (this.#statusTimer) this.o.clock.clearTimeout(this.#statusTimer);
    this.#statusTimer = undefined;
    const handle = this.#handle;
    this.#handle = undefined;
    handle?.stream.removeAllListeners('end');
    handle?.stream.removeAllListeners('error');
    handle?.stream.on('error', () => {});
    await handle?.close().catch(() => {});
    // Encodes in flight hold capture buffers: let them settle, then free the encoders.
    await Promise.allSettled([...this.#pending]);
    const encoders = [this.#main, this.#sub];
    this.#main = this.#sub = undefined;
    await Promise.allSettled(encoders.map((e) => e?.close()));
    this.#jpeg?.close();
    this.#jpeg = undefined;
    const waiters = this.#snapshotWaiters;
    this.#snapshotWaiters = [];
    for (const w of waiters) w.reject(new SourceError('the capture stopped', 'protocol'));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    const wasClosed = this.#closed;
    this.#stopped = true;
    if (!wasClosed) await this.#teardown();
  }
}

function sameInfo(a: StreamInfo, b: StreamInfo): boolean {
  if (a.codec !== b.codec || a.width !== b.width || a.height !== b.height) return false;
  // The x264 backend hands out the same record until it is reconfigured: no byte loop per frame.
  return a.config === b.config || (a.config.length === b.config.length && a.config.every((v, i) => v === b.config[i]));
}
