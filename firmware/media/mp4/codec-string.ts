/**
 * RFC 6381 codec strings, what a browser needs before it accepts fragments:
 * `MediaSource.isTypeSupported(mimeType(infos))`, `addSourceBuffer(...)`.
 * Formats: avc1.PPCCLL (ISO/IEC 14496-15 Annex E for hvc1), mp4a.40.<AOT>.
 */
import { parseAudioSpecificConfig } from '../aac.js';
import { check } from '../errors.js';
import { parseAvcC } from '../h264.js';
import type { StreamInfo } from '../types.js';

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');

export function codecString(info: StreamInfo): string {
  switch (info.codec) {
    case 'h264': {
      const a = parseAvcC(info.config);
      return `avc1.${hex2(a.profileIdc)}${hex2(a.constraintFlags)}${hex2(a.levelIdc)}`;
    }
    case 'h265': {
      const c = info.config;
      check(c.length >= 13 && c[0] === 1, 'h265 track has no valid hvcC config');
      const space = ['', 'A', 'B', 'C'][c[1]! >> 6]!;
      const tier = c[1]! & 0x20 ? 'H' : 'L';
      const compat = ((c[2]! << 24) | (c[3]! << 16) | (c[4]! << 8) | c[5]!) >>> 0;
      let reversed = 0;
      for (let i = 0; i < 32; i++) reversed = reversed * 2 + ((compat >>> i) & 1); // bit 0 of the field first
      const constraints = Array.from(c.subarray(6, 12));
      while (constraints.length > 0 && constraints.at(-1) === 0) constraints.pop();
      return [`hvc1`, `${space}${c[1]! & 0x1f}`, reversed.toString(16), `${tier}${c[12]}`, ...constraints.map((b) => b.toString(16).toUpperCase())].join('.');
    }
    case 'aac':
      return `mp4a.40.${parseAudioSpecificConfig(info.config).objectType}`;
    case 'pcma':
      return 'alaw';
    case 'pcmu':
      return 'ulaw';
    default:
      check(false, `no codec string for '${String((info as StreamInfo).codec)}'`);
  }
}

/** The MIME type of an fMP4 stream of these tracks, e.g. `video/mp4; codecs="avc1.640028, mp4a.40.2"`. */
export function mimeType(infos: readonly StreamInfo[]): string {
  const video = infos.some((i) => i.codec === 'h264' || i.codec === 'h265');
  return `${video ? 'video' : 'audio'}/mp4; codecs="${infos.map(codecString).join(', ')}"`;
}
