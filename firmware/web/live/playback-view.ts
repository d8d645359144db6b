// Playback for the page: a channel's recording from a moment, as per-frame
// fMP4 over a WebSocket, paced at 1x-32x by the recording's own timestamps
// (recordings/playback.ts: keyframes only above 4x, gaps jumped). The page
// sets the same rate on its <video>; a new speed or position is a new socket.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { mimeType } from '../../media/mp4/codec-string.js';
import { Fmp4Muxer } from '../../media/mp4/fragment.js';
import type { StreamInfo } from '../../media/types.js';
import { playback, PLAYBACK_SPEEDS } from '../../recordings/playback.js';
import { parseTime, TimeFormatError } from '../../recordings/times.js';
import type { RingStore } from '../../storage/ring-store.js';
import { acceptWebSocket, refuseUpgrade, type WebSocket } from '../ws/websocket.js';
import { sameInfo, type LiveInit } from './live-view.js';
import { authorizeSocket, type SocketAuth } from './socket-auth.js';

export interface PlaybackViewDeps {
  log: Logger;
  clock: Clock;
  auth: SocketAuth;
  store: () => RingStore | undefined;
  channels: () => string[];
  maxSessions?: number;
}

const PATH = /^\/api\/v1\/playback\/([A-Za-z0-9_-]{1,64})$/;
/** A viewer this far behind makes the reader wait, rather than the box buffer a recording in memory. */
const MAX_BEHIND = 8 * 1024 * 1024;

export class PlaybackView {
  private sessions = new Map<AbortController, WebSocket>();

  constructor(private readonly d: PlaybackViewDeps) {}

  handles(req: IncomingMessage): boolean {
    return (req.url ?? '').startsWith('/api/v1/playback/');
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://box');
    const m = PATH.exec(url.pathname);
    if (!m) return refuseUpgrade(socket, 404, 'no such playback: /api/v1/playback/<channel>?from=<time>&speed=<1..32>');
    const channel = m[1]!;
    if (!this.d.channels().includes(channel)) return refuseUpgrade(socket, 404, `no channel "${channel}"`);
    let fromUs: number;
    try {
      fromUs = parseTime(url.searchParams.get('from') ?? '', this.d.clock.now() * 1000);
    } catch (e) {
      if (e instanceof TimeFormatError) return refuseUpgrade(socket, 400, e.message);
      throw e;
    }
    const speed = Number(url.searchParams.get('speed') ?? '1');
    if (!(PLAYBACK_SPEEDS as readonly number[]).includes(speed)) return refuseUpgrade(socket, 400, `speed: one of ${PLAYBACK_SPEEDS.join(', ')}`);
    if (!(await authorizeSocket(req, socket, this.d.auth, channel, 'playback'))) return;
    const store = this.d.store();
    if (!store) return refuseUpgrade(socket, 503, 'no recording disk is running');
    if (this.sessions.size >= (this.d.maxSessions ?? 16)) return refuseUpgrade(socket, 503, 'too many playbacks');
    const ws = acceptWebSocket(req, socket, head);
    if (!ws) return;
    void this.play(ws, store, channel, fromUs, speed);
  }

  closeAll(): void {
    for (const [abort, ws] of [...this.sessions]) {
      abort.abort();
      ws.close(1001, 'the box is stopping');
    }
  }

  private async play(ws: WebSocket, store: RingStore, channel: string, fromUs: number, speed: number): Promise<void> {
    const abort = new AbortController();
    this.sessions.set(abort, ws);
    ws.on('close', () => abort.abort());
    let muxer: Fmp4Muxer | undefined;
    let current: StreamInfo | undefined;
    try {
      for await (const { info, frame } of playback(store, { channel, stream: 'main', fromUs, speed, clock: this.d.clock, signal: abort.signal })) {
        if (abort.signal.aborted) break;
        if (!muxer || !sameInfo(current, info)) {
          if (!frame.keyframe) continue;
          muxer = new Fmp4Muxer([info], { fragmentMs: 1 });
          current = info;
          const init: LiveInit = { type: 'init', channel, stream: 'main', mime: mimeType([info]), video: { codec: info.codec, width: info.width ?? null, height: info.height ?? null }, audio: null, startUs: frame.time };
          ws.sendText(JSON.stringify(init));
          ws.sendBinary(muxer.init);
        }
        for (const s of muxer.push(0, frame)) ws.sendBinary(s.data);
        while (ws.isOpen && ws.buffered > MAX_BEHIND) await new Promise((r) => setTimeout(r, 50));
      }
      if (!abort.signal.aborted) {
        for (const s of muxer?.flush() ?? []) ws.sendBinary(s.data);
        ws.sendText(JSON.stringify({ type: 'end' }));
        ws.close(1000, 'end of recording');
      }
    } catch (e) {
      const message = (e as Error).message;
      this.d.log.warn('playback failed', { channel, error: message });
      ws.sendText(JSON.stringify({ type: 'error', message }));
      ws.close(1011, message.slice(0, 100));
    } finally {
      this.sessions.delete(abort);
    }
  }
}
