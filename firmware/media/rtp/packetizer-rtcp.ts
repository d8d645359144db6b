/**
 * RTCP a sender sends (RFC 3550 §6.4.1, §6.5): a sender report tying an RTP
 * timestamp to wall-clock time, with an SDES CNAME in the same compound
 * packet. Players use it to line audio up with video; without it some
 * (ffmpeg among them) cannot time the very first frame.
 */
import { NTP_UNIX_OFFSET } from './rtcp.js';

export interface SenderInfo {
  ssrc: number;
  /** Wall-clock time of `rtpTimestamp`, µs since the Unix epoch. */
  timeUs: number;
  rtpTimestamp: number;
  packets: number;
  octets: number;
  cname: string;
}

export function buildSenderReport(s: SenderInfo): Uint8Array {
  const name = Buffer.from(s.cname, 'utf8').subarray(0, 255);
  const sdesLen = Math.ceil((8 + 2 + name.length + 1) / 4) * 4;
  const out = new Uint8Array(28 + sdesLen);
  const dv = new DataView(out.buffer);
  out[0] = 0x80;
  out[1] = 200;
  dv.setUint16(2, 6);
  dv.setUint32(4, s.ssrc >>> 0);
  const seconds = Math.floor(s.timeUs / 1e6);
  const frac = Math.floor(((s.timeUs - seconds * 1e6) / 1e6) * 2 ** 32);
  dv.setUint32(8, (seconds + NTP_UNIX_OFFSET) >>> 0);
  dv.setUint32(12, Math.min(frac, 0xffffffff) >>> 0);
  dv.setUint32(16, s.rtpTimestamp >>> 0);
  dv.setUint32(20, s.packets >>> 0);
  dv.setUint32(24, s.octets >>> 0);
  const o = 28;
  out[o] = 0x81;
  out[o + 1] = 202;
  dv.setUint16(o + 2, sdesLen / 4 - 1);
  dv.setUint32(o + 4, s.ssrc >>> 0);
  out[o + 8] = 1; // CNAME
  out[o + 9] = name.length;
  out.set(name, o + 10);
  return out;
}
