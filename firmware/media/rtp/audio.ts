/** Audio depacketizers: AAC (RFC 3640 mpeg4-generic, AAC-hbr) and G.711 (RFC 3551 PCMU/PCMA). */
import { concat } from '../bytes.js';
import type { StreamInfo } from '../types.js';
import { MAX_UNIT_BYTES, newStats, type AccessUnit, type Depacketizer } from './depacketizer.js';
import { RtpError } from './errors.js';
import type { RtpPacket } from './packet.js';

const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): sample rate and channels. */
export function parseAudioSpecificConfig(asc: Uint8Array): { objectType: number; sampleRate: number; channels: number } {
  let pos = 0;
  const u = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, pos++) {
      const byte = asc[pos >> 3];
      if (byte === undefined) throw new RtpError('AudioSpecificConfig ends early');
      v = v * 2 + ((byte >> (7 - (pos & 7))) & 1);
    }
    return v;
  };
  let objectType = u(5);
  if (objectType === 31) objectType = 32 + u(6);
  const idx = u(4);
  const sampleRate = idx === 15 ? u(24) : AAC_RATES[idx];
  if (!sampleRate) throw new RtpError(`AudioSpecificConfig sampling frequency index ${idx} is reserved`);
  const channels = u(4);
  return { objectType, sampleRate, channels };
}

export interface AacParams {
  /** fmtp values, keys lower-case: config, sizelength, indexlength, indexdeltalength, constantduration. */
  fmtp: Record<string, string>;
  clockRate: number;
}

/**
 * AAC-hbr: a 16-bit AU-headers-length (in bits), AU headers of
 * sizelength + indexlength bits, then the AUs back to back. One AU larger
 * than a packet is fragmented over packets up to the marker bit.
 */
export class AacDepacketizer implements Depacketizer {
  readonly clockRate: number;
  readonly stats = newStats();
  readonly info: StreamInfo;
  private readonly sizeLength: number;
  private readonly indexLength: number;
  private readonly indexDeltaLength: number;
  private readonly duration: number;
  private frag: Uint8Array[] | undefined;
  private fragBytes = 0;
  private fragSize = 0;
  private lastSeq: number | undefined;

  constructor(p: AacParams) {
    const f = p.fmtp;
    const hex = f['config'] ?? '';
    if (!/^([0-9a-f]{2})+$/i.test(hex)) throw new RtpError(`mpeg4-generic config "${hex.slice(0, 40)}" is not hex`);
    const config = new Uint8Array(Buffer.from(hex, 'hex'));
    const asc = parseAudioSpecificConfig(config);
    const num = (k: string, d: number): number => {
      const v = f[k];
      if (v === undefined) return d;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 32) throw new RtpError(`mpeg4-generic ${k}=${v} is out of range`);
      return n;
    };
    this.sizeLength = num('sizelength', 13);
    this.indexLength = num('indexlength', 3);
    this.indexDeltaLength = num('indexdeltalength', 3);
    if (this.sizeLength === 0) throw new RtpError('mpeg4-generic without sizelength is not AAC-hbr/lbr');
    const cd = Number(f['constantduration'] ?? 1024);
    this.duration = Number.isInteger(cd) && cd > 0 && cd < 65536 ? cd : 1024;
    this.clockRate = p.clockRate;
    this.info = { codec: 'aac', config, sampleRate: asc.sampleRate, channels: asc.channels };
  }

  push(p: RtpPacket): AccessUnit[] {
    this.stats.packets++;
    if (this.lastSeq !== undefined && p.sequence !== ((this.lastSeq + 1) & 0xffff)) {
      this.stats.lost += ((p.sequence - this.lastSeq - 1) & 0xffff) || 1;
      if (this.frag) this.stats.dropped++;
      this.frag = undefined;
    }
    this.lastSeq = p.sequence;
    try {
      return this.parse(p);
    } catch (e) {
      if (!(e instanceof RtpError)) throw e;
      this.stats.malformed++;
      this.frag = undefined;
      return [];
    }
  }

  private parse(p: RtpPacket): AccessUnit[] {
    const b = p.payload;
    if (b.length < 2) throw new RtpError('AAC payload without AU headers');
    const headerBits = (b[0]! << 8) | b[1]!;
    const headerBytes = Math.ceil(headerBits / 8);
    if (2 + headerBytes > b.length) throw new RtpError('AU headers overrun the payload');
    let bit = 0;
    const hdr = b.subarray(2, 2 + headerBytes);
    const read = (n: number): number => {
      let v = 0;
      for (let i = 0; i < n; i++, bit++) v = v * 2 + ((hdr[bit >> 3]! >> (7 - (bit & 7))) & 1);
      return v;
    };
    const sizes: number[] = [];
    while (bit + this.sizeLength <= headerBits) {
      const idxLen = sizes.length === 0 ? this.indexLength : this.indexDeltaLength;
      if (bit + this.sizeLength + idxLen > headerBits) break;
      sizes.push(read(this.sizeLength));
      read(idxLen); // index (delta): interleaving, which AAC cameras do not use
    }
    if (sizes.length === 0) throw new RtpError('AAC payload has no AU header');
    let o = 2 + headerBytes;
    const data = b.subarray(o);
    // One AU bigger than what is here: a fragment (RFC 3640 §3.2.3).
    if (sizes.length === 1 && sizes[0]! > data.length) {
      if (!this.frag) {
        this.frag = [];
        this.fragBytes = 0;
        this.fragSize = sizes[0]!;
      } else if (this.fragSize !== sizes[0]) throw new RtpError('AAC fragment size changed mid-AU');
      this.fragBytes += data.length;
      if (this.fragBytes > Math.min(this.fragSize, MAX_UNIT_BYTES)) throw new RtpError('AAC fragments exceed the AU size');
      this.frag.push(data);
      if (!p.marker) return [];
      const whole = concat(this.frag);
      this.frag = undefined;
      if (whole.length !== this.fragSize) throw new RtpError('AAC fragmented AU is incomplete');
      this.stats.units++;
      return [{ timestamp: p.timestamp, keyframe: true, data: whole }];
    }
    if (this.frag) {
      this.frag = undefined;
      this.stats.dropped++;
    }
    const out: AccessUnit[] = [];
    for (let i = 0; i < sizes.length; i++) {
      const size = sizes[i]!;
      if (o + size > b.length) throw new RtpError(`AU ${i} of ${size} bytes overruns the payload`);
      out.push({ timestamp: (p.timestamp + i * this.duration) >>> 0, keyframe: true, data: b.slice(o, o + size) });
      o += size;
    }
    this.stats.units += out.length;
    return out;
  }
}

/** G.711: every packet is a run of 8-bit samples; each becomes one frame. */
export class G711Depacketizer implements Depacketizer {
  readonly clockRate = 8000;
  readonly stats = newStats();
  readonly info: StreamInfo;
  private lastSeq: number | undefined;

  constructor(codec: 'pcma' | 'pcmu', channels = 1) {
    this.info = { codec, config: new Uint8Array(0), sampleRate: 8000, channels };
  }

  push(p: RtpPacket): AccessUnit[] {
    this.stats.packets++;
    if (this.lastSeq !== undefined && p.sequence !== ((this.lastSeq + 1) & 0xffff)) {
      this.stats.lost += ((p.sequence - this.lastSeq - 1) & 0xffff) || 1;
    }
    this.lastSeq = p.sequence;
    if (p.payload.length === 0) {
      this.stats.malformed++;
      return [];
    }
    this.stats.units++;
    return [{ timestamp: p.timestamp, keyframe: true, data: p.payload.slice() }];
  }
}
