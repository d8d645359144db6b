/**
 * The movie header boxes shared by the progressive and fragmented muxers:
 * ftyp, mvhd, trak (tkhd, edts, mdia with stbl) and mvex. The progressive
 * muxer passes full sample tables; the fragmented one passes none (empty
 * tables, samples come in moof boxes).
 */
import { box, Fields, fullBox } from './box.js';
import type { TrackFormat } from './sample-entry.js';

export const MOVIE_TIMESCALE = 1000;
/** Seconds from 1904-01-01 (MP4's epoch) to 1970-01-01. */
const MP4_EPOCH_OFFSET = 2082844800;
const MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];

export interface SampleTable {
  count: number;
  /** Per sample, media timescale. */
  durations: ArrayLike<number>;
  sizes: ArrayLike<number>;
  /** 1-based numbers of sync samples; null when every sample is one (audio). */
  syncSamples: ArrayLike<number> | null;
  /** Absolute file offset of each chunk. */
  chunkOffsets: ArrayLike<number>;
  /** Samples in each chunk. */
  chunkSamples: ArrayLike<number>;
  /** Write co64 even when every offset fits 32 bits (tests, or a caller that knows the file will grow). */
  co64?: boolean;
}

export interface TrackBoxInput {
  id: number;
  format: TrackFormat;
  /** Media timescale. */
  duration: number;
  /** Movie timescale: track delay behind the movie start (an empty edit), and its length. */
  delay: number;
  movieDuration: number;
  table: SampleTable | null;
}

export function ftyp(major: string, compatible: string[]): Uint8Array {
  return box('ftyp', new Fields().ascii(major).u32(0x200).ascii(compatible.join('')));
}

/** Seconds since 1904 from microseconds since 1970 (0 when unknown). */
export function mp4Time(unixMicros: number | undefined): number {
  return unixMicros === undefined ? 0 : Math.max(0, Math.floor(unixMicros / 1e6) + MP4_EPOCH_OFFSET);
}

const needs64 = (...v: number[]): boolean => v.some((x) => x > 0xffffffff);

function times(f: Fields, v1: boolean, created: number, timescale: number | null, duration: number): Fields {
  if (v1) {
    f.u64(created).u64(created);
    if (timescale !== null) f.u32(timescale);
    return f.u64(duration);
  }
  f.u32(created).u32(created);
  if (timescale !== null) f.u32(timescale);
  return f.u32(duration);
}

export function mvhd(created: number, duration: number, nextTrackId: number): Uint8Array {
  const v1 = needs64(created, duration);
  const f = times(new Fields(), v1, created, MOVIE_TIMESCALE, duration);
  f.u32(0x00010000).u16(0x0100).zeros(10); // rate 1.0, volume 1.0, reserved
  for (const m of MATRIX) f.u32(m);
  return fullBox('mvhd', v1 ? 1 : 0, 0, f.zeros(24).u32(nextTrackId));
}

export function trak(t: TrackBoxInput, created: number): Uint8Array {
  const fmt = t.format;
  const span = t.delay + t.movieDuration; // tkhd counts the edits: the empty one too
  const v1 = needs64(created, span);
  const tk = new Fields();
  if (v1) tk.u64(created).u64(created).u32(t.id).u32(0).u64(span);
  else tk.u32(created).u32(created).u32(t.id).u32(0).u32(span);
  tk.zeros(8).u16(0).u16(0).u16(fmt.kind === 'audio' ? 0x0100 : 0).u16(0); // layer, alternate_group, volume
  for (const m of MATRIX) tk.u32(m);
  tk.u32(fmt.width * 65536).u32(fmt.height * 65536);
  const parts = [fullBox('tkhd', v1 ? 1 : 0, 3, tk)]; // enabled, in movie
  if (t.delay > 0) parts.push(edts(t.delay, t.movieDuration));
  parts.push(mdia(t, created));
  return box('trak', ...parts);
}

/** An empty edit of `delay` then the whole media: how a track that starts late keeps A/V sync. */
function edts(delay: number, movieDuration: number): Uint8Array {
  const v1 = needs64(delay, movieDuration);
  const f = new Fields().u32(2);
  for (const [dur, mediaTime] of [[delay, -1], [movieDuration, 0]] as const) {
    if (v1) f.u64(dur).u32(mediaTime === -1 ? 0xffffffff : 0).i32(mediaTime);
    else f.u32(dur).i32(mediaTime);
    f.u16(1).u16(0); // media_rate 1.0
  }
  return box('edts', fullBox('elst', v1 ? 1 : 0, 0, f));
}

