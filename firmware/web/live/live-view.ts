// Live view for the page: a channel's live frames as fragmented MP4 over a
// WebSocket, for Media Source Extensions. One fragment per frame (a viewer
// is one frame behind the camera, not one GOP); a viewer joins at the next
// keyframe; a viewer too slow for the stream skips to a later keyframe
// rather than making the box buffer for it.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { LiveListener } from '../../channels/live-fanout.js';
import type { Frame, StreamInfo } from '../../media/types.js';
import { Fmp4Muxer } from '../../media/mp4/fragment.js';
import { mimeType } from '../../media/mp4/codec-string.js';
import { acceptWebSocket, refuseUpgrade, type WebSocket } from '../ws/websocket.js';
import { LiveFeed } from './live-feed.js';
import { authorizeSocket, type SocketAuth } from './socket-auth.js';

/** The live sources (the same as the RTSP restream's). */
export interface LiveSources {
  has(channel: string, video: 'main' | 'sub'): boolean;
  subscribe(channel: string, video: 'main' | 'sub', listener: LiveListener): () => void;
}

export interface LiveViewDeps {
  log: Logger;
  clock: Clock;
  sources: LiveSources;
  auth: SocketAuth;
  /** A viewer further behind than this skips to the next keyframe (default 4 MiB). */
  maxBehindBytes?: number;
  maxViewers?: number;
}

/** First message of a live socket, as text: what the binary messages that follow are. */
export interface LiveInit {
  type: 'init';
  channel: string;
  stream: 'main' | 'sub';
  /** For MediaSource.isTypeSupported / addSourceBuffer. */
  mime: string;
  video: { codec: string; width: number | null; height: number | null };
  /** Present when the channel's audio plays in a browser (AAC); G.711 is left out. */
  audio: { codec: string } | null;
  /** The wall-clock time (µs) of media time 0: the keyframe the stream starts from (capture time for live). */
  startUs?: number;
}

const PATH = /^\/api\/v1\/live\/([A-Za-z0-9_-]{1,64})\/(main|sub)$/;

export class LiveView {
  private viewers = new Set<() => void>();
  private feeds = new Map<string, LiveFeed>();

  constructor(private readonly d: LiveViewDeps) {}

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Whether an `upgrade` request is for the live view (the web server answers others with 404). */
  handles(req: IncomingMessage): boolean {
    return (req.url ?? '').startsWith('/api/v1/live/');
  }

  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const m = PATH.exec(new URL(req.url ?? '/', 'http://box').pathname);
    if (!m) return refuseUpgrade(socket, 404, 'no such live stream: /api/v1/live/<channel>/main|sub');
    const [, channel, stream] = m as unknown as [string, string, 'main' | 'sub'];
    if (!(await authorizeSocket(req, socket, this.d.auth, channel, 'live'))) return;
    if (!this.d.sources.has(channel, stream)) return refuseUpgrade(socket, 404, `channel ${channel} has no ${stream} stream`);
    if (this.viewers.size >= (this.d.maxViewers ?? 64)) return refuseUpgrade(socket, 503, 'too many live viewers');
    const ws = acceptWebSocket(req, socket, head);
    if (!ws) return;
    this.watch(ws, channel, stream);
  }

  /** Ends every live socket (the web service is stopping). */
  closeAll(): void {
    for (const end of [...this.viewers]) end();
    for (const f of [...this.feeds.values()]) f.close();
  }

  private feed(channel: string, stream: 'main' | 'sub'): LiveFeed {
    const key = `${channel}/${stream}`;
    let f = this.feeds.get(key);
    if (!f) {
      f = new LiveFeed(this.d.sources, channel, stream, { clock: this.d.clock }, () => this.feeds.delete(key));
      this.feeds.set(key, f);
    }
    return f;
  }

  private watch(ws: WebSocket, channel: string, stream: 'main' | 'sub'): void {
    const maxBehind = this.d.maxBehindBytes ?? 4 * 1024 * 1024;
    let muxer: Fmp4Muxer | undefined;
    let video: StreamInfo | undefined;
    let audio: StreamInfo | undefined;
    // Skipping to a keyframe because the viewer fell behind.
    const lag = { skipping: false };
    let unsubscribe = () => {};
    const end = () => {
      unsubscribe();
      this.viewers.delete(end);
      ws.close(1001, 'live view ended');
    };
    this.viewers.add(end);
    ws.on('close', () => {
      unsubscribe();
      this.viewers.delete(end);
    });

    let pendingAudio: StreamInfo | undefined;
    const listener: LiveListener = {
      frame: (kind: 'video' | 'audio', info: StreamInfo, frame: Frame) => {
        if (kind === 'audio') {
          // Audio joins at the next keyframe's new init segment; browsers play AAC only.
          if (info.codec === 'aac' && !sameInfo(audio, info)) pendingAudio = info;
          if (muxer && audio && sameInfo(audio, info)) this.push(ws, muxer, 1, frame, lag, maxBehind);
          return;
        }
        // Wait for a keyframe; restart the stream on a new configuration (the camera changed resolution or codec).
        if (frame.keyframe && (!sameInfo(video, info) || (pendingAudio && !sameInfo(audio, pendingAudio)))) {
          video = info;
          audio = pendingAudio;
          muxer = new Fmp4Muxer(audio ? [info, audio] : [info], { fragmentMs: 1 });
          this.sendInit(ws, channel, stream, muxer, info, audio, frame.time);
        }
        if (!muxer) return;
        this.push(ws, muxer, 0, frame, lag, maxBehind);
      },
      end: () => ws.close(1001, 'the channel stopped'),
    };
    unsubscribe = this.feed(channel, stream).join(listener);
    this.d.log.info('live viewer', { channel, stream });
  }

  private sendInit(ws: WebSocket, channel: string, stream: 'main' | 'sub', muxer: Fmp4Muxer, v: StreamInfo, a: StreamInfo | undefined, startUs: number): void {
    const init: LiveInit = {
      type: 'init',
      channel,
      stream,
      mime: mimeType(a ? [v, a] : [v]),
      video: { codec: v.codec, width: v.width ?? null, height: v.height ?? null },
      audio: a ? { codec: a.codec } : null,
      startUs,
    };
    ws.sendText(JSON.stringify(init));
    ws.sendBinary(muxer.init);
  }

  private push(ws: WebSocket, muxer: Fmp4Muxer, track: number, frame: Frame, lag: { skipping: boolean }, maxBehind: number): void {
    let segments;
    try {
      segments = muxer.push(track, frame);
    } catch (e) {
      // A frame the muxer refuses (time going backwards after a camera reboot) is dropped, not fatal.
      this.d.log.debug('live frame dropped', { error: (e as Error).message });
      return;
    }
    for (const s of segments) {
      if (ws.buffered > maxBehind) lag.skipping = true;
      if (lag.skipping) {
        if (!s.keyframe || ws.buffered > maxBehind / 2) continue;
        lag.skipping = false;
      }
      ws.sendBinary(s.data);
    }
  }
}

/** Same decoder configuration (a fresh StreamInfo object for the same stream restarts nothing). */
export function sameInfo(a: StreamInfo | undefined, b: StreamInfo): boolean {
  return a !== undefined && a.codec === b.codec && a.width === b.width && a.height === b.height && Buffer.compare(a.config, b.config) === 0;
}
