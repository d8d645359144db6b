/** RTP fixed header (RFC 3550 §5.1): what every depacketizer and the reorder buffer need. */
import { RtpError } from './errors.js';

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  /** 32-bit media timestamp as sent; unwrap with TimestampUnwrapper. */
  timestamp: number;
  ssrc: number;
  csrc: number[];
  /** Header extension (RFC 3550 §5.3.1), kept raw: cameras use it for ONVIF replay times. */
  extension?: { profile: number; data: Uint8Array };
  /** Payload with padding removed; a view into the input buffer, not a copy. */
  payload: Uint8Array;
}

/**
 * The fixed header's fields and where the payload lies, for the receive path
 * that parses in place (interleaved packets in a reused read buffer): one
 * object per stream, refilled per packet, instead of a packet object and
 * payload view each.
 */
export interface RtpHeader {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** The payload, padding removed, is bytes[payloadStart, payloadEnd). */
  payloadStart: number;
  payloadEnd: number;
}

export const newRtpHeader = (): RtpHeader => ({ payloadType: 0, marker: false, sequence: 0, timestamp: 0, ssrc: 0, payloadStart: 0, payloadEnd: 0 });

/** Checks the packet bytes[start, end) and fills `h`; throws RtpError as parseRtp does. */
export function readRtpHeader(bytes: Uint8Array, start: number, end: number, h: RtpHeader): void {
  const len = end - start;
  if (len < 12) throw new RtpError(`RTP packet of ${len} bytes is shorter than the 12-byte header`);
  const b0 = bytes[start]!;
  const version = b0 >> 6;
  if (version !== 2) throw new RtpError(`RTP version ${version}, expected 2`);
  // Fields are read byte by byte: a DataView per packet costs more than the arithmetic.
  const cc = b0 & 0x0f;
  let off = start + 12 + cc * 4;
  if (off > end) throw new RtpError(`RTP header with ${cc} CSRCs overruns the ${len}-byte packet`);
  if (b0 & 0x10) {
    if (off + 4 > end) throw new RtpError('RTP header extension overruns the packet');
    const words = u16(bytes, off + 2);
    const extEnd = off + 4 + words * 4;
    if (extEnd > end) throw new RtpError(`RTP header extension of ${words} words overruns the packet`);
    off = extEnd;
  }
  let payloadEnd = end;
  if (b0 & 0x20) {
    const pad = bytes[end - 1]!;
    if (pad === 0 || off + pad > end) throw new RtpError(`RTP padding of ${pad} bytes is invalid`);
    payloadEnd -= pad;
  }
  const b1 = bytes[start + 1]!;
  h.payloadType = b1 & 0x7f;
  h.marker = (b1 & 0x80) !== 0;
  h.sequence = u16(bytes, start + 2);
  h.timestamp = u32(bytes, start + 4);
  h.ssrc = u32(bytes, start + 8);
  h.payloadStart = off;
  h.payloadEnd = payloadEnd;
}

export function parseRtp(buf: Uint8Array): RtpPacket {
  const h = newRtpHeader();
  readRtpHeader(buf, 0, buf.length, h);
  const b0 = buf[0]!;
  const cc = b0 & 0x0f;
  const csrc: number[] = [];
  for (let i = 0; i < cc; i++) csrc.push(u32(buf, 12 + i * 4));
  const pkt: RtpPacket = {
    payloadType: h.payloadType,
    marker: h.marker,
    sequence: h.sequence,
    timestamp: h.timestamp,
    ssrc: h.ssrc,
    csrc,
    payload: buf.subarray(h.payloadStart, h.payloadEnd),
  };
  // Checked by readRtpHeader: the extension fits.
  if (b0 & 0x10) {
    const off = 12 + cc * 4;
    pkt.extension = { profile: u16(buf, off), data: buf.subarray(off + 4, off + 4 + u16(buf, off + 2) * 4) };
  }
  return pkt;
}

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Builds a packet; used by tests, fuzzers and a future RTSP server. */
export function buildRtp(p: {
  payloadType: number;
  marker?: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
}): Uint8Array {
  const out = new Uint8Array(12 + p.payload.length);
  const dv = new DataView(out.buffer);
  out[0] = 0x80;
  out[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  dv.setUint16(2, p.sequence & 0xffff);
  dv.setUint32(4, p.timestamp >>> 0);
  dv.setUint32(8, p.ssrc >>> 0);
  out.set(p.payload, 12);
  return out;
}

/** True if RTP/RTCP share a port and this is RTCP (RFC 5761 §4: PT 200..204 after masking). */
export function isRtcp(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[1]! >= 192 && buf[1]! <= 223;
}
