/**
 * Playback of a recording at 1x to 32x: the store's cursor (which starts at
 * the keyframe at or before the asked time and crosses blocks and disks),
 * paced by the frames' own timestamps on an injectable clock. Above 4x only
 * keyframes are sent, as the commercial recorders do: a decoder could not
 * show every frame at 8x, and the link would carry eight times the bitrate.
 * A gap in the recording is jumped over, never waited through.
 */
import type { Clock } from '../core/clock.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import type { CursorChunk, CursorOptions, Span } from '../storage/reader.js';
import { RecordingError } from './export.js';
import { MAX_TIME_US } from './times.js';

export const PLAYBACK_SPEEDS = [1, 2, 4, 8, 16, 32] as const;
export type PlaybackSpeed = (typeof PLAYBACK_SPEEDS)[number];
/** Above this speed, keyframes only. */
export const ALL_FRAMES_UP_TO = 4;

export interface PlaybackStore {
  cursor(opts: CursorOptions): AsyncGenerator<CursorChunk>;
  timeline(channel: string, stream: StreamKind, fromUs: number, toUs: number): { gaps: Span[] };
}

export interface PlaybackRequest {
  channel: string;
  stream?: StreamKind;
  /** µs since the epoch. */
  fromUs: number;
  /** µs, inclusive; default: up to the newest recorded frame. */
  toUs?: number;
  speed: number;
  clock: Clock;
  /** Stops the playback (the viewer left); the generator then returns. */
  signal?: AbortSignal;
}

export interface PlaybackFrame {
  info: StreamInfo;
  frame: Frame;
}

function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clock.clearTimeout(timer);
      done();
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/** Frames of one stream from `fromUs`, each yielded when it is due at `speed`. */
export async function* playback(store: PlaybackStore, req: PlaybackRequest): AsyncGenerator<PlaybackFrame> {
  if (!(PLAYBACK_SPEEDS as readonly number[]).includes(req.speed)) throw new RecordingError(`speed: one of ${PLAYBACK_SPEEDS.join(', ')} (times real time), not ${req.speed}`);
  const stream = req.stream ?? 'main';
  // Gaps after the newest frame do not matter: no frame comes after them.
  const to = req.toUs ?? MAX_TIME_US - 1;
  const gaps = to > req.fromUs ? store.timeline(req.channel, stream, req.fromUs, to).gaps : [];
  const { clock, speed, signal } = req;
  let anchor: { media: number; wall: number } | undefined;
  let prev: number | undefined;
  const cursor = store.cursor({ channel: req.channel, stream, from: req.fromUs, ...(req.toUs !== undefined ? { to: req.toUs } : {}), keyframesOnly: speed > ALL_FRAMES_UP_TO });
  try {
    for await (const chunk of cursor) {
      for (const frame of chunk.frames) {
        if (signal?.aborted) return;
        // The lead-in from the keyframe before the asked time is for the decoder, not to be watched: sent at once.
        if (frame.time < req.fromUs) {
          prev = frame.time;
          yield { info: chunk.info, frame };
          continue;
        }
        // After a gap the clock starts again at the next recorded frame.
        const afterGap = prev !== undefined && gaps.some((g) => g.start >= prev! && g.end <= frame.time);
        if (anchor === undefined || afterGap) anchor = { media: frame.time, wall: clock.monotonic() };
        const waitMs = (frame.time - anchor.media) / 1000 / speed - (clock.monotonic() - anchor.wall);
        if (waitMs > 0) await sleep(clock, waitMs, signal);
        if (signal?.aborted) return;
        prev = frame.time;
        yield { info: chunk.info, frame };
      }
    }
  } finally {
    await cursor.return(undefined);
  }
}
