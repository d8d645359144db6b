/** Real elementary streams encoded by ffmpeg for the tests, cached per directory. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ffmpeg } from './ffmpeg.js';

export async function h264Stream(dir: string, size = '704x576', seconds = 4, extra: string[] = []): Promise<{ path: string; bytes: Uint8Array }> {
  const path = join(dir, `src-${size}-${seconds}.264`);
  await ffmpeg('-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25`, '-t', String(seconds), '-c:v', 'libx264', '-g', '25', '-bf', '0', '-pix_fmt', 'yuv420p', ...extra, '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', path);
  return { path, bytes: new Uint8Array(await readFile(path)) };
}

export async function h265Stream(dir: string, size = '704x576', seconds = 4): Promise<{ path: string; bytes: Uint8Array }> {
  const path = join(dir, `src-${size}-${seconds}.265`);
  await ffmpeg('-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25`, '-t', String(seconds), '-c:v', 'libx265', '-x265-params', 'keyint=25:min-keyint=25:bframes=0:log-level=error', '-pix_fmt', 'yuv420p', '-bsf:v', 'hevc_mp4toannexb', '-f', 'hevc', path);
  return { path, bytes: new Uint8Array(await readFile(path)) };
}

export async function aacStream(dir: string, seconds = 4, rate = 48000): Promise<{ path: string; bytes: Uint8Array }> {
  const path = join(dir, `src-${rate}-${seconds}.aac`);
  await ffmpeg('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}`, '-t', String(seconds), '-c:a', 'aac', '-b:a', '64k', '-f', 'adts', path);
  return { path, bytes: new Uint8Array(await readFile(path)) };
}

export async function g711Stream(dir: string, law: 'alaw' | 'mulaw', seconds = 4): Promise<{ path: string; bytes: Uint8Array }> {
  const path = join(dir, `src-${seconds}.${law}`);
  await ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000', '-t', String(seconds), '-ar', '8000', '-ac', '1', '-f', law, path);
  return { path, bytes: new Uint8Array(await readFile(path)) };
}
