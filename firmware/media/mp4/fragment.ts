/**
 * Fragmented MP4 for browsers (Media Source Extensions) and live streaming:
 * an init segment (ftyp + moov with mvex/trex, no samples) and media
 * segments (moof + mdat), one per GOP by default.
 *
 * Push frames as they arrive; segments come back when complete. A sample's
 * duration is the delta to the next frame of its track, so each track holds
 * back its newest frame until the next arrives (flush() gives the last one
 * the previous delta). Nothing is emitted before the first video keyframe
 * (a segment must start with one); earlier frames are dropped. Decode times
 * count from that keyframe's wall-clock time on every track, so tfdt of each
 * segment continues exactly where the previous one ended and audio stays in
 * sync. tfhd uses default-base-is-moof, as MSE requires.
 */
import { check } from '../errors.js';
import type { Frame, StreamInfo } from '../types.js';
import { box, Fields, fullBox, mdatHeader } from './box.js';
import { toTimescale, validateFrame } from './frames.js';
import { ftyp, mvex, mvhd, trak } from './moov.js';
import { trackFormat, type TrackFormat } from './sample-entry.js';

export interface FragmentOptions {
  /** Also cut every N ms of the leading track, not only at keyframes (audio-only: every N ms, default 1000). */
  fragmentMs?: number;
  /** In per-GOP mode, cut anyway after this long without a keyframe, bounding memory (default 10000). */
  maxFragmentMs?: number;
}

export interface MediaSegment {
  /** moof + mdat. */
  data: Uint8Array;
  /** mfhd sequence number, from 1. */
  sequence: number;
  /** Wall-clock time of the segment's first sample, µs since the epoch. */
  startTime: number;
  /** Whether it starts with a video keyframe (a viewer can join here). */
  keyframe: boolean;
}

const KEY_FLAGS = 0x02000000; // sample_depends_on = 2 (independent), sync
const NON_KEY_FLAGS = 0x01010000; // depends on others, non-sync

interface Pending {
  frame: Frame;
  dts: number;
}

class TrackQueue {
  queue: Pending[] = [];
  lastTime: number | undefined;
  count = 0;
  /** Duration of the last sample emitted, for the final frame at flush. */
  lastDuration = 0;
  constructor(
    readonly id: number,
    readonly format: TrackFormat,
    readonly what: string,
  ) {}
}

export class Fmp4Muxer {
  /** ftyp + moov: append first to a SourceBuffer, or write first to a file. */
  readonly init: Uint8Array;
  private readonly tracks: TrackQueue[];
  /** Index of the track whose keyframes/time cut fragments: the first video track, else track 0. */
  private readonly leader: number;
  private origin: number | undefined;
  private fragmentStart = 0;
  private sequence = 0;

  constructor(
    infos: readonly StreamInfo[],
    private readonly opts: FragmentOptions = {},
  ) {
    check(infos.length > 0, 'fMP4 needs at least one track');
    check(opts.fragmentMs === undefined || opts.fragmentMs > 0, `fragmentMs ${opts.fragmentMs} must be positive`);
    this.tracks = infos.map((info, i) => new TrackQueue(i + 1, trackFormat(info), `track ${i} (${info.codec})`));
    const video = this.tracks.findIndex((t) => t.format.kind === 'video');
    this.leader = video >= 0 ? video : 0;
    const moov = box('moov', mvhd(0, 0, this.tracks.length + 1), ...this.tracks.map((t) => trak({ id: t.id, format: t.format, duration: 0, delay: 0, movieDuration: 0, table: null }, 0)), mvex(this.tracks));
    this.init = concat2(ftyp('isom', ['isom', 'iso5', 'iso6', 'mp41']), moov);
  }

  /**
   * Adds a frame of track `index`; returns the segments it completed (often
   * none). Throws MediaFormatError for a bad frame and leaves the muxer as it
   * was, so a live caller can drop that frame and go on.
   */
  push(index: number, frame: Frame): MediaSegment[] {
    const t = this.tracks[index];
    check(t !== undefined, `no track ${index}`);
    // A leading non-keyframe is no error here: it is dropped below.
    validateFrame(frame, t.lastTime, t.count, t.format, t.what, false);
    if (this.origin === undefined) {
      const starts = index === this.leader && (frame.keyframe || t.format.kind === 'audio');
      if (!starts) return []; // before the first keyframe: nothing can be shown
      this.origin = frame.time;
      this.fragmentStart = frame.time;
    }
    if (frame.time < this.origin) return []; // audio from before the first keyframe
    const out: MediaSegment[] = [];
    if (index === this.leader && t.queue.length > 0 && this.shouldCut(frame)) {
      const seg = this.cut(frame.time);
      if (seg) out.push(seg);
    }
    t.lastTime = frame.time;
    t.count++;
    t.queue.push({ frame, dts: toTimescale(frame.time - this.origin, t.format.timescale) });
    return out;
  }

