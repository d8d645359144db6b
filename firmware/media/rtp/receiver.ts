/**
 * One RTP stream in: packets (and the camera's RTCP) → Frames with wall-clock
 * times, StreamInfo updates, health, and the receiver reports to send back.
 * Transport-agnostic: the RTSP client (or anything else) feeds it datagrams.
 */
import type { Frame, StreamInfo } from '../types.js';
import { RtpClock, type ClockSource } from './clock.js';
import type { Depacketizer } from './depacketizer.js';
import { RtpError } from './errors.js';
import { StreamHealth, type HealthSnapshot } from './health.js';
import { parseRtp, type RtpPacket } from './packet.js';
import { buildReceiverReport, parseRtcp } from './rtcp.js';
import { ReceptionStats } from './reception.js';
import { ReorderBuffer } from './reorder.js';

export interface RtpReceiverOptions {
  depacketizer: Depacketizer;
  /** Only this payload type is taken; others are counted in `foreign` and dropped. */
  payloadType?: number;
  /** Reorder packets (UDP); over TCP they arrive in order. */
  reorder?: boolean;
  reorderCapacity?: number;
  reorderDelayMs?: number;
  /** Wall-clock ms; injectable for tests. */
  now?: () => number;
  /** Our SSRC in receiver reports. */
  ssrc?: number;
  cname?: string;
  onFrame: (frame: Frame) => void;
  onInfo?: (info: StreamInfo) => void;
  /** The camera said BYE for this stream. */
  onBye?: (reason: string | undefined) => void;
  /** Malformed packets, already counted; for logging. */
  onWarning?: (err: RtpError) => void;
}

export interface RtpReceiverStats {
  packets: number;
  malformed: number;
  foreign: number;
  rtcp: number;
  ssrcChanges: number;
}

export class RtpReceiver {
  readonly health = new StreamHealth();
  readonly stats: RtpReceiverStats = { packets: 0, malformed: 0, foreign: 0, rtcp: 0, ssrcChanges: 0 };
  private readonly dep: Depacketizer;
  private readonly now: () => number;
  private readonly ssrc: number;
  private clock: RtpClock;
  private reception: ReceptionStats;
  private reorder: ReorderBuffer | undefined;
  private remoteSsrc: number | undefined;
  private info: StreamInfo | undefined;

  constructor(private readonly o: RtpReceiverOptions) {
    this.dep = o.depacketizer;
    this.now = o.now ?? Date.now;
    this.ssrc = o.ssrc ?? (Math.random() * 2 ** 32) >>> 0;
    this.clock = new RtpClock(this.dep.clockRate);
    this.reception = new ReceptionStats(this.dep.clockRate);
    this.reorder = this.newReorder();
  }

  get streamInfo(): StreamInfo | undefined {
    return this.dep.info;
  }
  /** The sender's SSRC, once a packet arrived. */
  get senderSsrc(): number | undefined {
    return this.remoteSsrc;
  }
  get clockSource(): ClockSource | undefined {
    return this.clock.source;
  }

  /** One RTP datagram (or interleaved frame). Never throws on bad input. */
  handleRtp(buf: Uint8Array): void {
    let p: RtpPacket;
    try {
      p = parseRtp(buf);
    } catch (e) {
      return this.warn(e);
    }
    if (this.o.payloadType !== undefined && p.payloadType !== this.o.payloadType) {
      this.stats.foreign++;
      return;
    }
    const now = this.now();
    if (this.remoteSsrc !== undefined && p.ssrc !== this.remoteSsrc) {
      // The camera restarted its stream: times and sequence numbers start over.
      this.stats.ssrcChanges++;
      this.drain(now);
      this.clock = new RtpClock(this.dep.clockRate);
      this.reception = new ReceptionStats(this.dep.clockRate);
      this.reorder = this.newReorder();
    }
    this.remoteSsrc = p.ssrc;
    this.stats.packets++;
    this.reception.onPacket(p.sequence, p.timestamp, now);
    if (!this.reorder) return this.depacketize(p, now);
    for (const r of this.reorder.push(p, now)) this.depacketize(r.packet, now);
  }

  /** Releases packets the reorder buffer held past its delay; call every few tens of ms over UDP. */
  poll(): void {
    if (!this.reorder) return;
    const now = this.now();
    for (const r of this.reorder.poll(now)) this.depacketize(r.packet, now);
  }

  handleRtcp(buf: Uint8Array): void {
    let packets;
    try {
      packets = parseRtcp(buf);
    } catch (e) {
      return this.warn(e);
    }
    this.stats.rtcp++;
    const now = this.now();
    for (const p of packets) {
      if (p.type === 'sr' && (this.remoteSsrc === undefined || p.ssrc === this.remoteSsrc)) {
        this.clock.onSenderReport(p, now * 1000);
        this.reception.onSenderReport(p, now);
      } else if (p.type === 'bye' && (this.remoteSsrc === undefined || p.ssrcs.includes(this.remoteSsrc))) {
        this.o.onBye?.(p.reason);
      }
    }
  }

  /** The RR+SDES to send to the camera, undefined before the first packet. */
  receiverReport(): Uint8Array | undefined {
    if (this.remoteSsrc === undefined) return undefined;
    const block = this.reception.reportBlock(this.remoteSsrc, this.now());
    return buildReceiverReport(this.ssrc, [block], this.o.cname ?? 'dvr');
  }

  healthSnapshot(): HealthSnapshot {
    this.health.lostPackets = Math.max(0, this.reception.lost);
    this.health.receivedPackets = this.reception.packetsReceived;
    return this.health.snapshot(this.now());
  }

  private newReorder(): ReorderBuffer | undefined {
    return this.o.reorder ? new ReorderBuffer(this.o.reorderCapacity, this.o.reorderDelayMs) : undefined;
  }

  private drain(now: number): void {
    for (const r of this.reorder?.drain() ?? []) this.depacketize(r.packet, now);
  }

  private depacketize(p: RtpPacket, now: number): void {
    const units = this.dep.push(p);
    if (this.dep.info && this.dep.info !== this.info) {
      this.info = this.dep.info;
      this.o.onInfo?.(this.info);
    }
    for (const u of units) {
      const time = this.clock.toWallMicros(u.timestamp, now * 1000);
      this.health.onFrame(time / 1000, now, u.data.length, u.keyframe);
      this.o.onFrame({ time, keyframe: u.keyframe, data: u.data });
    }
  }

  private warn(e: unknown): void {
    if (!(e instanceof RtpError)) throw e;
    this.stats.malformed++;
    this.o.onWarning?.(e);
  }
}
