import type { Logger } from '../core/log.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import type { FrameSink } from './channel-runner.js';

/** A live consumer of one channel's video stream (main or sub) and its audio. */
export interface LiveListener {
  frame(kind: 'video' | 'audio', info: StreamInfo, frame: Frame): void;
  /** The channel is gone (service stopped): no more frames will come. */
  end(): void;
}

/**
 * Live frames of a channel service, offered to live consumers (the RTSP
 * restream): `has`, `liveTracks`, `subscribe`. NvrService keeps one for the
 * IP channels; the analog channels' DvrService pushes into one. Frames are handed on
 * synchronously; a listener that throws is logged and skipped, so a broken
 * viewer never stalls the recording.
 */
export class LiveFanout implements FrameSink {
  private readonly infos = new Map<string, Map<StreamKind, StreamInfo>>();
  private readonly subs = new Map<string, Set<{ video: 'main' | 'sub'; listener: LiveListener }>>();

  constructor(
    /** Which channels run here and whether each has a sub stream. */
    private readonly running: () => { id: string; sub: boolean }[],
    private readonly log: Logger,
  ) {}

  frame(channel: string, stream: StreamKind, info: StreamInfo, frame: Frame): void {
    let m = this.infos.get(channel);
    if (!m) this.infos.set(channel, (m = new Map()));
    m.set(stream, info);
    const subs = this.subs.get(channel);
    if (!subs) return;
    for (const s of subs) {
      if (stream !== 'audio' && stream !== s.video) continue;
      try {
        s.listener.frame(stream === 'audio' ? 'audio' : 'video', info, frame);
      } catch (e) {
        this.log.warn('live consumer failed', { channel, error: (e as Error).message });
      }
    }
  }

  has(channel: string, video: 'main' | 'sub'): boolean {
    const c = this.running().find((x) => x.id === channel);
    return c !== undefined && (video === 'main' || c.sub);
  }

  liveTracks(channel: string, video: 'main' | 'sub'): StreamInfo[] {
    if (!this.has(channel, video)) return [];
    const m = this.infos.get(channel);
    const v = m?.get(video);
    const a = m?.get('audio');
    return v ? (a ? [v, a] : [v]) : [];
  }

  subscribe(channel: string, video: 'main' | 'sub', listener: LiveListener): () => void {
    let set = this.subs.get(channel);
    if (!set) this.subs.set(channel, (set = new Set()));
    const s = { video, listener };
    set.add(s);
    return () => void set.delete(s);
  }

  /** The channels stopped: every listener is told, and forgotten. */
  end(): void {
    const all = [...this.subs.values()].flatMap((s) => [...s]);
    this.subs.clear();
    this.infos.clear();
    for (const s of all) {
      try {
        s.listener.end();
      } catch {
        // ending is best effort
      }
    }
  }
}
