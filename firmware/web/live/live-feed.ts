// One subscription to a channel's live stream shared by every viewer of it,
// keeping the frames since the last keyframe so that a viewer who joins
// (a page reload, a layout change) starts at once instead of waiting up to
// a GOP for the next keyframe. It lingers a while after its last viewer
// leaves, so switching layouts does not lose it.
import type { LiveListener } from '../../channels/live-fanout.js';
import type { Clock, Timer } from '../../core/clock.js';
import type { Frame, StreamInfo } from '../../media/types.js';

export interface FeedSource {
  subscribe(channel: string, video: 'main' | 'sub', listener: LiveListener): () => void;
}

interface Held {
  kind: 'video' | 'audio';
  info: StreamInfo;
  frame: Frame;
}

export interface LiveFeedOptions {
  clock: Clock;
  /** The GOP held for joiners is dropped beyond this (default 8 MiB): a camera with a 10 s GOP at 8 Mbit/s does not get it. */
  maxGopBytes?: number;
  /** How long the subscription stays after its last viewer (default 60 s). */
  lingerMs?: number;
}

export class LiveFeed {
  private readonly viewers = new Set<LiveListener>();
  private gop: Held[] = [];
  private gopBytes = 0;
  private unsubscribe: (() => void) | undefined;
  private linger: Timer | undefined;

  constructor(
    private readonly source: FeedSource,
    private readonly channel: string,
    private readonly video: 'main' | 'sub',
    private readonly o: LiveFeedOptions,
    /** Told when the feed has ended for good (lingered out or the channel stopped). */
    private readonly gone: () => void,
  ) {}

  /** Adds a viewer: it gets the current GOP at once, then every frame live. Returns its detach. */
  join(viewer: LiveListener): () => void {
    if (this.linger) this.o.clock.clearTimeout(this.linger);
    this.linger = undefined;
    this.unsubscribe ??= this.source.subscribe(this.channel, this.video, {
      frame: (kind, info, frame) => this.frame(kind, info, frame),
      end: () => this.end(),
    });
    for (const h of this.gop) viewer.frame(h.kind, h.info, h.frame);
    this.viewers.add(viewer);
    return () => {
      if (!this.viewers.delete(viewer) || this.viewers.size > 0 || !this.unsubscribe) return;
      this.linger = this.o.clock.setTimeout(() => this.close(), this.o.lingerMs ?? 60_000);
    };
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Frames held for the next joiner. */
  get heldFrames(): number {
    return this.gop.length;
  }

  close(): void {
    if (this.linger) this.o.clock.clearTimeout(this.linger);
    this.linger = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.gop = [];
    this.gopBytes = 0;
    this.gone();
  }

  private frame(kind: 'video' | 'audio', info: StreamInfo, frame: Frame): void {
    if (kind === 'video' && frame.keyframe) {
      this.gop = [];
      this.gopBytes = 0;
    }
    // Before the first keyframe, or past the bound, nothing is held: a joiner waits for the next keyframe.
    if ((this.gop.length > 0 || (kind === 'video' && frame.keyframe)) && this.gopBytes + frame.data.length <= (this.o.maxGopBytes ?? 8 << 20)) {
      this.gop.push({ kind, info, frame });
      this.gopBytes += frame.data.length;
    } else if (this.gop.length > 0) {
      this.gop = [];
      this.gopBytes = 0;
    }
    for (const v of this.viewers) v.frame(kind, info, frame);
  }

  private end(): void {
    const viewers = [...this.viewers];
    this.viewers.clear();
    this.unsubscribe = undefined;
    this.close();
    for (const v of viewers) v.end();
  }
}
