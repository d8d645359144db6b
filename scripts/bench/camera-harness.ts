/**
 * What the benchmarks that need an IP camera share: the GStreamer RTSP test
 * camera (scripts/sim/rtsp-camera.py) on a free loopback port, and
 * percentiles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