  /** Emits everything still held (end of stream); the last frames repeat their track's previous duration. */
  flush(): MediaSegment[] {
    const seg = this.cut(Infinity);
    return seg ? [seg] : [];
  }

  private shouldCut(f: Frame): boolean {
    const elapsedMs = (f.time - this.fragmentStart) / 1000;
    if (this.tracks[this.leader]!.format.kind === 'audio') return elapsedMs >= (this.opts.fragmentMs ?? 1000);
    // Keyframes always open a segment, so a viewer can join at every GOP.
    return f.keyframe || elapsedMs >= (this.opts.fragmentMs ?? this.opts.maxFragmentMs ?? 10_000);
  }

  /** Builds a segment from every sample before `cutTime` whose duration is known (all of them when flushing). */
  private cut(cutTime: number): MediaSegment | undefined {
    const flushing = cutTime === Infinity;
    const picked = this.tracks.map((t) => {
      let n = 0;
      while (n < t.queue.length && t.queue[n]!.frame.time < cutTime && (flushing || n + 1 < t.queue.length || t === this.tracks[this.leader])) n++;
      const samples = t.queue.slice(0, n);
      const durations: number[] = [];
      for (let i = 0; i < n; i++) {
        const next = t.queue[i + 1];
        durations.push(next ? next.dts - samples[i]!.dts : i > 0 ? durations[i - 1]! : t.lastDuration);
      }
      // The leader's newest sample is followed by the frame that triggered the cut.
      if (!flushing && t === this.tracks[this.leader] && n === t.queue.length && n > 0) {
        durations[n - 1] = toTimescale(cutTime - this.origin!, t.format.timescale) - samples[n - 1]!.dts;
      }
      if (flushing && n === 1 && durations[0] === 0) durations[0] = t.format.kind === 'video' ? t.format.timescale / 25 : 1024;
      if (n > 0) t.lastDuration = durations[n - 1]!;
      return { t, samples, durations, n };
    });
    const used = picked.filter((p) => p.n > 0);
    const lead = picked[this.leader]!;
    if (used.length === 0) return undefined;
    for (const p of used) p.t.queue.splice(0, p.n);

    const sequence = ++this.sequence;
    const build = (moofSize: number): Uint8Array => {
      let dataOffset = moofSize + 8;
      const trafs = used.map((p) => {
        const video = p.t.format.kind === 'video';
        const f = new Fields().u32(p.n).i32(dataOffset);
        p.samples.forEach((s, i) => {
          f.u32(p.durations[i]!).u32(s.frame.data.length);
          if (video) f.u32(s.frame.keyframe ? KEY_FLAGS : NON_KEY_FLAGS);
          dataOffset += s.frame.data.length;
        });
        return box(
          'traf',
          fullBox('tfhd', 0, 0x020000, new Fields().u32(p.t.id)), // default-base-is-moof
          fullBox('tfdt', 1, 0, new Fields().u64(p.samples[0]!.dts)),
          fullBox('trun', 0, 0x000001 | 0x000100 | 0x000200 | (video ? 0x000400 : 0), f),
        );
      });
      return box('moof', fullBox('mfhd', 0, 0, new Fields().u32(sequence)), ...trafs);
    };
    const moof = build(build(0).length);
    let payload = 0;
    for (const p of used) for (const s of p.samples) payload += s.frame.data.length;
    const header = mdatHeader(payload);
    const data = new Uint8Array(moof.length + header.length + payload);
    data.set(moof);
    data.set(header, moof.length);
    let o = moof.length + header.length;
    for (const p of used) for (const s of p.samples) (data.set(s.frame.data, o), (o += s.frame.data.length));

    // The leading track's first sample: where a player seeking to this segment lands.
    const startTime = lead.n > 0 ? lead.samples[0]!.frame.time : Math.min(...used.map((p) => p.samples[0]!.frame.time));
    this.fragmentStart = flushing ? this.fragmentStart : cutTime;
    return { data, sequence, startTime, keyframe: lead.n > 0 && lead.samples[0]!.frame.keyframe && lead.t.format.kind === 'video' };
  }
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
