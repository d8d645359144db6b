/** Starts scripts/sim/rtsp-camera.py (gst-rtsp-server) on a free loopback port for a test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../scripts/sim/rtsp-camera.py');

export interface CameraOptions {
  codec?: 'h264' | 'h265';
  audio?: boolean;
  user?: string;
  password?: string;
  /** A fixed port, to bring the same camera back after a kill; default a free one. */
  port?: number;
}

export interface Camera {
  url: string;
  proc: ChildProcess;
  /** SIGKILL: the camera vanishes mid-stream like a power cut. */
  kill(): void;
  stop(): Promise<void>;
}

export function startCamera(o: CameraOptions = {}): Promise<Camera> {
  const args = [script, '--port', String(o.port ?? 0), '--codec', o.codec ?? 'h264'];
  if (o.audio) args.push('--audio');
  if (o.user) args.push('--user', o.user, '--password-env');
  const proc = spawn('/usr/bin/python3', args, {
    env: { ...process.env, RTSP_CAMERA_PASSWORD: o.password ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`camera not READY within 20 s: ${stderr}`));
    }, 20000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`camera exited with ${code}: ${stderr}`));
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      res({
        url: m[1]!,
        proc,
        kill: () => proc.kill('SIGKILL'),
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
