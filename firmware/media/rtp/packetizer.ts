/**
 * RTP packetizers, the reverse of the depacketizers: H.264 (RFC 6184 single
 * NAL unit and FU-A), H.265 (RFC 7798 single and FU), AAC (RFC 3640
 * mpeg4-generic AAC-hbr, one AU a packet) and G.711 (RFC 3551). Used by the
 * RTSP server out; the depacketizers of this folder are the tests' judge.
 */
import type { Codec } from '../types.js';
import { buildRtp } from './packet.js';
import { RtpError } from './errors.js';

/** Payload bytes a packet may carry: 1500 Ethernet − IP/UDP/RTP headers, with room for tunnels. */
export const DEFAULT_MAX_PAYLOAD = 1400;

/** H.264 payloads for one NAL unit: itself when it fits, else FU-A fragments. */
export function h264Payloads(nal: Uint8Array, max = DEFAULT_MAX_PAYLOAD): Uint8Array[] {
  if (nal.length === 0) return [];
  if (nal.length <= max) return [nal];
  const header = nal[0]!;
  const indicator = (header & 0xe0) | 28;
  const type = header & 0x1f;
  return fragments(nal.subarray(1), max - 2, (first, last) => [indicator, (first ? 0x80 : 0) | (last ? 0x40 : 0) | type]);
}

/** H.265 payloads for one NAL unit: itself when it fits, else FU fragments (type 49). */
export function h265Payloads(nal: Uint8Array, max = DEFAULT_MAX_PAYLOAD): Uint8Array[] {
  if (nal.length < 2) return [];
  if (nal.length <= max) return [nal];
  const type = (nal[0]! >> 1) & 0x3f;
  const h0 = (nal[0]! & 0x81) | (49 << 1);
  const h1 = nal[1]!;
  return fragments(nal.subarray(2), max - 3, (first, last) => [h0, h1, (first ? 0x80 : 0) | (last ? 0x40 : 0) | type]);
}

function fragments(body: Uint8Array, room: number, header: (first: boolean, last: boolean) => number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < body.length; off += room) {
    const part = body.subarray(off, off + room);
    const h = header(off === 0, off + room >= body.length);
    const p = new Uint8Array(h.length + part.length);
    p.set(h);
    p.set(part, h.length);
    out.push(p);
  }
  return out;
}

/**
 * One AAC access unit as RFC 3640 AAC-hbr: AU-headers-length (16 bits), one
 * AU-header (13-bit size, 3-bit index), the frame. Frames above 8191 bytes
 * cannot be described by a 13-bit size and are refused (AAC frames are < 1 kB).
 */
export function aacPayload(frame: Uint8Array): Uint8Array {
  if (frame.length > 0x1fff) throw new RtpError(`AAC frame of ${frame.length} bytes exceeds the 13-bit AU size`);
  const p = new Uint8Array(4 + frame.length);
  p[0] = 0;
  p[1] = 16;
  p[2] = frame.length >> 5;
  p[3] = (frame.length & 0x1f) << 3;
  p.set(frame, 4);
  return p;
}

/** The NAL units of a 4-byte length-prefixed access unit; a length overrunning the buffer ends the list. */
export function lengthPrefixedNals(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let o = 0; o + 4 <= data.length; ) {
    const len = dv.getUint32(o);
    if (len === 0 || o + 4 + len > data.length) break;
    out.push(data.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  return out;
}

export interface PacketizerOptions {
  codec: Codec;
  payloadType: number;
  clockRate: number;
  ssrc: number;
  /** First sequence number and timestamp (random per RFC 3550 §5.1). */
  sequence: number;
  timestamp: number;
  maxPayload?: number;
}

/**
 * One outgoing RTP stream: keeps sequence numbers and maps frame times (µs)
 * to RTP timestamps from the first frame's time, so a gap in the source is a
 * jump in timestamps, not a rewind.
 */
export class RtpPacketizer {
  private seq: number;
  private origin: number | undefined;
  readonly firstTimestamp: number;

  constructor(private readonly o: PacketizerOptions) {
    this.seq = o.sequence & 0xffff;
    this.firstTimestamp = o.timestamp >>> 0;
  }

  get ssrc(): number {
    return this.o.ssrc >>> 0;
  }

  get nextSequence(): number {
    return this.seq & 0xffff;
  }

  /** Pins time `us` to firstTimestamp (shared by a session's tracks for lip sync). */
  setOrigin(us: number): void {
    this.origin = us;
  }

  timestampOf(us: number): number {
    if (this.origin === undefined) this.origin = us;
    return (this.firstTimestamp + Math.round(((us - this.origin) * this.o.clockRate) / 1e6)) >>> 0;
  }

  /**
   * Packets for one access unit. Video: `nals` (parameter sets first when the
   * caller sends them in-band), marker on the last packet. Audio: the frame.
   */
  packetize(us: number, units: readonly Uint8Array[]): Uint8Array[] {
    const ts = this.timestampOf(us);
    const max = this.o.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    const payloads: Uint8Array[] = [];
    for (const u of units) {
      if (this.o.codec === 'h264') payloads.push(...h264Payloads(u, max));
      else if (this.o.codec === 'h265') payloads.push(...h265Payloads(u, max));
      else if (this.o.codec === 'aac') payloads.push(aacPayload(u));
      else for (let off = 0; off < u.length; off += max) payloads.push(u.subarray(off, off + max));
    }
    const video = this.o.codec === 'h264' || this.o.codec === 'h265';
    return payloads.map((payload, i) =>
      buildRtp({
        payloadType: this.o.payloadType,
        // Video: end of the access unit. Audio (RFC 3640 §3.2.1): set on every complete AU.
        marker: video ? i === payloads.length - 1 : this.o.codec === 'aac',
        sequence: this.seq++ & 0xffff,
        timestamp: ts,
        ssrc: this.o.ssrc,
        payload,
      }),
    );
  }
}
