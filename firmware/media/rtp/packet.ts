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

export function parseRtp(buf: Uint8Array): RtpPacket {
  if (buf.length < 12) throw new RtpError(`RTP packet of ${buf.length} bytes is shorter than the 12-byte header`);
  const b0 = buf[0]!;
  const version = b0 >> 6;
  if (version !== 2) throw new RtpError(`RTP version ${version}, expected 2`);
  // Fields are read byte by byte: a DataView per packet costs more than the arithmetic.
  const cc = b0 & 0x0f;
  let off = 12 + cc * 4;
  if (off > buf.length) throw new RtpError(`RTP header with ${cc} CSRCs overruns the ${buf.length}-byte packet`);
  const csrc: number[] = [];
  for (let i = 0; i < cc; i++) csrc.push(u32(buf, 12 + i * 4));
  let extension: RtpPacket['extension'];
  if (b0 & 0x10) {
    if (off + 4 > buf.length) throw new RtpError('RTP header extension overruns the packet');
    const profile = u16(buf, off);
    const words = u16(buf, off + 2);
    const end = off + 4 + words * 4;
    if (end > buf.length) throw new RtpError(`RTP header extension of ${words} words overruns the packet`);
    extension = { profile, data: buf.subarray(off + 4, end) };
    off = end;
  }
  let end = buf.length;
  if (b0 & 0x20) {
    const pad = buf[buf.length - 1]!;
    if (pad === 0 || off + pad > buf.length) throw new RtpError(`RTP padding of ${pad} bytes is invalid`);
    end -= pad;
  }
  const pkt: RtpPacket = {
    payloadType: buf[1]! & 0x7f,
    marker: (buf[1]! & 0x80) !== 0,
    sequence: u16(buf, 2),
    timestamp: u32(buf, 4),
    ssrc: u32(buf, 8),
    csrc,
    payload: buf.subarray(off, end),
  };
  if (extension) pkt.extension = extension;
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
