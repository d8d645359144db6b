// The live view's fallback where the browser cannot play a stream (H.265,
// no Media Source Extensions): the channel's picture from the box about once
// a second in an <img> over the hidden <video>, with a note saying why.
// Pictures are fetched (not set as the img's URL) so that the box's error
// comes back in words; nothing is fetched while the tab is hidden.
import { h } from './ui.js';

const PERIOD_MS = 1000;

export class SnapshotView {
  private readonly img: HTMLImageElement;
  private readonly note: HTMLElement;
  private timer: number | undefined;
  private abort: AbortController | undefined;
  private url: string | undefined;
  private stopped = false;
  private loads = 0;
  private readonly onVisibility = () => {
    if (!document.hidden && this.timer === undefined && !this.abort) this.next();
  };

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly src: string,
    note: string,
    private readonly status: (text: string) => void,
  ) {
    this.img = h('img', { class: 'snapshot', alt: note });
    this.note = h('span', { class: 'fallback-note', role: 'note' }, note);
    // `hidden` would lose to the tile's own display rule.
    video.style.display = 'none';
    video.after(this.img, this.note);
    document.addEventListener('visibilitychange', this.onVisibility);
    this.next();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.abort?.abort();
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.img.remove();
    this.note.remove();
    this.video.style.display = '';
    if (this.url) URL.revokeObjectURL(this.url);
  }

  private next(): void {
    this.timer = undefined;
    if (this.stopped || document.hidden) return; // visibilitychange starts it again
    const started = performance.now();
    const abort = new AbortController();
    this.abort = abort;
    void this.fetchOne(abort.signal).then((again) => {
      if (this.abort !== abort) return;
      this.abort = undefined;
      // About once a second from the start of each request, never two at once.
      if (again && !this.stopped) this.timer = window.setTimeout(() => this.next(), Math.max(100, PERIOD_MS - (performance.now() - started)));
    });
  }

  /** Shows the next picture; false when asking again cannot help (logged out, the right or the channel gone). */
  private async fetchOne(signal: AbortSignal): Promise<boolean> {
    try {
      const r = await fetch(this.src, { credentials: 'same-origin', cache: 'no-store', signal });
      if (!r.ok) {
        const json = (await r.json().catch(() => null)) as { error?: { message?: string } } | null;
        this.status(json?.error?.message ?? `no picture: HTTP ${r.status}`);
        return ![401, 403, 404].includes(r.status);
      }
      const url = URL.createObjectURL(await r.blob());
      this.img.src = url;
      // The previous picture stays on screen until this one is decoded.
      const decoded = await this.img.decode().then(() => true, () => false);
      if (this.url) URL.revokeObjectURL(this.url);
      this.url = url;
      if (this.stopped) return false;
      if (!decoded) {
        this.status('no picture: the box sent an image the browser cannot show');
        return true;
      }
      this.img.dataset.loads = String(++this.loads);
      this.status(`snapshot ${this.img.naturalWidth}×${this.img.naturalHeight}, ${new Date().toLocaleTimeString()}`);
    } catch (e) {
      if (!signal.aborted) this.status(`no picture: ${(e as Error).message}`);
    }
    return true;
  }
}
