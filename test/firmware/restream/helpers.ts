/**
 * Shared pieces of the restream tests: the gst-rtsp-server camera with its
 * sub stream (the fixture in ../media/rtsp/camera.ts serves main only),
 * ffmpeg/ffprobe as independent RTSP clients, and a recording sink that
 * keeps what the channel handed to the store's interface.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordingSink } from '../../../firmware/channels/nvr-service.js';
import type { Frame, StreamInfo, StreamKind } from '../../../firmware/media/types.js';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/sim/rtsp-camera.py');

export interface SubCamera {
  main: string;
  sub: string;
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export function startSubCamera(o: { codec?: 'h264' | 'h265'; audio?: boolean; port?: number; bitrate?: number }): Promise<SubCamera> {
  const args = [script, '--port', String(o.port ?? 0), '--codec', o.codec ?? 'h264', '--sub', '--bitrate', String(o.bitrate ?? 512)];
  if (o.audio) args.push('--audio');
  const proc = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
      const m = /READY (\S+) (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      res({
        main: m[1]!,
        sub: m[2]!,
        port: Number(new URL(m[1]!).port),
        proc,
        stop: async () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}

/** Runs a media tool with an argument array (never a shell); resolves with its exit code and output. */
export function run(cmd: string, args: string[], timeoutMs = 40_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) ?? 1 : 0;
      res({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  nb_read_frames?: string;
  nb_read_packets?: string;
}

/** ffprobe's view of a recorded file: streams with packet counts. */
export async function probeFile(file: string): Promise<ProbedStream[]> {
  const r = await run('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=codec_type,codec_name,width,height,nb_read_packets', '-of', 'json', file]);
  if (r.code !== 0) throw new Error(`ffprobe failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { streams: ProbedStream[] }).streams;
}

/**
 * Decoding errors ffmpeg reports for the whole file (empty = decodes cleanly).
 * Frames keep the file's time base (`-enc_time_base -1`): live times are not a
 * strict 40 ms grid (the channel's clock slews by up to 1 % towards the
 * camera's sender reports), and the null muxer's default 1/25 time base
 * would otherwise complain about two frames in one 40 ms slot, which is not a
 * decoding error.
 */
export async function decodeErrors(file: string): Promise<string> {
  const r = await run('ffmpeg', ['-v', 'error', '-i', file, '-enc_time_base', '-1', '-f', 'null', '-']);
  return r.code === 0 ? r.stderr.trim() : `exit ${r.code}: ${r.stderr.trim()}`;
}

/** Keeps what the channel gives the store's interface, per stream. */
export class MemorySink implements RecordingSink {
  readonly frames = new Map<StreamKind, Frame[]>();
  readonly infos = new Map<StreamKind, StreamInfo[]>();
  readonly closed: StreamKind[] = [];
  setStreamInfo(_c: string, s: StreamKind, info: StreamInfo): void {
    this.infos.set(s, [...(this.infos.get(s) ?? []), info]);
  }
  append(_c: string, s: StreamKind, f: Frame): boolean {
    const list = this.frames.get(s) ?? [];
    if (list.length < 20_000) list.push(f);
    this.frames.set(s, list);
    return true;
  }
  async closeStream(_c: string, s: StreamKind): Promise<void> {
    this.closed.push(s);
  }
  count(s: StreamKind): number {
    return this.frames.get(s)?.length ?? 0;
  }
}

export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

import { connect, type Socket } from 'node:net';
import { Authenticator } from '../../../firmware/media/rtsp/auth.js';
import { RtspParser } from '../../../firmware/media/rtsp/parser.js';
import type { RtspResponse } from '../../../firmware/media/rtsp/message.js';

/**
 * A hand-driven RTSP client on a raw socket (Digest via the client's own
 * Authenticator): for what ffmpeg will not do, like playing and then never
 * reading again.
 */
export class RawClient {
  readonly socket: Socket;
  private parser = new RtspParser();
  private waiting: ((r: RtspResponse) => void)[] = [];
  private cseq = 0;
  private auth: Authenticator;
  interleavedBytes = 0;
  session?: string;

  constructor(port: number, user?: string, password?: string) {
    this.auth = new Authenticator(user !== undefined ? { username: user, password: password ?? '' } : undefined);
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('error', () => {});
    this.socket.on('data', (d) => {
      for (const item of this.parser.push(d)) {
        if (item.type === 'response') this.waiting.shift()?.(item.message);
        else if (item.type === 'interleaved') this.interleavedBytes += item.data.length;
      }
    });
  }

  /** Sends a request (retrying once after a 401 with credentials) and resolves with the response. */
  async request(method: string, uri: string, headers: Record<string, string> = {}): Promise<RtspResponse> {
    const send = (): Promise<RtspResponse> =>
      new Promise((res) => {
        const h = { CSeq: String(++this.cseq), ...headers, ...(this.session ? { Session: this.session } : {}) } as Record<string, string>;
        const a = this.auth.authorization(method, uri);
        if (a) h['Authorization'] = a;
        this.waiting.push(res);
        this.socket.write(`${method} ${uri} RTSP/1.0\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      });
    let r = await send();
    let retry = false;
    try {
      retry = r.status === 401 && this.auth.challenge(r.headers.getAll('www-authenticate'));
    } catch {
      // no credentials to answer with: the 401 is the answer
    }
    if (retry) r = await send();
    const s = r.headers.get('session');
    if (s) this.session = s.split(';')[0];
    return r;
  }

  /** DESCRIBE, SETUP of every track, PLAY; returns the PLAY response. */
  async play(base: string, tracks = 2): Promise<RtspResponse> {
    const d = await this.request('DESCRIBE', base, { Accept: 'application/sdp' });
    if (d.status !== 200) return d;
    for (let i = 0; i < tracks; i++) {
      const s = await this.request('SETUP', `${base}/trackID=${i}`, { Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}` });
      if (s.status !== 200) return s;
    }
    return this.request('PLAY', base, { Range: 'npt=0-' });
  }

  closed(): Promise<void> {
    return new Promise((res) => (this.socket.destroyed ? res() : this.socket.once('close', () => res())));
  }
}
