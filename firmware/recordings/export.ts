/**
 * Exports a time range of a channel from the store: a progressive MP4 (moov
 * first) or a fragmented MP4 file, and fMP4 as a stream of segments for
 * playback in a browser. The store is codec-agnostic; this module pairs its
 * cursor with the muxers of `media/mp4`.
 *
 * - Starts at the keyframe at or before `from` (the store's cursor finds it),
 *   so the first picture decodes; frames before the first keyframe are dropped.
 * - Video is the `main` stream; the channel's `audio` stream rides along when
 *   the store holds some in the range. Audio before the first video frame is
 *   dropped, so both tracks start together.
 * - Gaps: timestamps jump. Sample times are the wall-clock capture times, so
 *   the frame before a gap lasts until the frame after it (a frozen picture,
 *   silence for audio) and a position in the file is always "from + offset"
 *   in real time. No edit list: players (ffmpeg, VLC, browsers) all honour
 *   sample durations, while multi-entry edit lists are widely ignored.
 * - Memory: frames are streamed from the cursor (≤ 2 MiB chunks). The
 *   progressive muxer reads the range twice (sample table, then data); the
 *   first pass pins where each track ends, so frames arriving meanwhile or a
 *   block overwritten between the passes cannot change the file unnoticed.
 * - A stream description change (camera resolution changed) ends the export
 *   there; the summary says where (`cutAt`).
 */
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { MediaFormatError } from '../media/errors.js';
import { exportMp4 } from '../media/mp4/export.js';
import { Fmp4Muxer } from '../media/mp4/fragment.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import type { Span } from '../storage/reader.js';
import type { RingStore } from '../storage/ring-store.js';
import { fileWritable, writeAtomically, writeFully } from './atomic-file.js';
import { isoTime } from './times.js';

/** Something the user asked that the recording cannot give (nothing recorded, bad range): a message for them. */
export class RecordingError extends Error {
  override readonly name = 'RecordingError';
}

export interface RangeRequest {
  channel: string;
  /** µs since the epoch. */
  fromUs: number;
  /** µs, inclusive; for a stream, default: up to the newest recorded frame. */
  toUs?: number;
  /** Include the channel's audio stream when recorded (default true). */
  audio?: boolean;
}

export interface ExportRequest extends RangeRequest {
  toUs: number;
  /** Absolute path of the file to create (must not exist). */
  file: string;
  fragmented?: boolean;
}

export interface TrackSummary {
  codec: string;
  frames: number;
  /** µs of the first and last frame. */
  first: number;
  last: number;
  width?: number;
  height?: number;
  sampleRate?: number;
}

export interface ExportSummary {
  file: string;
  format: 'mp4' | 'fmp4';
  bytes: number;
  video: TrackSummary;
  audio: TrackSummary | null;
  /** Gaps between the first and last video frame, carried in the file as timestamp jumps. */
  gaps: Span[];
  /** Set when the stream description changed at this time (µs) and the export stopped there. */
  cutAt: number | null;
}

function sameInfo(a: StreamInfo, b: StreamInfo): boolean {
  if (a === b) return true;
  if (a.codec !== b.codec || a.width !== b.width || a.height !== b.height || a.sampleRate !== b.sampleRate || a.channels !== b.channels) return false;
  return a.config.length === b.config.length && a.config.every((v, i) => v === b.config[i]);
}

/**
 * One stream of the store over a range, re-readable: the first read pins
 * the last frame, so later reads stop at exactly the same place.
 */
class StoreTrack {
  frames = 0;
  first: number | undefined;
  last: number | undefined;
  cutAt: number | null = null;
  private reads = 0;

  constructor(
    private readonly store: RingStore,
    readonly channel: string,
    readonly stream: StreamKind,
    readonly info: StreamInfo,
    /** Where the cursor starts (a keyframe time for video). */
    private readonly from: number,
    private readonly to: number | undefined,
    /** Frames before this are dropped (audio before the video starts). */
    private readonly notBefore: number,
  ) {}

