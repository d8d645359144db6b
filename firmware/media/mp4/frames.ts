/**
 * Frame sources for the exporter and the per-track bookkeeping both muxers
 * share: validation of each frame and decode times from wall-clock times.
 */
import { check } from '../errors.js';
import { splitLengthPrefixed } from '../nal.js';
import type { Frame } from '../types.js';
import type { TrackFormat } from './sample-entry.js';

/**
 * Frames of one track in time order. The progressive exporter reads them
 * twice (sample table, then data), so this must be re-iterable: an array, or
 * a function returning a fresh iterable each call (e.g. a reader over the
 * recording on disk). A bare generator is refused.
 */
export type FrameSource = Iterable<Frame> | AsyncIterable<Frame> | (() => Iterable<Frame> | AsyncIterable<Frame>);

type AnyIterator = Iterator<Frame> | AsyncIterator<Frame>;

export function openSource(src: FrameSource, what: string): AnyIterator {
  const it = typeof src === 'function' ? src() : src;
  if (Symbol.asyncIterator in it) {
    const i = it[Symbol.asyncIterator]();
    check(typeof src === 'function' || (i as unknown) !== it, `${what}: frames must be re-iterable (an array, or a function returning an iterable): the exporter reads them twice`);
    return i;
  }
  const i = it[Symbol.iterator]();
  check(typeof src === 'function' || (i as unknown) !== it, `${what}: frames must be re-iterable (an array, or a function returning an iterable): the exporter reads them twice`);
  return i;
}

/** One-frame lookahead over a sync or async iterator, awaiting only when the source is async. */
export class Lookahead {
  head: Frame | undefined;
  private done = false;
  constructor(private readonly it: AnyIterator) {}

  /** The next frame without consuming it; a Promise only when the source is async (keeps sync sources off the microtask queue). */
  fill(): Frame | undefined | Promise<Frame | undefined> {
    if (this.head || this.done) return this.head;
    const r = this.it.next();
    if (r instanceof Promise) return r.then((res: IteratorResult<Frame>) => this.settle(res));
    return this.settle(r as IteratorResult<Frame>);
  }

  private settle(res: IteratorResult<Frame>): Frame | undefined {
    if (res.done) this.done = true;
    else this.head = res.value;
    return this.head;
  }

  take(): Frame {
    const f = this.head!;
    this.head = undefined;
    return f;
  }
}

/** Checks a frame against the track's contract, naming it by index in errors. */
export function validateFrame(f: Frame, prevTime: number | undefined, index: number, format: TrackFormat, what: string, keyFirst = true): void {
  const at = `${what} frame ${index}`;
  check(typeof f === 'object' && f !== null && f.data instanceof Uint8Array, `${at} is not a Frame`);
  check(Number.isFinite(f.time), `${at} has no valid time (${String(f.time)})`);
  check(prevTime === undefined || f.time >= prevTime, `${at}: time goes backwards (${f.time} after ${prevTime} µs)`);
  check(f.data.length > 0, `${at} is empty (zero-length data)`);
  if (format.kind === 'video') {
    check(index > 0 || f.keyframe || !keyFirst, `${at}: a video track must start with a keyframe`);
    try {
      splitLengthPrefixed(f.data);
    } catch (e) {
      check(false, `${at} is not length-prefixed NAL units: ${(e as Error).message}`);
    }
  }
}

/** Decode time in the track timescale of a frame `us` microseconds after the track's origin. */
export function toTimescale(us: number, timescale: number): number {
  return Math.round((us * timescale) / 1e6);
}

/** A duration for a lone frame, which has no neighbour to measure against. */
export function loneDuration(format: TrackFormat, codec: string, size: number): number {
  if (format.kind === 'video') return format.timescale / 25;
  if (codec === 'aac') return 1024;
  return Math.max(1, Math.floor(size / format.channels)); // G.711: a byte per sample per channel
}
