// Video loss of an analog input, from two witnesses: the decoder's input
// status (V4L2_IN_ST_NO_SIGNAL / NO_H_LOCK / NO_COLOR, immediate) and the
// picture itself (a flat black/blue screen for flatMs: cards whose status
// bits lie, or a camera that outputs sync without video). Raised once as a
// `videoLoss` event with lost: true, and lost: false when the signal has
// been back for recoverMs.
import { VIDEO_LOSS_STATUS } from '../../drivers/v4l2/index.js';
import type { EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';

export interface VideoLossOptions {
  channel: string;
  bus: EventBus;
  clock: Clock;
  /** A flat picture this long is video loss. Default 3000 ms. */
  flatMs?: number;
  /** Good signal this long before loss ends. Default 1000 ms. */
  recoverMs?: number;
  /** Called on each change (e.g. to reset motion detection). */
  onChange?: (lost: boolean) => void;
}

export class VideoLossMonitor {
  #statusLost = false;
  #flatSince: number | null = null;
  #goodSince: number | null = null;
  lost = false;
  /** Why it is lost: 'status' (input status bits) or 'flat' (the picture). */
  reason: 'status' | 'flat' | null = null;

  constructor(private readonly o: VideoLossOptions) {}

  /** The input's V4L2_IN_ST_* bits. */
  status(bits: number): void {
    this.#statusLost = (bits & VIDEO_LOSS_STATUS) !== 0;
    this.#evaluate();
  }

  /** Whether the latest picture was flat. */
  picture(flat: boolean): void {
    const now = this.o.clock.monotonic();
    if (flat) this.#flatSince ??= now;
    else this.#flatSince = null;
    this.#evaluate();
  }

  #evaluate(): void {
    const now = this.o.clock.monotonic();
    const flatLong = this.#flatSince !== null && now - this.#flatSince >= (this.o.flatMs ?? 3000);
    const bad = this.#statusLost || flatLong;
    if (bad) {
      this.#goodSince = null;
      if (!this.lost) this.#set(true, this.#statusLost ? 'status' : 'flat');
      return;
    }
    if (!this.lost) return;
    if (this.#statusLost || this.#flatSince !== null) {
      this.#goodSince = null;
      return;
    }
    this.#goodSince ??= now;
    if (now - this.#goodSince >= (this.o.recoverMs ?? 1000)) this.#set(false, null);
  }

  #set(lost: boolean, reason: VideoLossMonitor['reason']): void {
    this.lost = lost;
    this.reason = reason;
    this.o.bus.emit('videoLoss', { channel: this.o.channel, lost, at: this.o.clock.now() });
    this.o.onChange?.(lost);
  }

  /** The channel stopped: an open loss ends with it (no event for a disabled channel). */
  reset(): void {
    this.#statusLost = false;
    this.#flatSince = this.#goodSince = null;
    if (this.lost) this.#set(false, null);
  }
}
