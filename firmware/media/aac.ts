/**
 * AAC specifics: ADTS headers (what encoders and `-f adts` emit) and the
 * AudioSpecificConfig MP4's esds and RTSP's fmtp `config=` carry.
 */
import { check, MediaFormatError } from './errors.js';

export const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;

export interface AdtsHeader {
  /** Audio object type (2 = AAC-LC), i.e. ADTS profile + 1. */
  objectType: number;
  sampleRate: number;
  /** channel_configuration; 0 means "defined in the stream" (a PCE), which we reject. */
  channels: number;
  /** Header size: 7, or 9 with CRC. */
  headerLength: number;
  /** Whole ADTS frame, header included. */
  frameLength: number;
  /** Raw data blocks in the frame (almost always 1; each is 1024 samples). */
  blocks: number;
}

/** Parses the ADTS header at `offset`. Throws MediaFormatError when there is none or it is invalid. */
export function parseAdtsHeader(buf: Uint8Array, offset = 0): AdtsHeader {
  check(buf.length - offset >= 7, `ADTS header truncated at byte ${offset}: ${Math.max(0, buf.length - offset)} of 7 bytes`);
  const b = (i: number): number => buf[offset + i]!;
  check(b(0) === 0xff && (b(1) & 0xf6) === 0xf0, `no ADTS sync word at byte ${offset}`);
  const protectionAbsent = b(1) & 1;
  const objectType = (b(2) >> 6) + 1;
  const rateIndex = (b(2) >> 2) & 0xf;
  check(rateIndex < AAC_SAMPLE_RATES.length, `ADTS at byte ${offset}: invalid sampling frequency index ${rateIndex}`);
  const channels = ((b(2) & 1) << 2) | (b(3) >> 6);
  check(channels > 0, `ADTS at byte ${offset}: channel configuration 0 (PCE) is not supported`);
  const frameLength = ((b(3) & 3) << 11) | (b(4) << 3) | (b(5) >> 5);
  const headerLength = protectionAbsent ? 7 : 9;
  check(frameLength > headerLength, `ADTS at byte ${offset}: frame length ${frameLength} is shorter than its header`);
  const blocks = (b(6) & 3) + 1;
  return { objectType, sampleRate: AAC_SAMPLE_RATES[rateIndex]!, channels, headerLength, frameLength, blocks };
}

export interface AdtsFrame {
  header: AdtsHeader;
  /** The raw AAC frame, header stripped (a view into the input). */
  data: Uint8Array;
}

/**
 * Splits a buffer of back-to-back ADTS frames. Throws MediaFormatError on
 * garbage between frames, a truncated last frame, multi-block frames (which
 * MP4 would need split) or a format change mid-stream.
 */
export function splitAdts(buf: Uint8Array): AdtsFrame[] {
  const out: AdtsFrame[] = [];
  let p = 0;
  while (p < buf.length) {
    const header = parseAdtsHeader(buf, p);
    check(p + header.frameLength <= buf.length, `ADTS frame at byte ${p} truncated: ${header.frameLength} bytes announced, ${buf.length - p} present`);
    check(header.blocks === 1, `ADTS frame at byte ${p} has ${header.blocks} raw data blocks; only 1 is supported`);
    const first = out[0]?.header;
    if (first) check(first.sampleRate === header.sampleRate && first.channels === header.channels && first.objectType === header.objectType, `ADTS frame at byte ${p} changes format mid-stream`);
    out.push({ header, data: buf.subarray(p + header.headerLength, p + header.frameLength) });
    p += header.frameLength;
  }
  return out;
}

/** The raw AAC frame of one ADTS frame (a view). */
export function stripAdts(frame: Uint8Array): Uint8Array {
  const h = parseAdtsHeader(frame);
  check(h.frameLength <= frame.length, `ADTS frame truncated: ${h.frameLength} bytes announced, ${frame.length} present`);
  return frame.subarray(h.headerLength, h.frameLength);
}

export interface AudioSpecificConfig {
  objectType: number;
  sampleRate: number;
  channels: number;
}

/** Builds the 2-byte (or 5-byte, for a non-table rate) AudioSpecificConfig of ISO/IEC 14496-3 1.6.2.1. */
export function buildAudioSpecificConfig(c: AudioSpecificConfig): Uint8Array {
  check(Number.isInteger(c.objectType) && c.objectType >= 1 && c.objectType <= 30, `AAC object type ${c.objectType} is not 1..30`);
  check(Number.isInteger(c.channels) && c.channels >= 1 && c.channels <= 7, `AAC channel configuration ${c.channels} is not 1..7`);
  check(Number.isInteger(c.sampleRate) && c.sampleRate > 0 && c.sampleRate < 2 ** 24, `AAC sample rate ${c.sampleRate} is invalid`);
  const index = (AAC_SAMPLE_RATES as readonly number[]).indexOf(c.sampleRate);
  if (index >= 0) return Uint8Array.of((c.objectType << 3) | (index >> 1), ((index & 1) << 7) | (c.channels << 3));
  // Escape index 15 with an explicit 24-bit rate: 5 + 4 + 24 + 4 bits + 3 zero bits.
  const r = c.sampleRate;
  return Uint8Array.of((c.objectType << 3) | 7, 0x80 | (r >> 17), (r >> 9) & 0xff, (r >> 1) & 0xff, ((r & 1) << 7) | (c.channels << 3));
}

/** Parses the leading fields of an AudioSpecificConfig (enough to describe the track). */
export function parseAudioSpecificConfig(asc: Uint8Array): AudioSpecificConfig {
  let bitPos = 0;
  const read = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bitPos++) {
      if (bitPos >= asc.length * 8) throw new MediaFormatError('AudioSpecificConfig is truncated');
      v = v * 2 + ((asc[bitPos >> 3]! >> (7 - (bitPos & 7))) & 1);
    }
    return v;
  };
  let objectType = read(5);
  if (objectType === 31) objectType = 32 + read(6);
  const index = read(4);
  const sampleRate = index === 15 ? read(24) : AAC_SAMPLE_RATES[index];
  if (sampleRate === undefined || sampleRate === 0) throw new MediaFormatError(`AudioSpecificConfig: invalid sampling frequency index ${index}`);
  const channels = read(4);
  check(objectType > 0, 'AudioSpecificConfig: object type 0 is invalid');
  return { objectType, sampleRate, channels };
}

/** The AudioSpecificConfig for an ADTS stream, from its first header. */
export function adtsToAudioSpecificConfig(h: AdtsHeader): Uint8Array {
  return buildAudioSpecificConfig({ objectType: h.objectType, sampleRate: h.sampleRate, channels: h.channels });
}
