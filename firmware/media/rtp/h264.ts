/** H.264 over RTP (RFC 6184), packetization modes 0 and 1: single NAL, STAP-A, FU-A. */
import { h264Config } from './codec-config.js';
import { equalBytes } from './depacketizer.js';
import { RtpError } from './errors.js';
import { NalDepacketizer, NO_HEADER } from './nal-depacketizer.js';

export class H264Depacketizer extends NalDepacketizer {
  private sps: Uint8Array | undefined;
  private pps: Uint8Array | undefined;

  /** sprop: the SDP's sprop-parameter-sets value (comma-separated base64), if any. */
  constructor(sprop?: string) {
    super();
    for (const b64 of (sprop ?? '').split(',')) {
      const nal = new Uint8Array(Buffer.from(b64.trim(), 'base64'));
      if (nal.length > 0 && this.classify(nal) === 'param') this.paramSet(nal);
    }
  }

  protected payload(p: Uint8Array): void {
    const type = p[0]! & 0x1f;
    if (p[0]! & 0x80) return this.malformed(); // forbidden_zero_bit
    if (type >= 1 && type <= 23) return this.nal(p);
    if (type === 24) {
      // STAP-A: 1-byte header, then (16-bit size, NAL) repeated.
      let o = 1;
      if (p.length < 3) return this.malformed();
      while (o < p.length) {
        if (o + 2 > p.length) return this.malformed();
        const size = (p[o]! << 8) | p[o + 1]!;
        o += 2;
        if (size === 0 || o + size > p.length) return this.malformed();
        this.nal(p.subarray(o, o + size));
        o += size;
      }
      return;
    }
    if (type === 28) {
      // FU-A: indicator (F, NRI, 28), header (S, E, R, type), fragment.
      if (p.length < 3) return this.malformed();
      const h = p[1]!;
      const start = (h & 0x80) !== 0;
      const end = (h & 0x40) !== 0;
      const header = start ? new Uint8Array([(p[0]! & 0xe0) | (h & 0x1f)]) : NO_HEADER; // only a start needs one
      return this.fragment(start, end, header, p.subarray(2));
    }
    // STAP-B, MTAPs, FU-B belong to the interleaved mode cameras do not use.
    this.malformed();
  }

  protected classify(nal: Uint8Array): 'param' | 'key' | 'other' {
    const type = nal[0]! & 0x1f;
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
