import type { CameraState, EventBus } from '../core/bus.js';
import type { Clock, Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import { classify, SourceError, type FailureKind, type FrameSource } from './source.js';

/** Where a channel's frames go: the recording store's writer, the RTSP server out, live view. */
export interface FrameSink {
  frame(channel: string, stream: StreamKind, info: StreamInfo, frame: Frame): void;
}

export interface ChannelRunnerOptions {
  channel: string;
  createSource: () => FrameSource;
  sink: FrameSink;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  /** First reconnect delay; doubles per failure up to maxBackoffMs; ±jitter spreads many cameras after a switch reboot. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  jitter?: number;
  /** No frame for this long while streaming = stalled: reconnect. */
  stallMs?: number;
  random?: () => number;
}

export interface GapRecord {
  channel: string;
  /** Last frame before the gap and first frame after it, µs since the epoch. */
  from: number;
  to: number;
  reason: FailureKind | 'closed';
}

/**
 * Keeps one camera connected for as long as the channel is enabled:
 * connecting → streaming, and on any failure reconnecting with exponential
 * backoff and jitter (unauthorized and unreachable are reported as such),
 * with a stall watchdog. Every interruption becomes a gap, reported with its
 * bounds once frames flow again, never hidden.
 */
export class ChannelRunner {
  state: CameraState = 'disabled';
  private source?: FrameSource;
  private info = new Map<StreamKind, StreamInfo>();
  private retry?: Timer;
  private stall?: Timer;
  private failures = 0;
  private lastFrameTime: number | null = null;
  /** Monotonic ms of the last frame (or of PLAY), for the stall watchdog. */
  private lastFrameAt = 0;
  private gapReason: GapRecord['reason'] | null = null;
  private running = false;
  readonly gaps: GapRecord[] = [];
  lastError: string | null = null;

  constructor(private readonly o: ChannelRunnerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.retry) this.o.clock.clearTimeout(this.retry);
    if (this.stall) this.o.clock.clearTimeout(this.stall);
    this.retry = this.stall = undefined;
    const s = this.source;
    this.source = undefined;
    await s?.stop().catch(() => {});
    this.setState('disabled');
  }

  private connect(): void {
    if (!this.running) return;
    this.setState(this.failures === 0 ? 'connecting' : 'reconnecting');
    const source = this.o.createSource();
    this.source = source;
    source.on('info', (stream, info) => this.info.set(stream, info));
    source.on('frame', (stream, frame) => this.onFrame(source, stream, frame));
    source.on('close', (err) => {
      if (source !== this.source) return;
      this.fail(err ?? new SourceError('the camera ended the stream', 'protocol'), 'closed');
    });
    source.start().then(
      () => {
        if (source !== this.source || !this.running) return;
        this.setState('streaming');
        this.lastFrameAt = this.o.clock.monotonic();
        if (this.stall) this.o.clock.clearTimeout(this.stall);
        this.armStall(source);
      },
      (err: unknown) => {
        if (source === this.source) this.fail(err, null);
      },
    );
  }

  private onFrame(source: FrameSource, stream: StreamKind, frame: Frame): void {
    if (source !== this.source) return;
    const info = this.info.get(stream);
    if (!info) return; // frames before their stream description cannot be decoded later: dropped
    if (this.gapReason !== null && this.lastFrameTime !== null) {
      const gap = { channel: this.o.channel, from: this.lastFrameTime, to: frame.time, reason: this.gapReason };
      this.gaps.push(gap);
      this.o.bus.emit('recordingGap', { ...gap, at: this.o.clock.now() });
      this.o.log.warn('recording gap', { channel: gap.channel, seconds: Math.round((gap.to - gap.from) / 1e5) / 10, reason: gap.reason });
    }
    this.gapReason = null;
    this.failures = 0;
    if (stream !== 'audio') this.lastFrameTime = frame.time;
    if (this.state !== 'streaming') this.setState('streaming');
    this.lastFrameAt = this.o.clock.monotonic();
    this.o.sink.frame(this.o.channel, stream, info, frame);
  }

  /**
   * One watchdog timer per connection, not one per frame: a frame only
   * records when it came; the timer, when it fires early, sleeps again for
   * the rest of the interval, so a stall is still declared exactly stallMs
   * after the last frame.
   */
  private armStall(source: FrameSource, delay = this.o.stallMs ?? 10_000): void {
    const ms = this.o.stallMs ?? 10_000;
    this.stall = this.o.clock.setTimeout(() => {
      this.stall = undefined;
      if (source !== this.source) return;
      const quiet = this.o.clock.monotonic() - this.lastFrameAt;
      if (quiet < ms) this.armStall(source, ms - quiet);
      else this.fail(new SourceError(`no media for ${ms / 1000} s`, 'stalled'), 'stalled');
    }, delay);
  }

  private fail(err: unknown, reason: GapRecord['reason'] | null): void {
    if (!this.running) return;
    const kind = classify(err);
    this.lastError = err instanceof Error ? err.message : String(err);
    if (this.gapReason === null) this.gapReason = reason ?? kind;
    if (this.stall) this.o.clock.clearTimeout(this.stall);
    const old = this.source;
    this.source = undefined;
    void old?.stop().catch(() => {});
    this.failures++;
    const base = this.o.baseBackoffMs ?? 1000;
    const max = this.o.maxBackoffMs ?? 30_000;
    const jitter = this.o.jitter ?? 0.2;
    const delay = Math.min(max, base * 2 ** Math.min(this.failures - 1, 20)) * (1 + jitter * (2 * (this.o.random ?? Math.random)() - 1));
    this.setState(kind === 'unauthorized' ? 'unauthorized' : kind === 'unreachable' ? 'unreachable' : 'reconnecting', this.lastError);
    this.o.log.warn('camera connection failed', { channel: this.o.channel, kind, error: this.lastError, retryInMs: Math.round(delay) });
    this.retry = this.o.clock.setTimeout(() => {
      this.retry = undefined;
      this.connect();
    }, delay);
  }

  private setState(state: CameraState, detail?: string): void {
    if (state === this.state && !detail) return;
    this.state = state;
    this.o.bus.emit('cameraState', { channel: this.o.channel, state, at: this.o.clock.now(), ...(detail ? { detail } : {}) });
  }
}
