// An analog camera as a FrameSource: V4L2 capture -> main encoder, and the
// 2:1 scaler -> sub encoder, from the same capture buffer. ChannelRunner
// treats it like an RTSP camera: one instance per attempt, a failure (device
// gone, busy, bad format, bad buffer) closes it and the runner retries.
//
// Each stream is the captured picture (D1), or one (CIF) or two (QCIF) 2:1
// passes of the scaler, at the capture's rate or fewer frames chosen by
// timestamp (dvr-streams.ts). The CIF picture is made once per captured
// frame whenever a stream or analytics needs it, and shared; QCIF is made
// from it, only for the frames the sub stream keeps.
//
// Copies per frame a stream encodes, between the capture buffer and its
// encoder's input (stats.copiesPerFrame): one per scaler pass (each writes a
// picture 1/4 the size of what it reads), plus one where the encoder does
// not read its input in place: x264 reads the mmap()ed capture buffer or the
// scaled picture (0 more), v4l2-m2m copies it into its OUTPUT buffer (1).
// So main D1: 0 (x264) or 1; CIF: 1 or 2; sub QCIF: 2 or 3.
// The capture buffer goes back to the driver once the D1 encode settled
// (at once when no stream encodes it), the scaled ones to their pools once
// the encodes reading them settled.
import { EventEmitter } from 'node:events';
import { JpegEncoder, downscale2x, downscaledFormat, type CodedUnit, type Encoder, type RawPicture } from '../../drivers/encoder/index.js';
import type { Frame as CaptureFrame } from '../../drivers/v4l2/index.js';
import type { Clock } from '../core/clock.js';
import type { LumaPlane } from '../analytics/luma.js';
import { lumaOfYuyv } from '../analytics/luma.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import type { CaptureGeometry, CaptureHandle, CaptureOpener, CaptureRequest } from './dvr-capture.js';
import { applyImageSettings, changedImageControls, IMAGE_CONTROLS, NO_IMAGE_SETTINGS, type DvrImageSettings, type ImageReport } from './dvr-image.js';
import { capturedPicture, encoderConfig, planStream, StreamPlanError, type DvrMainSettings, type DvrSubSettings, type StreamPlan } from './dvr-streams.js';
import { SourceError, type FrameSource, type FrameSourceEvents } from './source.js';

export type { DvrMainSettings, DvrStreamSettings, DvrSubSettings } from './dvr-streams.js';

export interface DvrPicture {
  /** Luma of the CIF picture whenever one is made (a sub stream, or a CIF main), else of the captured one. */
  luma: LumaPlane;
  /** Frame time, µs since the epoch. */
  time: number;
}

export interface DvrSourceOptions {
  capture: CaptureRequest;
  open: CaptureOpener;
  /** A new encoder for 'main' or 'sub' (the registry's createEncoder with the channel's backend). */
  createEncoder: (stream: 'main' | 'sub') => Encoder;
  main: DvrMainSettings;
  sub: DvrSubSettings | null;
  /** Picture controls, set on the capture once it is open; absent: each at the driver's default. */
  image?: DvrImageSettings;
  /** What setting the picture controls did (at start and on each setImage). */
  onImage?: (report: ImageReport) => void;
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
  /** Copies of picture data per frame the stream encodes, between capture buffer and encoder input (see the file comment). */
  copiesPerFrame: { main: number; sub: number };
}

