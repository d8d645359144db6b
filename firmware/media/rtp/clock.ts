/**
 * RTP timestamps to wall-clock microseconds.
 *
 * Timestamps are first unwrapped from 32 bits to a continuous count (safe as
 * a JS number for millions of years at 90 kHz). Then:
 *
 * - The local arrival time of the first packet anchors the stream; later
 *   frames advance by their timestamp difference, so network jitter does not
 *   leak into frame times.
 * - RTCP sender reports give the camera's capture time (NTP) for a
 *   timestamp. The difference to the arrival mapping is applied as an offset
 *   that is slewed, never stepped: at most 1% of the media time elapsed, so
 *   frame times stay monotonic and a measured frame rate is off by ≤ 1%
 *   while converging. If an SR arrives before any frame, it applies at once.
 * - A camera whose clock is more than 10 s off ours (no NTP configured, a
 *   common case) is not trusted for absolute time: the arrival mapping stays
 *   (`skewed` is set). Tracks then line up only to within their latency
 *   difference, tens of milliseconds.
 */
import { ntpToUnixMicros, type SenderReport } from './rtcp.js';

const SLEW = 0.01;
const MAX_SKEW_US = 10_000_000;

export class TimestampUnwrapper {
  private last: number | undefined;
  private ext = 0;

  /** Returns the 32-bit timestamp extended to a monotonic-ish count; small steps back (reordering) are allowed. */
  unwrap(ts: number): number {
    ts >>>= 0;
    if (this.last === undefined) {
      this.last = ts;
      this.ext = ts;
      return ts;
    }
    const delta = ((ts - this.last) | 0); // signed 32-bit difference
    this.last = ts;
    this.ext += delta;
    return this.ext;
  }
}

export type ClockSource = 'sr' | 'arrival';

export class RtpClock {
  private readonly unwrapper = new TimestampUnwrapper();
  private anchor: { ext: number; us: number } | undefined;
  private sr: { ext: number; us: number } | undefined;
  private offset = 0;
  private lastExt: number | undefined;
  /** The camera clock is too far from ours to be used (see above). */
  skewed = false;

  constructor(readonly clockRate: number) {}

  /** 'sr' once a sender report shapes the times. */
  get source(): ClockSource | undefined {
    if (!this.anchor) return undefined;
    return this.sr ? 'sr' : 'arrival';
  }

  toWallMicros(timestamp: number, arrivalUs: number): number {
    const ext = this.unwrapper.unwrap(timestamp);
    const first = !this.anchor;
    if (!this.anchor) this.anchor = { ext, us: arrivalUs };
    const base = this.anchor.us + ((ext - this.anchor.ext) * 1e6) / this.clockRate;
    if (this.sr) {
      const desired = this.sr.us + ((ext - this.sr.ext) * 1e6) / this.clockRate - base;
      if (first) this.offset = desired;
      else {
        const step = (Math.abs(ext - (this.lastExt ?? ext)) * 1e6 * SLEW) / this.clockRate;
        this.offset += Math.max(-step, Math.min(step, desired - this.offset));
      }
    }
    this.lastExt = ext;
    return Math.round(base + this.offset);
  }

  /** arrivalUs: local time the SR arrived, to judge the camera's clock. */
  onSenderReport(sr: SenderReport, arrivalUs: number): void {
    const us = ntpToUnixMicros(sr.ntpSeconds, sr.ntpFraction);
    if (Math.abs(us - arrivalUs) > MAX_SKEW_US) {
      this.skewed = true;
      return;
    }
    this.skewed = false;
    // Unwrap the SR timestamp relative to the stream's, without disturbing
    // the packet unwrapper's state.
    let ext = sr.rtpTimestamp >>> 0;
    if (this.lastExt !== undefined) {
      const last32 = ((this.lastExt % 2 ** 32) + 2 ** 32) % 2 ** 32;
      ext = this.lastExt + ((sr.rtpTimestamp - last32) | 0);
    }
    this.sr = { ext, us };
  }
}
