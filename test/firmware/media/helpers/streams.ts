/**
 * Elementary streams (as ffmpeg writes them) to Frames + StreamInfo, using
 * the parsers under test, with synthetic wall-clock times.
 */
import { adtsToAudioSpecificConfig, splitAdts } from '../../../../firmware/media/aac.js';
import { buildAvcC, h264AccessUnits, splitH264AccessUnit } from '../../../../firmware/media/h264.js';
import { buildHvcC, h265AccessUnits, splitH265AccessUnit } from '../../../../firmware/media/h265.js';
import { splitAnnexB } from '../../../../firmware/media/nal.js';
import type { Frame, StreamInfo } from '../../../../firmware/media/types.js';

/** 2026-01-02 03:04:05 UTC, in µs: frames get real-looking wall-clock times. */
export const T0 = Date.UTC(2026, 0, 2, 3, 4, 5) * 1000;

export interface Track {
  info: StreamInfo;
  frames: Frame[];
}

export function videoTrack(annexB: Uint8Array, codec: 'h264' | 'h265', start = T0, stepUs = 40_000): Track {
  const nals = splitAnnexB(annexB);
  const frames: Frame[] = [];
  let config: Uint8Array | undefined;
  const aus = codec === 'h264' ? h264AccessUnits(nals) : h265AccessUnits(nals);
  for (const au of aus) {
    if (codec === 'h264') {
      const a = splitH264AccessUnit(au);
      if (!config && a.sps.length) config = buildAvcC(a.sps, a.pps);
      frames.push({ time: start + frames.length * stepUs, keyframe: a.keyframe, data: a.data });
    } else {
      const a = splitH265AccessUnit(au);
      if (!config && a.sps.length) config = buildHvcC(a.vps, a.sps, a.pps);
      frames.push({ time: start + frames.length * stepUs, keyframe: a.keyframe, data: a.data });
    }
  }
  if (!config) throw new Error('no parameter sets in the test stream');
  return { info: { codec, config }, frames };
}

export function aacTrack(adts: Uint8Array, start = T0): Track {
  const aac = splitAdts(adts);
  const h = aac[0]!.header;
  const frames = aac.map((f, i) => ({ time: start + Math.round((i * 1024 * 1e6) / h.sampleRate), keyframe: true, data: f.data }));
  return { info: { codec: 'aac', config: adtsToAudioSpecificConfig(h), sampleRate: h.sampleRate, channels: h.channels }, frames };
}

/** G.711 at 8 kHz mono in 20 ms frames (160 bytes), as RTP carries it. */
export function g711Track(raw: Uint8Array, codec: 'pcma' | 'pcmu', start = T0, frameBytes = 160): Track {
  const frames: Frame[] = [];
  for (let p = 0; p < raw.length; p += frameBytes) {
    frames.push({ time: start + Math.round((p * 1e6) / 8000), keyframe: true, data: raw.subarray(p, Math.min(raw.length, p + frameBytes)) });
  }
  return { info: { codec, config: new Uint8Array(0), sampleRate: 8000, channels: 1 }, frames };
}
