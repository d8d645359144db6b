/**
 * The independent judge for the camera tests: received frames are written
 * the way a recorder would export them (Annex B with parameter sets before
 * keyframes, ADTS for AAC) and ffprobe counts and decodes them.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Frame, StreamInfo } from '../../../../firmware/media/types.js';

/** The NAL units inside an avcC or hvcC record. */
export function configNals(info: StreamInfo): Uint8Array[] {
  const c = info.config;
  const out: Uint8Array[] = [];
  if (info.codec === 'h264') {
    let o = 5;
    for (const countMask of [0x1f, 0xff]) {
      const n = c[o]! & countMask;
      o++;
      for (let i = 0; i < n; i++) {
        const len = (c[o]! << 8) | c[o + 1]!;
        out.push(c.subarray(o + 2, o + 2 + len));
        o += 2 + len;
      }
    }
  } else {
    let o = 23;
    for (let a = 0; a < c[22]!; a++) {
      const n = (c[o + 1]! << 8) | c[o + 2]!;
      o += 3;
      for (let i = 0; i < n; i++) {
        const len = (c[o]! << 8) | c[o + 1]!;
        out.push(c.subarray(o + 2, o + 2 + len));
        o += 2 + len;
      }
    }
  }
  return out;
}

const START = Buffer.from([0, 0, 0, 1]);

/** Length-prefixed samples → Annex B byte stream, parameter sets before each keyframe. */
export function annexB(info: StreamInfo, frames: Frame[]): Buffer {
  const params = configNals(info);
  const parts: Buffer[] = [];
  for (const f of frames) {
    if (f.keyframe) for (const p of params) parts.push(START, Buffer.from(p));
    const d = Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength);
    for (let o = 0; o < d.length; ) {
      const len = d.readUInt32BE(o);
      parts.push(START, d.subarray(o + 4, o + 4 + len));
      o += 4 + len;
    }
  }
  return Buffer.concat(parts);
}

/** Raw AAC frames → ADTS stream (ISO/IEC 14496-3 §1.A.2), using the AudioSpecificConfig. */
export function adts(info: StreamInfo, frames: Frame[]): Buffer {
  const objectType = info.config[0]! >> 3;
  const freqIndex = ((info.config[0]! & 7) << 1) | (info.config[1]! >> 7);
  const channels = (info.config[1]! >> 3) & 0xf;
  return Buffer.concat(
    frames.flatMap((f) => {
      const len = f.data.length + 7;
      const h = Buffer.from([
        0xff, 0xf1,
        ((objectType - 1) << 6) | (freqIndex << 2) | (channels >> 2),
        ((channels & 3) << 6) | (len >> 11),
        (len >> 3) & 0xff,
        ((len & 7) << 5) | 0x1f,
        0xfc,
      ]);
      return [h, Buffer.from(f.data)];
    }),
  );
}

export interface ProbeResult {
  stderr: string;
  stream: { codec_name: string; width?: number; height?: number; sample_rate?: string; channels?: number; nb_read_frames?: string };
}

export function ffprobeFile(path: string, data: Buffer): Promise<ProbeResult> {
  writeFileSync(path, data);
  return new Promise((resolve, reject) => {
    execFile('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', path], { timeout: 60000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`ffprobe failed: ${stderr || err.message}`));
      const streams = (JSON.parse(stdout) as { streams: ProbeResult['stream'][] }).streams;
      if (streams.length !== 1) return reject(new Error(`ffprobe found ${streams.length} streams`));
      resolve({ stderr, stream: streams[0]! });
    });
  });
}
