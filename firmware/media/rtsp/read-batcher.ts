/**
 * ReadBatcher: lets the kernel gather an RTSP-over-TCP media stream into
 * fewer, larger reads. A 4 Mbit/s camera writes ~400 interleaved packets a
 * second; read as they come, each wakes the event loop (epoll, read, a call
 * into JavaScript), which cost the firmware more CPU than ffmpeg spends on
 * the whole camera (scripts/bench/nvr-ingest.ts). With SO_RCVLOWAT set to
 * the bytes the camera sends in `delayMs`, the socket turns readable about
 * once a frame instead.
 *
 * The price is up to `delayMs` of latency while the stream flows. When it
 * stops, bytes below the mark would wait in the kernel for good (the last
 * packets before a stall): a tick that saw no read drops the mark to 1,
 * which the kernel applies at once, so nothing is held longer than about two
 * ticks. An answer the connection waits for must not wait that long (a
 * TEARDOWN's comes after the media has stopped): `release()` drops the mark
 * before a request goes out. The mark follows the measured rate, once a
 * window. Each tick is a wake-up of the process per camera, which on a
 * small board costs more than the little JavaScript it runs: one a second.
 */
import { setsockoptInt, SOL_SOCKET, SO_RCVLOWAT } from '../../../drivers/libc/index.js';

export interface ReadBatcherOptions {
  /** Target extra delay while media flows. */
  delayMs: number;
  /** How often the rate is re-measured and a silent socket flushed. Default 1000 ms. */
  tickMs?: number;
  /** Ceiling of the mark (the read buffer is 64 KiB; the kernel caps it at half the receive buffer). Default 32 KiB. */
  maxBytes?: number;
  /** For tests; default setsockopt(SO_RCVLOWAT) through drivers/libc. */
  setLowWater?: (fd: number, bytes: number) => void;
  now?: () => number;
}

const setLowWaterMark = (fd: number, bytes: number) => setsockoptInt(fd, SOL_SOCKET, SO_RCVLOWAT, bytes);

export class ReadBatcher {
  private readonly o: Required<Omit<ReadBatcherOptions, 'setLowWater' | 'now'>>;
  private readonly setLowWater: (fd: number, bytes: number) => void;
  private readonly now: () => number;
  private mark = 1;
  private bytes = 0;
  private readsSinceTick = 0;
  private windowStart: number;
  private timer: NodeJS.Timeout | undefined;
  private failed = false;

  constructor(
    private readonly fd: number,
    options: ReadBatcherOptions,
  ) {
    this.o = { delayMs: options.delayMs, tickMs: options.tickMs ?? 1000, maxBytes: options.maxBytes ?? 32 * 1024 };
    this.setLowWater = options.setLowWater ?? setLowWaterMark;
    this.now = options.now ?? (() => performance.now());
    this.windowStart = this.now();
  }

  /** Starts ticking; false when the socket refuses the option (then reads stay as they were). */
  start(): boolean {
    if (!this.apply(1)) return false;
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
    this.timer.unref();
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The current low-water mark in bytes (1 = every byte wakes the reader). */
  get lowWater(): number {
    return this.mark;
  }

  onRead(n: number): void {
    this.bytes += n;
    this.readsSinceTick++;
  }

  /** A reply is awaited: every byte wakes the reader until the next window sets the mark again. */
  release(): void {
    if (this.failed || this.mark === 1) return;
    this.apply(1);
  }

  tick(): void {
    if (this.failed) return;
    if (this.readsSinceTick === 0) {
      // Silent for a whole tick: whatever sits below the mark is released now.
      if (this.mark > 1) this.apply(1);
      this.bytes = 0;
      this.windowStart = this.now();
      return;
    }
    this.readsSinceTick = 0;
    const now = this.now();
    const elapsed = now - this.windowStart;
    if (elapsed < 950) return; // a window of about a second; timers fire a little early or late
    const want = Math.max(1, Math.min(this.o.maxBytes, Math.floor((this.bytes / elapsed) * this.o.delayMs)));
    this.bytes = 0;
    this.windowStart = now;
    // Small changes are not worth a system call.
    if (Math.abs(want - this.mark) > this.mark / 4) this.apply(want);
  }

  private apply(bytes: number): boolean {
    try {
      this.setLowWater(this.fd, bytes);
      this.mark = bytes;
      return true;
    } catch {
      this.failed = true;
      this.stop();
      return false;
    }
  }
}
