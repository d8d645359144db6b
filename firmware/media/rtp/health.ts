/**
 * Stream health as a user reads it: frames per second, bitrate, GOP length,
 * packet loss. Frame rate and bitrate cover a sliding window (default 5 s)
 * of frame times, so they react within seconds; memory is bounded.
 */
export interface HealthSnapshot {
  fps: number;
  bitsPerSecond: number;
  /** Frames from one keyframe to the next (last complete GOP), 0 until two keyframes seen. */
  gop: number;
  frames: number;
  keyframes: number;
  lostPackets: number;
  receivedPackets: number;
  /** lost / (lost + received) since start, 0..1. */
  lossRatio: number;
  /** Local arrival time (ms) of the last frame, 0 if none. */
  lastFrameAt: number;
}

export class StreamHealth {
  private readonly window: { at: number; bytes: number }[] = [];
  /** Index of the window's oldest live entry: trimming moves it instead of shifting the array every frame. */
  private head = 0;
  private sinceKey = -1;
  private gop = 0;
  private frames = 0;
  private keyframes = 0;
  private lastFrameAt = 0;
  lostPackets = 0;
  receivedPackets = 0;

  constructor(private readonly windowMs = 5000) {}

  /**
   * frameMs: the frame's capture time (rates are measured on it, so network
   * and encoder bursts do not show as frame-rate swings); arrivalMs: local
   * arrival, for staleness.
   */
  onFrame(frameMs: number, arrivalMs: number, bytes: number, keyframe: boolean): void {
    this.frames++;
    this.lastFrameAt = arrivalMs;
    if (keyframe) {
      this.keyframes++;
      if (this.sinceKey > 0) this.gop = this.sinceKey;
      this.sinceKey = 0;
    }
    if (this.sinceKey >= 0) this.sinceKey++;
    this.window.push({ at: frameMs, bytes });
    this.trim(frameMs);
  }

  /** nowMs: local time; a stream silent for a whole window reads 0 fps. */
  snapshot(nowMs: number): HealthSnapshot {
    const w = this.window;
    const h = this.head;
    const n = w.length - h;
    const stale = n === 0 || nowMs - this.lastFrameAt > this.windowMs;
    // Rates over the intervals between the frames in the window (n frames, n-1 intervals).
    const span = n > 1 ? w[w.length - 1]!.at - w[h]!.at : 0;
    let bytes = 0;
    for (let i = h + 1; i < w.length; i++) bytes += w[i]!.bytes;
    const total = this.lostPackets + this.receivedPackets;
    return {
      fps: stale || span <= 0 ? 0 : ((n - 1) * 1000) / span,
      bitsPerSecond: stale || span <= 0 ? 0 : (bytes * 8 * 1000) / span,
      gop: this.gop,
      frames: this.frames,
      keyframes: this.keyframes,
      lostPackets: this.lostPackets,
      receivedPackets: this.receivedPackets,
      lossRatio: total > 0 ? this.lostPackets / total : 0,
      lastFrameAt: this.lastFrameAt,
    };
  }

  private trim(nowMs: number): void {
    const w = this.window;
    while (this.head < w.length && w[this.head]!.at < nowMs - this.windowMs) this.head++;
    // Bound memory even if the clock stands still.
    if (w.length - this.head > 10000) this.head = w.length - 10000;
    // Drop the dead prefix in one splice once it is as long as the live part.
    if (this.head >= 64 && this.head * 2 >= w.length) {
      w.splice(0, this.head);
      this.head = 0;
    }
  }
}
