/**
 * Progressive MP4 export with moov before mdat ("faststart": plays while it
 * downloads, seekable at once in browsers and players).
 *
 * Faststart needs every sample size before the first mdat byte, so sources
 * are read twice: pass 1 builds the sample table (≈16 bytes a sample: an
 * hour of 25 fps video with AAC is ≈4 MB), pass 2 streams the frame data
 * through a 1 MiB block. Memory stays bounded whatever the export length, and
 * the output may be a non-seekable stream (an HTTP response).
 *
 * Layout: ftyp, moov, mdat. Samples are interleaved in chunks of `chunkMs`
 * of wall-clock time (all tracks' samples of a window, track by track), so a
 * player streaming the file reads audio and video together. Decode times come
 * from frame times (pts = dts: camera streams have no B-frames, so no ctts);
 * each duration is the delta to the next frame, the last frame repeats the
 * previous delta. A track starting after the first gets an empty edit (elst)
 * so A/V sync survives.
 */
import type { Writable } from 'node:stream';
import { check, MediaFormatError } from '../errors.js';
import type { Frame, StreamInfo } from '../types.js';
import { box, mdatHeader, mdatHeaderSize } from './box.js';
import { FileSink, StreamSink } from './sink.js';
import { Lookahead, loneDuration, openSource, toTimescale, validateFrame, type FrameSource } from './frames.js';
import { ftyp, MOVIE_TIMESCALE, mp4Time, mvhd, trak, type SampleTable } from './moov.js';
import { trackFormat, type TrackFormat } from './sample-entry.js';

export interface ExportTrack {
  info: StreamInfo;
  frames: FrameSource;
}

export interface ExportOptions {
  /** Interleave window, ms of wall-clock time (default 1000). */
  chunkMs?: number;
  /** Use co64 even for a file under 4 GiB. */
  co64?: boolean;
  /** End the Writable when done (default true). Ignored for a path. */
  end?: boolean;
}

export interface ExportResult {
  /** Bytes written. */
  bytes: number;
  /** Per track, in input order. */
  tracks: { samples: number; durationSeconds: number }[];
}

/** A growable Float64 list: sample tables without a JS object per sample. */
class NumList {
  private a = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }
  get(i: number): number {
    return this.a[i]!;
  }
  /** Adds one to the last entry (samples in the open chunk). */
  bumpLast(): void {
    this.a[this.length - 1]! += 1;
  }
  view(): Float64Array {
    return this.a.subarray(0, this.length);
  }
}

class TrackTable {
  readonly times = new NumList();
  readonly sizes = new NumList();
  readonly syncs = new NumList();
  readonly chunkOffsets = new NumList(); // relative to the mdat payload until layout
  readonly chunkSamples = new NumList();
  constructor(
    readonly format: TrackFormat,
    readonly codec: string,
    readonly what: string,
  ) {}
}

/** Exports the tracks to `out` (a file path or a Writable). Throws MediaFormatError on bad input, before any byte is written. */
export async function exportMp4(out: string | Writable, tracks: readonly ExportTrack[], opts: ExportOptions = {}): Promise<ExportResult> {
  check(tracks.length > 0, 'nothing to export: no tracks');
  const chunkUs = (opts.chunkMs ?? 1000) * 1000;
  check(chunkUs > 0, `chunkMs ${opts.chunkMs} must be positive`);
  const tables = tracks.map((t, i) => new TrackTable(trackFormat(t.info), t.info.codec, `track ${i} (${t.info.codec})`));

  // Pass 1: validate and record sizes, times, keyframes and chunking.
  let payload = 0;
  await interleave(tracks, tables, chunkUs, {
    chunk(k) {
      tables[k]!.chunkOffsets.push(payload);
      tables[k]!.chunkSamples.push(0);
    },
    frame(k, f) {
      const t = tables[k]!;
      const n = t.times.length;
      validateFrame(f, n > 0 ? t.times.get(n - 1) : undefined, n, t.format, t.what);
      t.times.push(f.time);
      t.sizes.push(f.data.length);
      if (f.keyframe) t.syncs.push(n + 1);
      t.chunkSamples.bumpLast();
      payload += f.data.length;
    },
  });
  tables.forEach((t) => check(t.times.length > 0, `${t.what} has no frames`));

  const head = layout(tables, payload, opts.co64 ?? false);
  const sink = typeof out === 'string' ? await FileSink.create(out) : new StreamSink(out, opts.end ?? true);
  try {
    await sink.write(head.bytes);
    await sink.write(mdatHeader(payload));
    // Pass 2: the same walk, writing data; the source must not have changed.
    const seen = tables.map(() => 0);
    await interleave(tracks, tables, chunkUs, {
      chunk() {},
      frame(k, f) {
        const t = tables[k]!;
        const i = seen[k]!++;
        if (i >= t.sizes.length || t.sizes.get(i) !== f.data.length || t.times.get(i) !== f.time) {
          throw new MediaFormatError(`${t.what} changed between the two export passes at frame ${i}`);
        }
        return sink.write(f.data);
      },
    });
    tables.forEach((t, k) => check(seen[k] === t.sizes.length, `${t.what} changed between the two export passes: ${seen[k]} frames, was ${t.sizes.length}`));
    await sink.finish();
    return { bytes: sink.written, tracks: head.tracks };
  } catch (e) {
    await sink.abort(e);
    throw e;
  }
}

