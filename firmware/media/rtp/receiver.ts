/**
 * One RTP stream in: packets (and the camera's RTCP) → Frames with wall-clock
 * times, StreamInfo updates, health, and the receiver reports to send back.
 * Transport-agnostic: the RTSP client (or anything else) feeds it datagrams.
 */
import { copyRange } from '../bytes.js';
import type { Frame, StreamInfo } from '../types.js';
import { RtpClock, type ClockSource } from './clock.js';
import type { AccessUnit, Depacketizer } from './depacketizer.js';
import { RtpError } from './errors.js';
import { StreamHealth, type HealthSnapshot } from './health.js';
import { newRtpHeader, parseRtp, readRtpHeader, type RtpPacket } from './packet.js';
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
  /** Refilled per packet on the in-place path, as are the units finished by a packet. */
  private readonly header = newRtpHeader();
  private readonly units: AccessUnit[] = [];

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

  /** One RTP datagram (or interleaved frame), which stays valid after the call. Never throws on bad input. */
  handleRtp(buf: Uint8Array): void {
    this.receive(buf, 0, buf.length, true);
  }

  /**
   * The RTP packet bytes[start, end), valid only during the call (an
   * interleaved packet in the connection's reused read buffer): parsed in
   * place, and copied only where it must be kept (the reorder buffer).
   */
  handleRtpRange(bytes: Uint8Array, start: number, end: number): void {
    this.receive(bytes, start, end, false);
  }

  private receive(bytes: Uint8Array, start: number, end: number, kept: boolean): void {
    const h = this.header;
    try {
      readRtpHeader(bytes, start, end, h);
    } catch (e) {
      return this.warn(e);
    }
    if (this.o.payloadType !== undefined && h.payloadType !== this.o.payloadType) {
      this.stats.foreign++;
      return;
    }
    const now = this.now();
    if (this.remoteSsrc !== undefined && h.ssrc !== this.remoteSsrc) {
      // The camera restarted its stream: times and sequence numbers start over.
      this.stats.ssrcChanges++;
      this.drain(now);
      this.clock = new RtpClock(this.dep.clockRate);
      this.reception = new ReceptionStats(this.dep.clockRate);
      this.reorder = this.newReorder();
    }
    this.remoteSsrc = h.ssrc;
    this.stats.packets++;
    this.reception.onPacket(h.sequence, h.timestamp, now);
    if (!this.reorder && this.dep.pushRange) {
      const units = this.units;
      units.length = 0;
      this.dep.pushRange(bytes, h.payloadStart, h.payloadEnd, h.sequence, h.timestamp, h.marker, units);
      return this.emit(units, now);
    }
    const packet = kept ? (start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)) : copyRange(bytes, start, end);
    const p = parseRtp(packet);
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
    this.emit(this.dep.push(p), now);
  }

  /** The info first when it changed, then the units as frames. */
  private emit(units: AccessUnit[], now: number): void {
    if (this.dep.info && this.dep.info !== this.info) {
      this.info = this.dep.info;
      this.o.onInfo?.(this.info);
    }
    for (let i = 0; i < units.length; i++) {
      const u = units[i]!;
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
