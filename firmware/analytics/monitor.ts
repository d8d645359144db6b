// The stateful side of the analytics for one channel: feeds luma planes to
// the pure detectors at a bounded rate and turns their per-frame answers into
// `motion` and `tamper` bus events with a start and an end (hysteresis), on
// an injectable clock.
import type { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { type LumaPlane, lumaStats, type LumaStats } from './luma.js';
import { detectMotion, type MotionResult, type MotionSettings } from './motion.js';
import { emptyBaseline, isTampered, type TamperBaseline, type TamperSettings, updateBaseline } from './tamper.js';

declare module '../core/bus.js' {
  interface BusEvents {
    /** Most of a channel's picture changed at once (lighting, camera moved): not motion, reported apart. */
    sceneChange: { channel: string; at: number; shift: number; cells: number };
  }
}

export interface MotionTiming {
  /** Analysed frames in a row with motion before it starts. Default 2. */
  startFrames?: number;
  /** Quiet time before it ends. Default 3000 ms. */
  endMs?: number;
}

export interface TamperTiming {
  /** Tampered this long before it starts (someone walking past the lens is not tamper). Default 2000 ms. */
  startMs?: number;
  /** Clear this long before it ends. Default 3000 ms. */
  endMs?: number;
}

export interface ChannelAnalyticsOptions {
  channel: string;
  bus: EventBus;
  clock: Clock;
  /** null: no motion detection. */
  motion?: (MotionSettings & MotionTiming) | null;
  /** null: no tamper detection. */
  tamper?: (TamperSettings & TamperTiming) | null;
  /** At most one analysed frame per this many ms (frame differencing at ~5 fps). Default 200. */
  intervalMs?: number;
}

export class ChannelAnalytics {
  #prev: LumaPlane | undefined;
  #lastAt = -Infinity;
  #motionRun = 0;
  #motionActive = false;
  #lastMotionAt = 0;
  #baseline: TamperBaseline = emptyBaseline;
  #tamperSince: number | null = null;
  #tamperActive = false;
  #clearSince: number | null = null;
  /** The last analysis, for status pages and tests. */
  last: { motion: MotionResult | null; stats: LumaStats; tampered: boolean } | null = null;
  readonly counters = { analysed: 0, skipped: 0 };

  constructor(private readonly o: ChannelAnalyticsOptions) {}

  get motionActive(): boolean {
    return this.#motionActive;
  }

  get tamperActive(): boolean {
    return this.#tamperActive;
  }

  /**
   * One sub-stream luma plane. Copies what it keeps (the caller's buffer may
   * be a capture buffer about to be reused). Returns false if skipped (rate).
   */
  push(luma: LumaPlane): boolean {
    const now = this.o.clock.monotonic();
    if (now - this.#lastAt < (this.o.intervalMs ?? 200)) {
      this.counters.skipped++;
      return false;
    }
    this.#lastAt = now;
    this.counters.analysed++;
    const stats = lumaStats(luma);
    let motion: MotionResult | null = null;
    if (this.o.motion && this.#prev && this.#prev.width === luma.width && this.#prev.height === luma.height) {
      motion = detectMotion(this.#prev, luma, this.o.motion);
    }
    const tampered = this.o.tamper ? isTampered(stats, this.#baseline, this.o.tamper) : false;
    if (this.o.tamper && !tampered && !this.#tamperActive) this.#baseline = updateBaseline(this.#baseline, stats, this.o.tamper);
    this.#keep(luma);
    this.last = { motion, stats, tampered };
    if (this.o.motion) this.#motion(motion, now);
    if (this.o.tamper) this.#tamper(tampered, now);
    return true;
  }

  #keep(luma: LumaPlane): void {
    const size = luma.width * luma.height;
    const data = this.#prev && this.#prev.data.length === size ? this.#prev.data : new Uint8Array(size);
    for (let y = 0; y < luma.height; y++) data.set(luma.data.subarray(y * luma.stride, y * luma.stride + luma.width), y * luma.width);
    this.#prev = { data, width: luma.width, height: luma.height, stride: luma.width };
  }

  #motion(r: MotionResult | null, now: number): void {
    const o = this.o.motion!;
    if (r?.global) this.o.bus.emit('sceneChange', { channel: this.o.channel, at: this.o.clock.now(), shift: Math.round(r.shift * 10) / 10, cells: r.active });
    if (r?.motion) {
      this.#motionRun++;
      this.#lastMotionAt = now;
      if (!this.#motionActive && this.#motionRun >= (o.startFrames ?? 2)) {
        this.#motionActive = true;
        this.o.bus.emit('motion', { channel: this.o.channel, active: true, at: this.o.clock.now(), cells: r.active });
      }
      return;
    }
    this.#motionRun = 0;
    if (this.#motionActive && now - this.#lastMotionAt >= (o.endMs ?? 3000)) this.#endMotion();
  }

  #endMotion(): void {
    this.#motionActive = false;
    this.#motionRun = 0;
    this.o.bus.emit('motion', { channel: this.o.channel, active: false, at: this.o.clock.now() });
  }

  #tamper(tampered: boolean, now: number): void {
    const o = this.o.tamper!;
    if (tampered) {
      this.#clearSince = null;
      this.#tamperSince ??= now;
      if (!this.#tamperActive && now - this.#tamperSince >= (o.startMs ?? 2000)) {
        this.#tamperActive = true;
        this.o.bus.emit('tamper', { channel: this.o.channel, active: true, at: this.o.clock.now() });
      }
      return;
    }
    this.#tamperSince = null;
    if (!this.#tamperActive) return;
    this.#clearSince ??= now;
    if (now - this.#clearSince >= (o.endMs ?? 3000)) this.#endTamper();
  }

  #endTamper(): void {
    this.#tamperActive = false;
    this.#clearSince = null;
    this.o.bus.emit('tamper', { channel: this.o.channel, active: false, at: this.o.clock.now() });
  }

  /**
   * The picture stopped (video loss, reconnect, stop): active events end now
   * and the next frame starts afresh (no differencing across the break).
   */
  reset(): void {
    this.#prev = undefined;
    this.#lastAt = -Infinity;
    this.#tamperSince = null;
    if (this.#motionActive) this.#endMotion();
    if (this.#tamperActive) this.#endTamper();
  }
}