interface Visitor {
  chunk(track: number): void;
  /** A Promise only when it must be awaited: per-frame awaits would dominate the CPU cost. */
  frame(track: number, f: Frame): void | Promise<void>;
}

/**
 * Walks all tracks in windows of `chunkUs` from the earliest frame: within a
 * window, track by track, each track's frames form one chunk. Both passes use
 * this walk, so chunking is identical.
 */
async function interleave(tracks: readonly ExportTrack[], tables: TrackTable[], chunkUs: number, v: Visitor): Promise<void> {
  const heads = tracks.map((t, i) => new Lookahead(openSource(t.frames, tables[i]!.what)));
  for (const h of heads) await h.fill();
  let handed = 0;
  const take = (k: number): void | Promise<void> => {
    // A synchronous source and sink would hold the event loop for a whole pass
    // (hundreds of ms for an hour): let the rest of the firmware run now and then.
    if (++handed % 2048 === 0) return new Promise<void>((resolve) => setImmediate(resolve)).then(() => v.frame(k, heads[k]!.take()));
    return v.frame(k, heads[k]!.take());
  };
  const firsts = heads.map((h) => h.head?.time).filter((x): x is number => Number.isFinite(x));
  if (firsts.length === 0) return;
  const origin = Math.min(...firsts);
  for (;;) {
    let next = Infinity;
    for (const h of heads) if (h.head && Number.isFinite(h.head.time)) next = Math.min(next, h.head.time);
    if (next === Infinity) {
      // Only frames without a valid time left (or none): hand them over so validation names them.
      const bad = heads.findIndex((h) => h.head);
      if (bad < 0) return;
      v.chunk(bad);
      await take(bad);
      continue;
    }
    const windowEnd = origin + (Math.floor((next - origin) / chunkUs) + 1) * chunkUs;
    for (let k = 0; k < heads.length; k++) {
      const h = heads[k]!;
      let opened = false;
      for (;;) {
        let head = h.fill();
        if (head instanceof Promise) head = await head;
        if (!head || head.time >= windowEnd) break;
        if (!opened) v.chunk(k);
        opened = true;
        const w = take(k);
        if (w) await w;
      }
    }
  }
}

/** Builds ftyp+moov with absolute chunk offsets; co64 when any offset passes 4 GiB. */
function layout(tables: TrackTable[], payload: number, force64: boolean): { bytes: Uint8Array; tracks: ExportResult['tracks'] } {
  const origin = Math.min(...tables.map((t) => t.times.get(0)));
  const created = mp4Time(origin);
  const prepared = tables.map((t, i) => {
    const n = t.times.length;
    const ts = t.format.timescale;
    const first = t.times.get(0);
    const durations = new Float64Array(n);
    for (let j = 0; j + 1 < n; j++) durations[j] = toTimescale(t.times.get(j + 1) - first, ts) - toTimescale(t.times.get(j) - first, ts);
    durations[n - 1] = n > 1 ? durations[n - 2]! : loneDuration(t.format, t.codec, t.sizes.get(0));
    let duration = 0;
    for (const d of durations) duration += d;
    const movieDuration = Math.round((duration * MOVIE_TIMESCALE) / ts);
    const delay = Math.round(((first - origin) * MOVIE_TIMESCALE) / 1e6);
    return { id: i + 1, format: t.format, duration, durations, movieDuration, delay, t };
  });
  const movieDuration = Math.max(...prepared.map((p) => p.delay + p.movieDuration));
  const build = (base: number, co64: boolean): Uint8Array => {
    const traks = prepared.map((p) => {
      const rel = p.t.chunkOffsets.view();
      const abs = new Float64Array(rel.length);
      for (let c = 0; c < rel.length; c++) abs[c] = rel[c]! + base;
      const table: SampleTable = {
        count: p.t.sizes.length,
        durations: p.durations,
        sizes: p.t.sizes.view(),
        syncSamples: p.format.kind === 'video' ? p.t.syncs.view() : null,
        chunkOffsets: abs,
        chunkSamples: p.t.chunkSamples.view(),
        co64,
      };
      return trak({ ...p, table }, created);
    });
    return box('moov', mvhd(created, movieDuration, prepared.length + 1), ...traks);
  };
  const brands = ['isom', 'iso2', ...(tables.some((t) => t.codec === 'h264') ? ['avc1'] : []), 'mp41'];
  const ftypBox = ftyp('isom', brands);
  let co64 = force64;
  let moovSize = build(0, co64).length;
  let base = ftypBox.length + moovSize + mdatHeaderSize(payload);
  if (!co64 && base + payload > 0xffffffff) {
    co64 = true;
    moovSize = build(0, co64).length;
    base = ftypBox.length + moovSize + mdatHeaderSize(payload);
  }
  const moov = build(base, co64);
  check(moov.length === moovSize, 'internal: moov size changed during layout');
  const bytes = new Uint8Array(ftypBox.length + moov.length);
  bytes.set(ftypBox);
  bytes.set(moov, ftypBox.length);
  return { bytes, tracks: prepared.map((p) => ({ samples: p.t.sizes.length, durationSeconds: p.duration / p.format.timescale })) };
}
