/** What the ONVIF tests share: a gst-rtsp-server camera with a sub stream, and waiting on the bus. */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BusEvents, EventBus } from '../../../firmware/core/bus.js';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/sim/rtsp-camera.py');

export interface SubCamera {
  main: string;
  sub: string;
  stop(): Promise<void>;
}

/**
 * scripts/sim/rtsp-camera.py with --sub (test/firmware/media/rtsp/camera.ts
 * starts it without the sub stream): small and slow, to spare the CPU.
 */
export function startCameraWithSub(): Promise<SubCamera> {
  const proc = spawn('/usr/bin/python3', [script, '--port', '0', '--width', '480', '--height', '360', '--fps', '10', '--bitrate', '256', '--sub'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`camera not READY within 20 s: ${err}`));
    }, 20000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`camera exited with ${code}: ${err}`));
    });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+) (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      res({
        main: m[1]!,
        sub: m[2]!,
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** Resolves with the first `name` event that matches, or rejects after ms. */
export function nextEvent<K extends keyof BusEvents>(bus: EventBus, name: K, match: (e: BusEvents[K]) => boolean = () => true, ms = 15000): Promise<BusEvents[K]> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      off();
      rej(new Error(`no ${String(name)} event within ${ms} ms`));
    }, ms);
    const off = bus.on(name, (e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      res(e);
    });
  });
}
