// One live stream into one <video>: fragmented MP4 from the box's live
// WebSocket appended to a Media Source Extensions SourceBuffer, kept near the
// live edge, reconnecting after a drop.

interface LiveInit {
  type: 'init';
  mime: string;
  video: { codec: string; width: number | null; height: number | null };
  audio: { codec: string } | null;
}

export class LivePlayer {
  private ws: WebSocket | undefined;
  private source: MediaSource | undefined;
  private buffer: SourceBuffer | undefined;
  private queue: ArrayBuffer[] = [];
  private stopped = false;
  private retry: number | undefined;
  /** Media segments appended since the start: a test or a status line can watch it grow. */
  segments = 0;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly path: string,
    private readonly status: (text: string) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retry);
    this.ws?.close();
    this.ws = undefined;
    this.detach();
  }

  private connect(): void {
    const ws = new WebSocket(`wss://${location.host}${this.path}`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.status('connecting…');
    ws.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
      if (typeof e.data === 'string') this.init(JSON.parse(e.data) as LiveInit);
      else this.append(e.data);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws || this.stopped) return;
      this.status(e.reason || 'disconnected: retrying');
      this.retry = window.setTimeout(() => this.connect(), 2000);
    };
  }

  private init(m: LiveInit): void {
    this.detach();
    if (!('MediaSource' in window) || !MediaSource.isTypeSupported(m.mime)) {
      // H.265 main streams: browsers do not decode them; the grid uses the H.264 sub stream.
      this.status(`${m.video.codec.toUpperCase()} does not play in this browser${m.video.codec === 'h265' ? ': set the camera\'s sub stream to H.264' : ''}`);
      return;
    }
    const source = new MediaSource();
    this.source = source;
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
        this.status(`${m.video.codec.toUpperCase()}${m.video.width ? ` ${m.video.width}×${m.video.height}` : ''}`);
        this.pump();
      },
      { once: true },
    );
  }

  private append(data: ArrayBuffer): void {
    if (!this.source) return;
    // Far behind (a hidden tab): drop what waits rather than grow without end.
    if (this.queue.length > 200) this.queue.splice(1, this.queue.length - 1);
    this.queue.push(data);
    this.pump();
  }

  private pump(): void {
    const b = this.buffer;
    if (!b || b.updating) return;
    const v = this.video;
    const ranges = v.buffered;
    if (ranges.length) {
      const end = ranges.end(ranges.length - 1);
      // Stay at the live edge: join there, and catch up after a stall or a skipped GOP.
      if (end - v.currentTime > 1.5 || v.currentTime < ranges.start(ranges.length - 1)) v.currentTime = Math.max(ranges.start(ranges.length - 1), end - 0.2);
      if (v.paused) void v.play().catch(() => {});
      // Keep about 30 s in the buffer, no more.
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
      this.segments++;
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