  async *read(): AsyncGenerator<Frame> {
    const pinned = this.reads++ > 0;
    if (pinned && this.last === undefined) return;
    const to = pinned ? this.last : this.to;
    const video = this.stream !== 'audio';
    let started = false;
    for await (const chunk of this.store.cursor({ channel: this.channel, stream: this.stream, from: this.from, ...(to !== undefined ? { to } : {}) })) {
      if (!sameInfo(chunk.info, this.info)) {
        if (!pinned) this.cutAt = chunk.frames[0]?.time ?? null;
        return;
      }
      for (const f of chunk.frames) {
        if (to !== undefined && f.time > to) return;
        if (!started) {
          if (f.time < this.notBefore || (video && !f.keyframe)) continue;
          started = true;
        }
        if (!pinned) {
          this.first ??= f.time;
          this.last = f.time;
          this.frames++;
        }
        yield f;
      }
    }
  }

  summary(): TrackSummary {
    return {
      codec: this.info.codec,
      frames: this.frames,
      first: this.first ?? 0,
      last: this.last ?? 0,
      ...(this.info.width !== undefined ? { width: this.info.width } : {}),
      ...(this.info.height !== undefined ? { height: this.info.height } : {}),
      ...(this.info.sampleRate !== undefined ? { sampleRate: this.info.sampleRate } : {}),
    };
  }
}

/** The stream description and time of the first usable frame (a keyframe for video) at or after the cursor start. */
async function probe(store: RingStore, channel: string, stream: StreamKind, from: number, to: number | undefined, notBefore: number): Promise<{ info: StreamInfo; time: number } | null> {
  for await (const chunk of store.cursor({ channel, stream, from, ...(to !== undefined ? { to } : {}) })) {
    for (const f of chunk.frames) {
      if (to !== undefined && f.time > to) return null;
      if (f.time >= notBefore && (stream === 'audio' || f.keyframe)) return { info: chunk.info, time: f.time };
    }
  }
  return null;
}

interface Plan {
  video: StoreTrack;
  audio: StoreTrack | null;
}

async function plan(store: RingStore, req: RangeRequest): Promise<Plan> {
  const { channel, fromUs, toUs } = req;
  if (!Number.isFinite(fromUs) || (toUs !== undefined && !(toUs > fromUs))) throw new RecordingError('the start of the range must be before its end');
  const span = `between ${isoTime(fromUs)} and ${toUs !== undefined ? isoTime(toUs) : 'now'}`;
  const timeline = store.timeline(channel, 'main', fromUs, toUs ?? Number.MAX_SAFE_INTEGER);
  if (timeline.segments.length === 0) throw new RecordingError(`no recording of channel "${channel}" ${span}`);
  // The cursor starts at the keyframe at or before `from`; the first keyframe it yields is where the file starts.
  const v = await probe(store, channel, 'main', fromUs, toUs, -Infinity);
  if (!v) throw new RecordingError(`the recording of channel "${channel}" ${span} has no keyframe to start from`);
  const video = new StoreTrack(store, channel, 'main', v.info, v.time, toUs, v.time);
  let audio: StoreTrack | null = null;
  const hasAudio = store.streams().some((s) => s.channel === channel && s.stream === 'audio');
  if ((req.audio ?? true) && hasAudio) {
    const a = await probe(store, channel, 'audio', v.time, toUs, v.time);
    if (a) audio = new StoreTrack(store, channel, 'audio', a.info, v.time, toUs, v.time);
  }
  return { video, audio };
}

function summarize(store: RingStore, p: Plan, file: string, format: 'mp4' | 'fmp4', bytes: number): ExportSummary {
  const v = p.video.summary();
  const gaps = v.last > v.first ? store.timeline(p.video.channel, 'main', v.first, v.last).gaps : [];
  return { file, format, bytes, video: v, audio: p.audio?.summary() ?? null, gaps, cutAt: p.video.cutAt };
}

