// One live stream into one <video>: fragmented MP4 from the box's live
// WebSocket appended to a Media Source Extensions SourceBuffer, kept near the
// live edge, reconnecting after a drop. A live stream the browser cannot
// play (H.265) falls back to the channel's sub stream, else to snapshots.

import { SnapshotView } from './snapshot-view.js';

interface LiveInit {
  type: 'init';
  mime: string;
  video: { codec: string; width: number | null; height: number | null };
  audio: { codec: string } | null;
  startUs?: number;
}

type Message = LiveInit | { type: 'end' } | { type: 'error'; message: string };

export interface PlayerOptions {
  /** Live: stay at the live edge. Playback: start at `seekUs` exactly, never skip ahead. */
  live: boolean;
  /** Playback: the wall-clock time (µs) to show first (the stream starts at the keyframe before it). */
  seekUs?: number;
  /** Live: the stream to play instead when this one's codec does not play here (the channel's sub stream). */
  substitute?: string;
}

/** "H.264", "H.265" as people write them. */
const codecName = (codec: string) => codec.replace(/^h(26[45])$/i, 'H.$1').toUpperCase();

export class LivePlayer {
  private ws: WebSocket | undefined;
  private source: MediaSource | undefined;
  private buffer: SourceBuffer | undefined;
  private queue: ArrayBuffer[] = [];
  private stopped = false;
  private retry: number | undefined;
  /** Wall-clock µs of media time 0 (playback). */
  startUs: number | undefined;
  private finished = false;
  /** Paused by the user (playback): the stream keeps coming, the picture stays. */
  held = false;
  private seekPending = false;
  /** Showing the substitute stream: its status says why. */
  private substituted = false;
  private snapshots: SnapshotView | undefined;
  /** The socket path connected to: `path`, or the substitute. */
  private current = '';

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly path: string,
    private readonly status: (text: string) => void,
    private readonly opts: PlayerOptions = { live: true },
  ) {}

  /** The wall-clock time (ms) of the picture shown, in playback; null before the first picture of the asked time. */
  position(): number | null {
    // Until the seek to the asked time, the video sits on the keyframe before it: not a time to show.
    if (this.startUs === undefined || this.video.readyState < 1 || this.seekPending) return null;
    return this.startUs / 1000 + this.video.currentTime * 1000;
  }

  start(): void {
    this.stopped = false;
    this.substituted = false;
    this.current = this.path;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retry);
    this.ws?.close();
    this.ws = undefined;
    this.snapshots?.stop();
    this.snapshots = undefined;
    this.detach();
  }

  private connect(): void {
    const ws = new WebSocket(`wss://${location.host}${this.current}`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.status('connecting…');
    ws.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
      if (this.ws !== ws) return;
      if (typeof e.data !== 'string') return this.append(e.data);
      const m = JSON.parse(e.data) as Message;
      if (m.type === 'init') return this.init(m);
      this.finished = true;
      this.status(m.type === 'end' ? 'end of the recording' : m.message);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws || this.stopped || this.finished) return;
      this.status(e.reason || 'disconnected: retrying');
      this.retry = window.setTimeout(() => this.connect(), 2000);
    };
  }

  private init(m: LiveInit): void {
    this.detach();
    if (!('MediaSource' in window) || !MediaSource.isTypeSupported(m.mime)) return this.unplayable(m);
    const source = new MediaSource();
    this.source = source;
    this.startUs = m.startUs;
    // The capture time of media time 0, for anyone measuring latency from the page (scripts/bench/web-live.ts).
    if (m.startUs !== undefined) this.video.dataset.startUs = String(m.startUs);
    this.seekPending = !this.opts.live && this.opts.seekUs !== undefined && m.startUs !== undefined;
    this.queue = [];
    this.video.src = URL.createObjectURL(source);
    source.addEventListener(
      'sourceopen',
      () => {
        if (this.source !== source) return;
        URL.revokeObjectURL(this.video.src);
        const buffer = source.addSourceBuffer(m.mime);
        buffer.mode = 'segments';
        buffer.addEventListener('updateend', () => this.pump());
        this.buffer = buffer;
        this.status(`${codecName(m.video.codec)}${m.video.width ? ` ${m.video.width}×${m.video.height}` : ''}${this.substituted ? ' (sub stream: the main stream does not play in this browser)' : ''}`);
        this.pump();
      },
      { once: true },
    );
  }

  /** A stream this browser cannot decode: the substitute stream if there is one, else snapshots (live) or a note (playback). */
  private unplayable(m: LiveInit): void {
    const why = 'MediaSource' in window ? `${codecName(m.video.codec)} does not play in this browser` : 'This browser cannot play live video (no Media Source Extensions)';
    const ws = this.ws;
    // Nothing of this stream can be shown: stop it, freeing the box's viewer slot and the LAN.
    this.ws = undefined;
    ws?.close();
    if (this.opts.substitute && !this.substituted) {
      this.substituted = true;
      this.current = this.opts.substitute;
      return this.connect();
    }
    const channel = this.opts.live ? /^\/api\/v1\/live\/([^/]+)\//.exec(this.current)?.[1] : undefined;
    if (channel === undefined) return this.status(why);
    const hint = m.video.codec === 'h265' && 'MediaSource' in window ? " — set the camera's sub stream to H.264 for video" : '';
    this.snapshots = new SnapshotView(this.video, `/api/v1/channels/${channel}/snapshot.jpg`, `${why}: snapshots every second${hint}`, this.status);
  }

  private append(data: ArrayBuffer): void {
    if (!this.source) return;
    // Far behind (a hidden tab): drop what waits rather than grow without end.
    if (this.opts.live && this.queue.length > 200) this.queue.splice(1, this.queue.length - 1);
    this.queue.push(data);
    this.pump();
  }

  private pump(): void {
    const b = this.buffer;
    if (!b || b.updating) return;
    const v = this.video;
    const ranges = v.buffered;
    if (ranges.length && this.seekPending) {
      // Exact seeking: the stream starts at the keyframe before the asked time; show the asked time.
      const at = (this.opts.seekUs! - this.startUs!) / 1e6;
      if (at <= 0 || ranges.end(ranges.length - 1) >= at) {
        this.seekPending = false;
        if (at > 0) v.currentTime = at;
      }
    }
    if (ranges.length && this.opts.live) {
      const end = ranges.end(ranges.length - 1);
      // Stay at the live edge: join there, and catch up after a stall or a skipped GOP.
      const lag = end - v.currentTime;
      if (lag > 1.5 || v.currentTime < ranges.start(ranges.length - 1)) v.currentTime = Math.max(ranges.start(ranges.length - 1), end - 0.2);
      // Creep back to the edge without a jump: 10 % faster while more than 150 ms behind what has arrived.
      else v.playbackRate = lag > 0.15 ? 1.1 : 1;
      if (v.paused) void v.play().catch(() => {});
    }
    if (ranges.length && !this.opts.live && v.paused && !this.held && !this.seekPending) void v.play().catch(() => {});
    if (ranges.length) {
      // Keep about 30 s behind the picture in the buffer, no more.
      const start = ranges.start(0);
      if (v.currentTime - start > 40) {
        b.remove(start, v.currentTime - 30);
        return;
      }
    }
    const next = this.queue.shift();
    if (!next) return;
    try {
      b.appendBuffer(next);
    } catch (e) {
      // QuotaExceeded or a decode error: start over from the next init segment.
      this.status(`playback error: ${(e as Error).name}; reconnecting`);
      this.ws?.close();
    }
  }

  private detach(): void {
    this.buffer = undefined;
    this.source = undefined;
    this.queue = [];
    if (this.video.src) {
      this.video.removeAttribute('src');
      this.video.load();
    }
  }
}
