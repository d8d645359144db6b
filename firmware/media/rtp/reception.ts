/**
 * Per-source reception statistics (RFC 3550 appendix A.1, A.3, A.8): what a
 * receiver report needs, and the loss figures the stream health shows.
 * Fed with packets in arrival order (jitter is about arrival).
 */
import type { ReportBlock, SenderReport } from './rtcp.js';

const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

export class ReceptionStats {
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private received = 0;
  private started = false;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit: number | undefined;
  private jitterQ4 = 0; // jitter * 16, as in A.8, to keep precision in integers
  private lastSr: { middle: number; arrivalMs: number } | undefined;

  constructor(private readonly clockRate: number) {}

  /** arrivalMs: wall-clock arrival time. */
  onPacket(seq: number, timestamp: number, arrivalMs: number): void {
    if (!this.started) {
      this.started = true;
      this.baseSeq = seq;
      this.maxSeq = seq;
    } else {
      const delta = (seq - this.maxSeq) & 0xffff;
      if (delta < MAX_DROPOUT) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      } else if (delta <= 0x10000 - MAX_MISORDER) {
        // A big jump: the sender restarted. Resynchronise rather than count
        // tens of thousands of packets as lost.
        this.baseSeq = seq;
        this.maxSeq = seq;
        this.cycles = 0;
        this.received = 0;
        this.expectedPrior = 0;
        this.receivedPrior = 0;
      } // else: a late or duplicate packet, counted as received below.
    }
    this.received++;
    const arrival = Math.round((arrivalMs * this.clockRate) / 1000);
    const transit = (arrival - timestamp) | 0;
    if (this.transit !== undefined) {
      const d = Math.abs((transit - this.transit) | 0);
      this.jitterQ4 += d - ((this.jitterQ4 + 8) >> 4);
    }
    this.transit = transit;
  }

  onSenderReport(sr: SenderReport, arrivalMs: number): void {
    this.lastSr = { middle: ((sr.ntpSeconds & 0xffff) << 16) | (sr.ntpFraction >>> 16), arrivalMs };
  }

  get extendedHighest(): number {
    return this.cycles + this.maxSeq;
  }
  get expected(): number {
    return this.started ? this.extendedHighest - this.baseSeq + 1 : 0;
  }
  /** Packets never received; negative with duplicates, as RFC 3550 allows. */
  get lost(): number {
    return this.expected - this.received;
  }
  get packetsReceived(): number {
    return this.received;
  }
  /** Interarrival jitter in timestamp units. */
  get jitter(): number {
    return this.jitterQ4 >> 4;
  }

  /** The block for the next receiver report; resets the "since last report" counters. */
  reportBlock(ssrc: number, nowMs: number): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval);
    return {
      ssrc,
      fractionLost,
      cumulativeLost: this.lost,
      highestSeq: this.extendedHighest >>> 0,
      jitter: this.jitter,
      lsr: this.lastSr ? this.lastSr.middle >>> 0 : 0,
      dlsr: this.lastSr ? Math.max(0, Math.round(((nowMs - this.lastSr.arrivalMs) * 65536) / 1000)) : 0,
    };
  }
}
