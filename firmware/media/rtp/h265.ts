/** H.265 over RTP (RFC 7798) without DONL (sprop-max-don-diff 0, as cameras send): single NAL, AP, FU. */
import { h265Config } from './codec-config.js';
import { equalBytes } from './depacketizer.js';
import { RtpError } from './errors.js';
import { NalDepacketizer } from './nal-depacketizer.js';

const VPS = 32;
const SPS = 33;
const PPS = 34;

export class H265Depacketizer extends NalDepacketizer {
  private readonly sets = new Map<number, Uint8Array>();

  /** The SDP's sprop-vps / sprop-sps / sprop-pps values (base64, possibly comma-separated). */
  constructor(sprop: { vps?: string; sps?: string; pps?: string } = {}) {
    super();
    for (const v of [sprop.vps, sprop.sps, sprop.pps]) {
      for (const b64 of (v ?? '').split(',')) {
        const nal = new Uint8Array(Buffer.from(b64.trim(), 'base64'));
        if (nal.length > 2 && this.classify(nal, 0, nal.length) === 'param') this.paramSet(nal);
      }
    }
  }

  protected payload(b: Uint8Array, start: number, end: number): void {
    if (end - start < 3 || b[start]! & 0x80) return this.malformed();
    const type = (b[start]! >> 1) & 0x3f;
    if (type < 48) return this.nal(b, start, end);
    if (type === 48) {
      // Aggregation packet: 2-byte header, then (16-bit size, NAL) repeated.
      let o = start + 2;
      while (o < end) {
        if (o + 2 > end) return this.malformed();
        const size = (b[o]! << 8) | b[o + 1]!;
        o += 2;
        if (size < 2 || o + size > end) return this.malformed();
        this.nal(b, o, o + size);
        o += size;
      }
      return;
    }
    if (type === 49) {
      // FU: 2-byte payload header (type 49), FU header (S, E, type), fragment.
      const h = b[start + 2]!;
      if (end - start < 4) return this.malformed();
      return this.fragment((h & 0x80) !== 0, (h & 0x40) !== 0, 2, (b[start]! & 0x81) | ((h & 0x3f) << 1), b[start + 1]!, b, start + 3, end);
    }
    this.malformed(); // PACI (50) and reserved types
  }

  protected classify(b: Uint8Array, start: number, end: number): 'param' | 'key' | 'other' {
    if (end - start < 2) return 'other';
    const type = (b[start]! >> 1) & 0x3f;
    if (type === VPS || type === SPS || type === PPS) return 'param';
    return type >= 16 && type <= 21 ? 'key' : 'other'; // IRAP pictures
  }

  protected paramSet(nal: Uint8Array): void {
    if (nal.length < 3) return this.malformed();
    const type = (nal[0]! >> 1) & 0x3f;
    if (equalBytes(nal, this.sets.get(type))) return;
    this.sets.set(type, nal.slice());
    const [v, s, p] = [this.sets.get(VPS), this.sets.get(SPS), this.sets.get(PPS)];
    if (!v || !s || !p) return;
    try {
      const c = h265Config(v, s, p);
      this.info = { codec: 'h265', config: c.config, width: c.width, height: c.height };
    } catch (e) {
      if (!(e instanceof RtpError)) throw e;
      this.malformed();
      this.sets.delete(type);
    }
  }
}