export class DvrCameraSource extends EventEmitter<FrameSourceEvents> implements FrameSource {
  #handle: CaptureHandle | undefined;
  #main: Encoder | undefined;
  #sub: Encoder | undefined;
  #mainPlan: StreamPlan | undefined;
  #subPlan: StreamPlan | null = null;
  #settings: { main: DvrMainSettings; sub: DvrSubSettings | null };
  #image: DvrImageSettings;
  /** Encoders being opened (start) or reopened (reconfigure): one at a time, in order. */
  #ready: Promise<void> = Promise.resolve();
  /** Streams whose encoder is being reopened: pictures still feed analytics, snapshots and the other stream. */
  #paused = new Set<'main' | 'sub'>();
  /** An encoder being configured, not yet the stream's. */
  #opening: Encoder | undefined;
  #geometry: CaptureGeometry | undefined;
  #info = new Map<StreamKind, StreamInfo>();
  #pending = new Set<Promise<unknown>>();
  #halves: Uint8Array[] = [];
  #quarters: Uint8Array[] = [];
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
    this.#settings = { main: o.main, sub: o.sub };
    this.#image = o.image ?? NO_IMAGE_SETTINGS;
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
    // Before the encoders, so their first keyframe already has the picture asked for.
    this.#applyImage(IMAGE_CONTROLS);
    try {
      await (this.#ready = this.#openEncoders(g));
    } catch (err) {
      await this.#teardown();
      throw encoderError(err);
    }
    handle.stream.on('frame', (f) => this.#onFrame(f));
    handle.stream.on('error', (err) => this.#fail(err));
    handle.stream.on('end', () => this.#fail(new SourceError(`capture on ${this.o.capture.device} ended`, 'protocol')));
    this.#pollStatus();
  }

  /** Plans both streams on this capture and opens their encoders with the current settings. */
  async #openEncoders(g: CaptureGeometry): Promise<void> {
    await this.#openEncoder('main', g);
    await this.#openEncoder('sub', g);
  }

  /** One stream's plan and encoder, swapped in together once the encoder is open (sub: none when it has no settings). */
  async #openEncoder(stream: 'main' | 'sub', g: CaptureGeometry): Promise<void> {
    const settings = this.#settings[stream];
    const plan = settings ? planStream(g, settings.resolution ?? (stream === 'main' ? 'D1' : 'CIF'), settings.fps) : null;
    let enc: Encoder | undefined;
    if (settings && plan) {
      enc = this.o.createEncoder(stream);
      // Held where teardown finds it while it opens.
      this.#opening = enc;
      await enc.configure(encoderConfig(settings, plan, g.format));
      this.#opening = undefined;
    }
    this.stats.copiesPerFrame[stream] = plan && enc ? plan.passes + (enc.backend === 'x264' ? 0 : 1) : 0;
    if (stream === 'main') {
      this.#main = enc;
      this.#mainPlan = plan!;
    } else {
      this.#sub = enc;
      this.#subPlan = plan;
    }
  }

  /**
   * New stream settings while the capture keeps running: the encoder of
   * each stream whose settings differ is drained and opened again; the
   * pictures captured meanwhile (tens of ms with x264) are not encoded on
   * that stream, and the other stream carries on. Settings the encoder
   * refuses close the source like any failure; the runner's next attempt
   * uses them again, so the channel's state shows the refusal until the
   * settings change.
   */
  reconfigure(main: DvrMainSettings, sub: DvrSubSettings | null): Promise<void> {
    const changed = (['main', 'sub'] as const).filter((k) => JSON.stringify(this.#settings[k]) !== JSON.stringify(k === 'main' ? main : sub));
    this.#settings = { main, sub };
    // Not started yet: start() opens the encoders with these.
    if (!this.#geometry || changed.length === 0) return Promise.resolve();
    const run = this.#ready.catch(() => {}).then(() => this.#reopen(changed));
    this.#ready = run;
    return run;
  }

  /**
   * New picture controls while the capture keeps running: an ioctl per
   * changed control on the open node; the encoders and the capture carry on.
   * Before the capture is open, start() sets them.
   */
  setImage(image: DvrImageSettings): void {
    const changed = changedImageControls(this.#image, image);
    this.#image = image;
    if (changed.length > 0 && this.#handle && !this.#stopped && !this.#closed) this.#applyImage(changed);
  }

  #applyImage(only: readonly (keyof DvrImageSettings)[]): void {
    const report = applyImageSettings(this.#handle!.controls, this.#image, only);
    try {
      this.o.onImage?.(report);
    } catch {
      // reporting must never stop the recording
    }
  }

  async #reopen(streams: readonly ('main' | 'sub')[]): Promise<void> {
    if (this.#stopped || this.#closed) return;
    for (const stream of streams) this.#paused.add(stream);
    await Promise.allSettled([...this.#pending]);
    for (const stream of streams) {
      const enc = stream === 'main' ? this.#main : this.#sub;
      if (enc) await this.#closeEncoder(stream, enc, true);
      if (this.#stopped || this.#closed) return;
      try {
        await this.#openEncoder(stream, this.#geometry!);
      } catch (err) {
        this.#fail(encoderError(err));
        return;
      }
      this.#paused.delete(stream);
    }
  }

  /** Closes a stream's encoder; `drain`: what it still holds is emitted first. */
  async #closeEncoder(stream: 'main' | 'sub', enc: Encoder, drain: boolean): Promise<void> {
    if (stream === 'main' && this.#main === enc) this.#main = undefined;
    if (stream === 'sub' && this.#sub === enc) this.#sub = undefined;
    if (drain) {
      try {
        this.#emitUnits(stream, enc, await enc.flush());
      } catch {
        // an encoder that cannot drain loses its last frames, not the channel
      }
    }
    await enc.close().catch(() => {});
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
    const raw = capturedPicture(data, g);
    if (this.#snapshotWaiters.length) this.#snapshot(raw, g);
    const mainPlan = this.#mainPlan!;
    const subPlan = this.#subPlan;
    const main = this.#paused.has('main') ? undefined : this.#main;
    const sub = this.#paused.has('sub') ? undefined : this.#sub;
    const hw = g.width / 2;
    const hh = g.height / 2;
    let half: Uint8Array | undefined;
    if (subPlan || mainPlan.passes > 0) {
      half = this.#halves.pop() ?? new Uint8Array((hw * hh * 3) / 2);
      downscale2x(raw, g.format, g.width, g.height, half);
    }
    const takeMain = main !== undefined && (mainPlan.gate?.keep(pts) ?? true);
    const takeSub = sub !== undefined && subPlan !== null && (subPlan.gate?.keep(pts) ?? true);
    let quarter: Uint8Array | undefined;
    if (takeSub && subPlan!.passes === 2) {
      quarter = this.#quarters.pop() ?? new Uint8Array((hw * hh * 3) / 8);
      downscale2x(half!, downscaledFormat(g.format), hw, hh, quarter);
    }
    let luma: LumaPlane;
    if (half) {
      luma = { data: half, width: hw, height: hh, stride: hw };
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
    const readingCapture: Promise<void>[] = [];
    const readingHalf: Promise<void>[] = [];
    if (takeMain) {
      const done = this.#encode('main', main!, mainPlan.passes === 0 ? raw : half!, pts);
      (mainPlan.passes === 0 ? readingCapture : readingHalf).push(done);
    }
    if (takeSub) {
      const done = this.#encode('sub', sub!, quarter ?? half!, pts);
      if (quarter) {
        const q = quarter;
        void done.finally(() => this.#quarters.push(q));
      } else {
        readingHalf.push(done);
      }
    }
    if (readingCapture.length) void Promise.all(readingCapture).finally(() => f.release());
    else f.release();
    if (half) {
      const h = half;
      if (readingHalf.length) void Promise.all(readingHalf).finally(() => this.#halves.push(h));
      else this.#halves.push(h);
    }
  }

  #encode(stream: 'main' | 'sub', enc: Encoder, picture: RawPicture, pts: number): Promise<void> {
    return this.#track(enc.encode(picture, pts).then((units) => this.#emitUnits(stream, enc, units)));
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

  #emitUnits(stream: 'main' | 'sub', enc: Encoder, units: CodedUnit[]): void {
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
    // Encoders being reopened must be there to be closed; encodes in flight hold capture buffers: let them settle, then free the encoders.
    await this.#ready.catch(() => {});
    await Promise.allSettled([...this.#pending]);
    const encoders = [['main', this.#main], ['sub', this.#sub]] as const;
    const opening = this.#opening;
    this.#opening = undefined;
    await opening?.close().catch(() => {});
    await Promise.allSettled(encoders.map(([stream, enc]) => enc && this.#closeEncoder(stream, enc, false)));
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

function encoderError(err: unknown): SourceError {
  const message = err instanceof Error ? err.message : String(err);
  return new SourceError(err instanceof StreamPlanError ? message : `encoder: ${message}`, 'protocol');
}

function sameInfo(a: StreamInfo, b: StreamInfo): boolean {
  if (a.codec !== b.codec || a.width !== b.width || a.height !== b.height) return false;
  // The x264 backend hands out the same record until it is reconfigured: no byte loop per frame.
  return a.config === b.config || (a.config.length === b.config.length && a.config.every((v, i) => v === b.config[i]));
}
