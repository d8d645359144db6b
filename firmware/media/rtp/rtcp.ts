/**
 * RTCP (RFC 3550 §6): we parse what the camera sends (SR for the NTP<->RTP
 * mapping, BYE for end of stream) and build the receiver report cameras
 * expect back — some stop sending when none arrives.
 */
import { RtpError } from './errors.js';

export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, 0..255 (= lost/expected * 256). */
  fractionLost: number;
  cumulativeLost: number;
  /** Extended highest sequence number: cycles << 16 | seq. */
  highestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP time of the last SR, 0 if none. */
  lsr: number;
  /** Delay since that SR in 1/65536 s. */
  dlsr: number;
}

export interface SenderReport {
  type: 'sr';
  ssrc: number;
  /** NTP timestamp as 64-bit fixed point split in seconds (since 1900) and fraction. */
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
}
export interface ReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
}
export interface Bye {
  type: 'bye';
  ssrcs: number[];
  reason?: string;
}
export interface OtherRtcp {
  type: 'other';
  packetType: number;
}
export type RtcpPacket = SenderReport | ReceiverReport | Bye | OtherRtcp;

/** Seconds between the NTP epoch (1900) and the Unix epoch. */
export const NTP_UNIX_OFFSET = 2208988800;

/** NTP timestamp to Unix microseconds. */
export function ntpToUnixMicros(seconds: number, fraction: number): number {
  return (seconds - NTP_UNIX_OFFSET) * 1e6 + Math.round((fraction / 2 ** 32) * 1e6);
}

function readBlocks(dv: DataView, off: number, count: number, end: number): ReportBlock[] {
  const out: ReportBlock[] = [];
  for (let i = 0; i < count; i++, off += 24) {
    if (off + 24 > end) throw new RtpError('RTCP report block overruns its packet');
    const lost = dv.getUint32(off + 4) & 0xffffff;
    out.push({
      ssrc: dv.getUint32(off),
      fractionLost: dv.getUint8(off + 4),
      // 24-bit signed (duplicates can make it negative).
      cumulativeLost: lost & 0x800000 ? lost - 0x1000000 : lost,
      highestSeq: dv.getUint32(off + 8),
      jitter: dv.getUint32(off + 12),
      lsr: dv.getUint32(off + 16),
      dlsr: dv.getUint32(off + 20),
    });
  }
  return out;
}

/** Parses a compound RTCP packet. Unknown packet types are returned as 'other'. */
export function parseRtcp(buf: Uint8Array): RtcpPacket[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: RtcpPacket[] = [];
  let off = 0;
  if (buf.length < 4) throw new RtpError(`RTCP packet of ${buf.length} bytes is too short`);
  while (off < buf.length) {
    if (off + 4 > buf.length) throw new RtpError('truncated RTCP header');
    const b0 = buf[off]!;
    if (b0 >> 6 !== 2) throw new RtpError(`RTCP version ${b0 >> 6}, expected 2`);
    const count = b0 & 0x1f;
    const pt = buf[off + 1]!;
    const end = off + (dv.getUint16(off + 2) + 1) * 4;
    if (end > buf.length) throw new RtpError(`RTCP packet type ${pt} length overruns the datagram`);
    let bodyEnd = end;
    if (b0 & 0x20) {
      const pad = buf[end - 1]!;
      if (pad === 0 || end - pad < off + 4) throw new RtpError('invalid RTCP padding');
      bodyEnd = end - pad;
    }
    if (pt === 200) {
      if (off + 28 > bodyEnd) throw new RtpError('RTCP SR too short');
      out.push({
        type: 'sr',
        ssrc: dv.getUint32(off + 4),
        ntpSeconds: dv.getUint32(off + 8),
        ntpFraction: dv.getUint32(off + 12),
        rtpTimestamp: dv.getUint32(off + 16),
        packetCount: dv.getUint32(off + 20),
        octetCount: dv.getUint32(off + 24),
        reports: readBlocks(dv, off + 28, count, bodyEnd),
      });
    } else if (pt === 201) {
      if (off + 8 > bodyEnd) throw new RtpError('RTCP RR too short');
      out.push({ type: 'rr', ssrc: dv.getUint32(off + 4), reports: readBlocks(dv, off + 8, count, bodyEnd) });
    } else if (pt === 203) {
      const ssrcs: number[] = [];
      let p = off + 4;
      for (let i = 0; i < count; i++, p += 4) {
        if (p + 4 > bodyEnd) throw new RtpError('RTCP BYE source list overruns its packet');
        ssrcs.push(dv.getUint32(p));
      }
      const bye: Bye = { type: 'bye', ssrcs };
      if (p < bodyEnd) {
        const len = buf[p]!;
        if (p + 1 + len > bodyEnd) throw new RtpError('RTCP BYE reason overruns its packet');
        bye.reason = Buffer.from(buf.subarray(p + 1, p + 1 + len)).toString('utf8');
      }
      out.push(bye);
    } else {
      out.push({ type: 'other', packetType: pt });
    }
    off = end;
  }
  return out;
}

/**
 * A compound RR + SDES(CNAME) packet: RFC 3550 §6.1 requires every compound
 * packet to carry a CNAME, and strict cameras drop reports without one.
 */
export function buildReceiverReport(ssrc: number, blocks: ReportBlock[], cname: string): Uint8Array {
  if (blocks.length > 31) throw new RtpError('at most 31 report blocks fit one RR');
  const name = Buffer.from(cname, 'utf8').subarray(0, 255);
  const rrLen = 8 + blocks.length * 24;
  // SDES: header, SSRC, item (type, len, text), end-of-list, padded to 32 bits.
  const sdesLen = Math.ceil((8 + 2 + name.length + 1) / 4) * 4;
  const out = new Uint8Array(rrLen + sdesLen);
  const dv = new DataView(out.buffer);
  out[0] = 0x80 | blocks.length;
  out[1] = 201;
  dv.setUint16(2, rrLen / 4 - 1);
  dv.setUint32(4, ssrc >>> 0);
  blocks.forEach((b, i) => {
    const o = 8 + i * 24;
    dv.setUint32(o, b.ssrc >>> 0);
    const lost = Math.max(-0x800000, Math.min(0x7fffff, b.cumulativeLost));
    dv.setUint32(o + 4, ((Math.max(0, Math.min(255, b.fractionLost)) << 24) | (lost & 0xffffff)) >>> 0);
    dv.setUint32(o + 8, b.highestSeq >>> 0);
    dv.setUint32(o + 12, b.jitter >>> 0);
    dv.setUint32(o + 16, b.lsr >>> 0);
    dv.setUint32(o + 20, b.dlsr >>> 0);
  });
  const s = rrLen;
  out[s] = 0x81;
  out[s + 1] = 202;
  dv.setUint16(s + 2, sdesLen / 4 - 1);
  dv.setUint32(s + 4, ssrc >>> 0);
  out[s + 8] = 1; // CNAME
  out[s + 9] = name.length;
  out.set(name, s + 10);
  // The rest is already zero: end-of-list and padding.
  return out;
}
