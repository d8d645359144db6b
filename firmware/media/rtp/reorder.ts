/**
 * Reorder (jitter) buffer for RTP over UDP: holds packets briefly so that
 * out-of-order arrivals come out in sequence, and declares a gap lost when
 * the buffer is full or the oldest packet has waited too long. Over TCP the
 * stream is already in order and this is not used.
 *
 * Bounded: at most `capacity` packets are held; the depacketizers are told
 * about every gap (`lost`) so they can drop half-received NAL units.
 */
import type { RtpPacket } from './packet.js';

export interface Released {
  packet: RtpPacket;
  /** Packets declared lost right before this one. */
  lost: number;
}

export interface ReorderStats {
  lost: number;
  /** Arrived after their place was released (includes copies of released packets). */
  late: number;
  /** Copies of packets still held. */
  duplicates: number;
  reordered: number;
}

/** Signed distance a→b in 16-bit sequence space, -32768..32767. */
export function seqDiff(a: number, b: number): number {
  return (((b - a) & 0xffff) << 16) >> 16;
}

export class ReorderBuffer {
  private readonly held = new Map<number, { packet: RtpPacket; at: number }>();
  /** Sequence number expected next, undefined until the first packet. */
  private next: number | undefined;
  readonly stats: ReorderStats = { lost: 0, late: 0, duplicates: 0, reordered: 0 };

  constructor(
    private readonly capacity = 128,
    /** How long a gap may stay open before it is declared lost. */
    private readonly maxDelayMs = 200,
  ) {}

  get size(): number {
    return this.held.size;
  }

  push(packet: RtpPacket, nowMs: number): Released[] {
    const seq = packet.sequence;
    if (this.next === undefined) this.next = seq;
    const d = seqDiff(this.next, seq);
    if (d < 0) {
      // Behind what we already released: too late to use. A huge jump
      // backwards (sender restart) resets the buffer instead.
      if (d < -1000) {
        const out = this.drain();
        this.next = seq;
        return [...out, ...this.push(packet, nowMs)];
      }
      this.stats.late++;
      return [];
    }
    if (d > 1000) {
      // Sender restart or a long outage: flush what we hold and resync.
      const out = this.drain();
      this.next = seq;
      return [...out, ...this.push(packet, nowMs)];
    }
    if (this.held.has(seq)) {
      this.stats.duplicates++;
      return [];
    }
    if (d > 0) this.stats.reordered++;
    this.held.set(seq, { packet, at: nowMs });
    return this.release(nowMs);
  }

  /** Releases what timed out; call periodically (e.g. every 50 ms) even if nothing arrives. */
  poll(nowMs: number): Released[] {
    return this.release(nowMs);
  }

  /** Releases everything held, in order, counting the gaps. */
  drain(): Released[] {
    const out: Released[] = [];
    while (this.held.size > 0) out.push(this.skipToOldest());
    return out;
  }

  private release(nowMs: number): Released[] {
    const out: Released[] = [];
    for (;;) {
      const head = this.next !== undefined ? this.held.get(this.next) : undefined;
      if (head) {
        this.held.delete(this.next!);
        this.next = (this.next! + 1) & 0xffff;
        out.push({ packet: head.packet, lost: 0 });
        continue;
      }
      if (this.held.size === 0) break;
      const oldest = this.oldestEntry();
      if (this.held.size >= this.capacity || nowMs - oldest.at >= this.maxDelayMs) {
        out.push(this.skipToOldest());
        continue;
      }
      break;
    }
    return out;
  }

  private oldestEntry(): { packet: RtpPacket; at: number } {
    let best: { packet: RtpPacket; at: number } | undefined;
    let bestD = Infinity;
    for (const [seq, e] of this.held) {
      const d = seqDiff(this.next!, seq);
      if (d < bestD) {
        bestD = d;
        best = e;
      }
    }
    return best!;
  }

  /** Gives up on the gap before the lowest held packet and releases it. */
  private skipToOldest(): Released {
    const e = this.oldestEntry();
    const seq = e.packet.sequence;
    const lost = seqDiff(this.next!, seq);
    this.stats.lost += lost;
    this.held.delete(seq);
    this.next = (seq + 1) & 0xffff;
    return { packet: e.packet, lost };
  }
}
