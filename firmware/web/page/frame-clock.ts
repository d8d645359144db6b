// Which frame a <video> is showing, so pause and frame step work on whole
// frames. A paused video's currentTime falls anywhere inside a frame (or,
// in Chromium, a little before the frame already on screen), so adding one
// frame's duration to it can land on the frame that is already shown. The
// browser tells us each presented frame's media time; stepping from that
// always reaches the next frame.

/** 1 ms into a frame: a seek to its exact start can round to the frame before. */
const INSIDE = 0.001;

export class FrameClock {
  /** Media time (s) of the frame on screen; undefined before the first. */
  private shown: number | undefined;
  /** The shortest gap seen between two presented frames: the frame interval. */
  private interval = 0.04;
  private seen = false;
  private stopped = false;

  constructor(private readonly video: HTMLVideoElement) {}

  start(): void {
    if (typeof this.video.requestVideoFrameCallback !== 'function') return;
    this.stopped = false;
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
      if (this.stopped) return;
      const gap = this.shown === undefined ? 0 : meta.mediaTime - this.shown;
      // Frames a fast speed skipped, or a seek, make longer gaps; the shortest is the rate.
      if (gap > 1 / 240 && gap < 1 && (!this.seen || gap < this.interval)) {
        this.interval = gap;
        this.seen = true;
      }
      this.shown = meta.mediaTime;
      this.video.requestVideoFrameCallback(onFrame);
    };
    this.video.requestVideoFrameCallback(onFrame);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Pause on the frame that is on screen, so the clock shows that frame's time. */
  pause(): void {
    this.video.pause();
    if (this.shown !== undefined) this.video.currentTime = this.shown + INSIDE;
  }

  /** Show the next frame (pausing first). */
  step(): void {
    if (!this.video.paused) this.pause();
    const from = this.shown ?? this.video.currentTime - INSIDE;
    const next = from + this.interval;
    // Known at once, before the browser presents it, so quick clicks each move one frame.
    this.shown = next;
    this.video.currentTime = next + INSIDE;
  }
}
