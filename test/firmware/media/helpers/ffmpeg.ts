/**
 * ffmpeg/ffprobe as the independent judge of our media: encode real test
 * streams, probe and decode what we mux, hash decoded frames.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Run {
  stdout: Buffer;
  stderr: string;
}

export function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 1 << 28 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.toString()}`));
      else resolve({ stdout, stderr: stderr.toString() });
    });
  });
}

/** A fresh temp directory removed when the test ends. */
export async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'media-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs ffmpeg with `-v error -y` and the given arguments; throws on failure. */
export async function ffmpeg(...args: string[]): Promise<Run> {
  return run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args]);
}

export interface Probe {
  streams: {
    codec_name: string;
    codec_type: string;
    profile?: string;
    width?: number;
    height?: number;
    sample_rate?: string;
    channels?: number;
    nb_read_frames?: string;
    duration?: string;
    start_time?: string;
    level?: number;
    r_frame_rate?: string;
  }[];
  format: { duration?: string; format_name: string; tags?: Record<string, string> };
  stderr: string;
}

export async function ffprobe(path: string, extra: string[] = []): Promise<Probe> {
  const r = await run('ffprobe', ['-v', 'error', ...extra, '-show_streams', '-show_format', '-count_frames', '-of', 'json', path]);
  return { ...(JSON.parse(r.stdout.toString()) as Omit<Probe, 'stderr'>), stderr: r.stderr };
}

/** Full decode; returns ffmpeg's error output ('' when clean). */
export async function decodeErrors(path: string, extra: string[] = []): Promise<string> {
  // `-enc_time_base -1` keeps the file's own time base: with the default (1 / frame rate), two real
  // camera frames closer than one nominal interval collide in the null muxer ("non monotonically
  // increasing dts"), an artefact of the check rather than of the file.
  const r = await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', ...extra, '-i', path, '-enc_time_base', '-1', '-f', 'null', '-']);
  return r.stderr;
}

/** MD5 of each decoded frame of one stream ('v:0' or 'a:0'), in order; timestamps left out. */
export async function frameHashes(path: string, stream: string, extra: string[] = []): Promise<string[]> {
  const r = await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', ...extra, '-i', path, '-map', `0:${stream}`, '-f', 'framemd5', '-']);
  return r.stdout
    .toString()
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').at(-1)!.trim());
}

/** MD5 of a stream's whole decoded output: for audio, where demuxers packetize differently. */
export async function decodedMd5(path: string, stream: string, extra: string[] = []): Promise<string> {
  const r = await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', ...extra, '-i', path, '-map', `0:${stream}`, '-f', 'md5', '-']);
  return r.stdout.toString().trim();
}
