/**
 * Real encoded media for the server tests: ffmpeg encodes a few seconds of
 * test pattern (libx264/libx265, AAC) and the firmware's own NAL/ADTS code
 * turns it into the Frames a channel would produce.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adtsToAudioSpecificConfig, splitAdts } from '../../../firmware/media/aac.js';
import { buildAvcC, h264AccessUnits, parseH264Sps, splitH264AccessUnit } from '../../../firmware/media/h264.js';
import { buildHvcC, h265AccessUnits, parseH265Sps, splitH265AccessUnit } from '../../../firmware/media/h265.js';
import { splitAnnexB } from '../../../firmware/media/nal.js';
import type { Frame, StreamInfo } from '../../../firmware/media/types.js';
import { run } from './helpers.js';

export interface Track {
  info: StreamInfo;
  frames: Frame[];
}

const T0 = 1_700_000_000_000_000;

export async function encodeVideo(dir: string, codec: 'h264' | 'h265', seconds = 2, size = '320x240'): Promise<Track> {
  const file = join(dir, `v.${codec}`);
  const enc = codec === 'h264' ? ['-c:v', 'libx264', '-x264-params', 'keyint=25:min-keyint=25:scenecut=0:bframes=0'] : ['-c:v', 'libx265', '-x265-params', 'keyint=25:min-keyint=25:scenecut=0:bframes=0:log-level=error'];
  const r = await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-t', String(seconds), ...enc, '-pix_fmt', 'yuv420p', '-f', codec === 'h264' ? 'h264' : 'hevc', '-y', file]);
  if (r.code !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  const nals = splitAnnexB(readFileSync(file));
  const frames: Frame[] = [];
  let info: StreamInfo | undefined;
  const units = codec === 'h264' ? h264AccessUnits(nals) : h265AccessUnits(nals);
  units.forEach((au, i) => {
    if (codec === 'h264') {
      const s = splitH264AccessUnit(au);
      if (!info && s.sps[0] && s.pps[0]) {
        const { width, height } = parseH264Sps(s.sps[0]);
        info = { codec, config: buildAvcC(s.sps, s.pps), width, height };
      }
      frames.push({ time: T0 + i * 40_000, keyframe: s.keyframe, data: s.data });
    } else {
      const s = splitH265AccessUnit(au);
      if (!info && s.vps[0] && s.sps[0] && s.pps[0]) {
        const { width, height } = parseH265Sps(s.sps[0]);
        info = { codec, config: buildHvcC(s.vps, s.sps, s.pps), width, height };
      }
      frames.push({ time: T0 + i * 40_000, keyframe: s.keyframe, data: s.data });
    }
  });
  if (!info) throw new Error('no parameter sets in the encoded stream');
  return { info, frames };
}

export async function encodeAac(dir: string, seconds = 2): Promise<Track> {
  const file = join(dir, 'a.aac');
  const r = await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(seconds), '-ac', '1', '-c:a', 'aac', '-f', 'adts', '-y', file]);
  if (r.code !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  const adts = splitAdts(readFileSync(file));
  const info: StreamInfo = { codec: 'aac', config: adtsToAudioSpecificConfig(adts[0]!.header), sampleRate: 48000, channels: 1 };
  return { info, frames: adts.map((f, i) => ({ time: T0 + Math.round((i * 1024 * 1e6) / 48000), keyframe: true, data: f.data })) };
}
