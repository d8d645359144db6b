/** H.264 over RTP (RFC 6184), packetization modes 0 and 1: single NAL, STAP-A, FU-A. */
import { h264Config } from './codec-config.js';
import { equalBytes } from './depacketizer.js';
import { RtpError } from './errors.js';
import { NalDepacketizer } from './nal-depacketizer.js';

export class H264Depacketizer extends NalDepacketizer {
  private sps: Uint8Array | undefined;
  private pps: Uint8Array | undefined;

  /** sprop: the SDP's sprop-parameter-sets value (comma-separated base64), if any. */
  constructor(sprop?: string) {
    super();
    for (const b64 of (sprop ?? '').split(',')) {
      const nal = new Uint8Array(Buffer.from(b64.trim(), 'base64'));
      if (nal.length > 0 && this.classify(nal, 0) === 'param') this.paramSet(nal);
    }
  }

  protected payload(b: Uint8Array, start: number, end: number): void {
    const b0 = b[start]!;
    const type = b0 & 0x1f;
    if (b0 & 0x80) return this.malformed(); // forbidden_zero_bit
    if (type >= 1 && type <= 23) return this.nal(b, start, end);
    if (type === 24) {
      // STAP-A: 1-byte header, then (16-bit size, NAL) repeated.
      let o = start + 1;
      if (end - start < 3) return this.malformed();
      while (o < end) {
        if (o + 2 > end) return this.malformed();
        const size = (b[o]! << 8) | b[o + 1]!;
        o += 2;
        if (size === 0 || o + size > end) return this.malformed();
        this.nal(b, o, o + size);
        o += size;
      }
      return;
    }
    if (type === 28) {
      // FU-A: indicator (F, NRI, 28), header (S, E, R, type), fragment.
      if (end - start < 3) return this.malformed();
      const h = b[start + 1]!;
      return this.fragment((h & 0x80) !== 0, (h & 0x40) !== 0, 1, (b0 & 0xe0) | (h & 0x1f), 0, b, start + 2, end);
    }
    // STAP-B, MTAPs, FU-B belong to the interleaved mode cameras do not use.
    this.malformed();
  }

  protected classify(b: Uint8Array, start: number): 'param' | 'key' | 'other' {
    const type = b[start]! & 0x1f;
    return type === 7 || type === 8 ? 'param' : type === 5 ? 'key' : 'other';
  }

  protected paramSet(nal: Uint8Array): void {
    const isSps = (nal[0]! & 0x1f) === 7;
    if (isSps ? equalBytes(nal, this.sps) : equalBytes(nal, this.pps)) return;
    const copy = nal.slice();
    if (isSps) this.sps = copy;
    else this.pps = copy;
    if (!this.sps || !this.pps) return;
    try {
      const c = h264Config(this.sps, this.pps);
      this.info = { codec: 'h264', config: c.config, width: c.width, height: c.height };
    } catch (e) {
      if (!(e instanceof RtpError)) throw e;
      this.malformed();
      if (isSps) this.sps = undefined;
    }
  }
}