/** Media errors from the muxers, said in terms of the recording. */
function explain(e: unknown, channel: string): unknown {
  if (!(e instanceof MediaFormatError)) return e;
  if (/changed between the two export passes/.test(e.message)) {
    return new RecordingError(`the recording of channel "${channel}" changed while it was being exported (overwritten by newer recording?): try again or a later range`);
  }
  return new RecordingError(`the recording of channel "${channel}" cannot be exported: ${e.message}`);
}

/** Frames of all tracks merged in time order (video first on a tie), as [track index, frame]. */
async function* merged(tracks: StoreTrack[]): AsyncGenerator<[number, Frame]> {
  const its = tracks.map((t) => t.read());
  const heads = await Promise.all(its.map((it) => it.next()));
  try {
    for (;;) {
      let k = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]!;
        if (!h.done && (k < 0 || h.value.time < (heads[k]!.value as Frame).time)) k = i;
      }
      if (k < 0) return;
      yield [k, heads[k]!.value as Frame];
      heads[k] = await its[k]!.next();
    }
  } finally {
    await Promise.all(its.map((it) => it.return(undefined)));
  }
}

async function* segmentsOf(p: Plan): AsyncGenerator<Uint8Array> {
  const tracks = p.audio ? [p.video, p.audio] : [p.video];
  const muxer = new Fmp4Muxer(tracks.map((t) => t.info));
  yield muxer.init;
  for await (const [k, f] of merged(tracks)) for (const seg of muxer.push(k, f)) yield seg.data;
  for (const seg of muxer.flush()) yield seg.data;
}

/**
 * Init segment, then media segments (one per GOP), of a channel from the
 * keyframe at or before `fromUs`: for a browser's MediaSource. Without
 * `toUs` it ends at the newest frame recorded when the cursor gets there.
 */
export async function* fmp4Stream(store: RingStore, req: RangeRequest): AsyncGenerator<Uint8Array> {
  const p = await plan(store, req);
  try {
    yield* segmentsOf(p);
  } catch (e) {
    throw explain(e, req.channel);
  }
}

/**
 * The range as a progressive MP4 (moov first) into `out`, for a download.
 * Bad input is found in the first pass, before `out` gets a byte, so a
 * caller can still answer with an error; `out` is ended when complete.
 */
export async function exportToStream(store: RingStore, req: RangeRequest & { toUs: number }, out: Writable): Promise<{ bytes: number }> {
  const p = await plan(store, req);
  const tracks = [p.video, ...(p.audio ? [p.audio] : [])].map((t) => ({ info: t.info, frames: () => t.read() }));
  try {
    const res = await exportMp4(out, tracks, { end: true });
    return { bytes: res.bytes };
  } catch (e) {
    throw explain(e, req.channel);
  }
}

/** Writes the range to `req.file` (progressive MP4, or fragmented with `fragmented`); nothing is left at that path on failure. */
export async function exportRecording(store: RingStore, req: ExportRequest): Promise<ExportSummary> {
  const p = await plan(store, req);
  try {
    if (req.fragmented) {
      const bytes = await writeAtomically(req.file, async (fh: FileHandle) => {
        let n = 0;
        for await (const data of segmentsOf(p)) {
          await writeFully(fh, data);
          n += data.length;
        }
        return n;
      });
      return summarize(store, p, req.file, 'fmp4', bytes);
    }
    const tracks = [p.video, ...(p.audio ? [p.audio] : [])].map((t) => ({ info: t.info, frames: () => t.read() }));
    const res = await writeAtomically(req.file, (fh) => exportMp4(fileWritable(fh), tracks, { end: true }));
    return summarize(store, p, req.file, 'mp4', res.bytes);
  } catch (e) {
    throw explain(fileError(e, req.file), req.channel);
  }
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'its directory does not exist',
  ENOTDIR: 'a part of its path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EISDIR: 'it is a directory',
  EIO: 'an I/O error',
};

/** File-system errors of the output, said plainly (the partial file is already gone). */
function fileError(e: unknown, file: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && FILE_ERRORS[code]) return new RecordingError(`cannot write ${file}: ${FILE_ERRORS[code]} (${code}); nothing was left there`);
  if (e instanceof Error && e.name === 'TargetExistsError') return new RecordingError(e.message);
  return e;
}
