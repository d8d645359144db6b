/**
 * What the benchmarks that need an IP camera share: the GStreamer RTSP test
 * camera (scripts/sim/rtsp-camera.py) on a free loopback port, and
 * percentiles.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Compiled into dist/scripts/bench/ or run from the sources.
const script = [resolve(here, '../../../scripts/sim/rtsp-camera.py'), resolve(here, '../sim/rtsp-camera.py')].find((p) => existsSync(p))!;

/** Starts the camera with extra arguments (size, bitrate...); resolves with its first URL once it says READY. */
export function startBenchCamera(args: string[] = []): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn('/usr/bin/python3', [script, '--port', '0', '--codec', 'h264', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    let out = '';
    proc.once('exit', (c) => rej(new Error(`camera exited ${c}`)));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) res({ url: m[1]!, proc });
    });
  });
}

/** The p-th percentile (nearest rank) of `xs`; NaN when empty. */
export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}

/**
 * An MP4 of at least `seconds` of the camera's live stream for the given
 * arguments (size, bitrate, pattern), encoded once by the camera script
 * (`--record`) and kept under var/bench/clips/. Served with `--file`, it
 * sends the same kind of bytes as the live camera for almost no CPU, so
 * benchmarks can run many cameras on a small machine.
 */
export async function recordedClip(args: string[], seconds: number): Promise<string> {
  const dir = join(dirname(dirname(dirname(script))), 'var', 'bench', 'clips');
  mkdirSync(dir, { recursive: true });
  const key = args.join('_').replace(/[^A-Za-z0-9_.-]/g, '');
  const have = readdirSync(dir)
    .map((f) => ({ f, s: Number(new RegExp(`^${key}_(\\d+)s\\.mp4$`).exec(f)?.[1] ?? NaN) }))
    .filter((x) => x.s >= seconds)
    .sort((a, b) => a.s - b.s)[0];
  if (have) return join(dir, have.f);
  const path = join(dir, `${key}_${seconds}s.mp4`);
  // Written beside and renamed, so an interrupted encode never passes for a clip.
  await promisify(execFile)('/usr/bin/python3', [script, '--codec', 'h264', ...args, '--record', `${path}.part`, '--seconds', String(seconds)], { maxBuffer: 1 << 20 });
  renameSync(`${path}.part`, path);
  return path;
}