function mdia(t: TrackBoxInput, created: number): Uint8Array {
  const v1 = needs64(created, t.duration);
  const mdhd = fullBox('mdhd', v1 ? 1 : 0, 0, times(new Fields(), v1, created, t.format.timescale, t.duration).u16(0x55c4).u16(0)); // 'und'
  const video = t.format.kind === 'video';
  const hdlr = fullBox('hdlr', 0, 0, new Fields().u32(0).ascii(video ? 'vide' : 'soun').zeros(12).ascii(video ? 'VideoHandler\0' : 'SoundHandler\0'));
  const mediaHeader = video ? fullBox('vmhd', 0, 1, new Fields().zeros(8)) : fullBox('smhd', 0, 0, new Fields().zeros(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, new Fields().u32(1), fullBox('url ', 0, 1)));
  return box('mdia', mdhd, hdlr, box('minf', mediaHeader, dinf, stbl(t)));
}

function stbl(t: TrackBoxInput): Uint8Array {
  const stsd = fullBox('stsd', 0, 0, new Fields().u32(1), t.format.sampleEntry);
  const s = t.table;
  if (!s) {
    const empty = new Fields().u32(0);
    return box('stbl', stsd, fullBox('stts', 0, 0, empty), fullBox('stsc', 0, 0, empty), fullBox('stsz', 0, 0, new Fields().u32(0).u32(0)), fullBox('stco', 0, 0, empty));
  }
  const parts = [stsd, stts(s.durations, s.count)];
  if (s.syncSamples && s.syncSamples.length < s.count) {
    const f = new Fields().u32(s.syncSamples.length);
    for (let i = 0; i < s.syncSamples.length; i++) f.u32(s.syncSamples[i]!);
    parts.push(fullBox('stss', 0, 0, f));
  }
  parts.push(stsc(s.chunkSamples), stsz(s.sizes, s.count), chunkOffsets(s.chunkOffsets, s.co64 ?? false));
  return box('stbl', ...parts);
}

/** Run-length (count, delta) pairs. */
function stts(durations: ArrayLike<number>, count: number): Uint8Array {
  const runs = new Fields();
  let entries = 0;
  for (let i = 0; i < count; ) {
    let j = i + 1;
    while (j < count && durations[j] === durations[i]) j++;
    runs.u32(j - i).u32(durations[i]!);
    entries++;
    i = j;
  }
  return fullBox('stts', 0, 0, new Fields().u32(entries), runs);
}

/** (first_chunk, samples_per_chunk, description 1), one entry per change. */
function stsc(chunkSamples: ArrayLike<number>): Uint8Array {
  const runs = new Fields();
  let entries = 0;
  for (let c = 0; c < chunkSamples.length; c++) {
    if (c > 0 && chunkSamples[c] === chunkSamples[c - 1]) continue;
    runs.u32(c + 1).u32(chunkSamples[c]!).u32(1);
    entries++;
  }
  return fullBox('stsc', 0, 0, new Fields().u32(entries), runs);
}

function stsz(sizes: ArrayLike<number>, count: number): Uint8Array {
  let constant = count > 0;
  for (let i = 1; i < count && constant; i++) constant = sizes[i] === sizes[0];
  if (constant) return fullBox('stsz', 0, 0, new Fields().u32(sizes[0]!).u32(count));
  const f = new Fields().u32(0).u32(count);
  for (let i = 0; i < count; i++) f.u32(sizes[i]!);
  return fullBox('stsz', 0, 0, f);
}

/** stco while every offset fits 32 bits, co64 past 4 GiB. */
function chunkOffsets(offsets: ArrayLike<number>, force64: boolean): Uint8Array {
  let max = 0;
  for (let i = 0; i < offsets.length; i++) max = Math.max(max, offsets[i]!);
  const wide = force64 || max > 0xffffffff;
  const f = new Fields().u32(offsets.length);
  for (let i = 0; i < offsets.length; i++) (wide ? f.u64(offsets[i]!) : f.u32(offsets[i]!));
  return fullBox(wide ? 'co64' : 'stco', 0, 0, f);
}

/** mvex with one trex per track: defaults the fragments override per sample anyway. */
export function mvex(tracks: { id: number; format: TrackFormat }[]): Uint8Array {
  return box(
    'mvex',
    ...tracks.map((t) => fullBox('trex', 0, 0, new Fields().u32(t.id).u32(1).u32(0).u32(0).u32(t.format.kind === 'video' ? 0x01010000 : 0x02000000))),
  );
}
