// What each stream of an analog channel is made of, worked out once per
// capture and settings: its size (a number of 2:1 passes of the scaler over
// the captured picture) and its frame rate (every captured frame, or a
// timestamp-driven choice of them).
import { downscaledFormat, type EncoderConfig, type RawFormat, type RawPicture } from '../../drivers/encoder/index.js';
import type { CaptureGeometry } from './dvr-capture.js';

/**
 * Stream sizes as DVR menus name them, relative to the capture: D1 is the
 * captured picture (704 x 576 PAL, 704 x 480 NTSC), CIF half of it in each
 * direction (352 x 288 / 240), QCIF a quarter (176 x 144 / 120).
 */
export type DvrResolution = 'D1' | 'CIF' | 'QCIF';
export type DvrMainResolution = 'D1' | 'CIF';
export type DvrSubResolution = 'CIF' | 'QCIF';

/** Encoder settings of one stream, its size relative to the capture, and its rate. */
export type DvrStreamSettings<R extends DvrResolution = DvrResolution> = Omit<EncoderConfig, 'width' | 'height' | 'fps' | 'inputFormat'> & {
  /** Default: main D1, sub CIF. */
  resolution?: R;
  /** Frames per second; null or absent (or at least the capture's): every captured frame. */
  fps?: number | null;
};
export type DvrMainSettings = DvrStreamSettings<DvrMainResolution>;
export type DvrSubSettings = DvrStreamSettings<DvrSubResolution>;

/** 2:1 scaler passes from the captured picture to each size. */
export const SCALE_PASSES: Record<DvrResolution, 0 | 1 | 2> = { D1: 0, CIF: 1, QCIF: 2 };

export interface StreamPlan {
  width: number;
  height: number;
  /** 2:1 passes from the captured picture: 0 (the capture buffer itself), 1 (CIF), 2 (QCIF). */
  passes: 0 | 1 | 2;
  /** What the encoder is told: the capture's rate as the driver gave it, or the stream's own. */
  fps: number | string;
  /** null: every captured frame is encoded. */
  gate: FrameRateGate | null;
}

/** Why a plan cannot be made for this capture; the source reports it as the channel's error. */
export class StreamPlanError extends Error {
  override name = 'StreamPlanError';
}

/**
 * A stream's size and rate on this capture. A wanted rate at or above the
 * capture's (30 on an NTSC input runs at its 30000/1001; 30 on an `auto`
 * channel that found PAL runs at 25) takes every frame.
 */
export function planStream(g: CaptureGeometry, resolution: DvrResolution, fps: number | null | undefined): StreamPlan {
  const passes = SCALE_PASSES[resolution];
  const div = 2 ** passes;
  // Each 2:1 pass needs a multiple of 4 in both directions on its input.
  for (let p = 0; p < passes; p++) {
    const w = g.width / 2 ** p;
    const h = g.height / 2 ** p;
    if (w % 4 !== 0 || h % 4 !== 0) throw new StreamPlanError(`a ${resolution} stream of a ${g.width}x${g.height} capture needs ${w}x${h} to be a multiple of 4`);
  }
  const captureFps = g.fps.den === 1 ? g.fps.num : `${g.fps.num}/${g.fps.den}`;
  const full = fps === null || fps === undefined || fps * g.fps.den >= g.fps.num;
  return {
    width: g.width / div,
    height: g.height / div,
    passes,
    fps: full ? captureFps : fps,
    gate: full ? null : new FrameRateGate(1e6 / fps, (0.5e6 * g.fps.den) / g.fps.num),
  };
}

/**
 * Keeps `1e6 / intervalUs` frames a second out of a faster capture. Time is
 * cut into slots of exactly intervalUs from the first frame's timestamp, and
 * the first frame to reach each slot is kept: the kept rate never drifts
 * from the wanted one however long the channel runs (a counter such as "2 of
 * every 5" would, for any rate that does not divide the capture's), lost
 * capture frames do not shift the rhythm, and after a gap the slots missed
 * are skipped, not made up. A frame up to `toleranceUs` (half a capture
 * period) early counts for its slot, so timestamp jitter does not push a
 * frame into the next slot.
 */
export class FrameRateGate {
  #t0: number | undefined;
  #next = 0;

  constructor(
    readonly intervalUs: number,
    private readonly toleranceUs: number,
  ) {}

  /** Whether the frame at `ptsUs` (increasing) is encoded. */
  keep(ptsUs: number): boolean {
    if (this.#t0 === undefined) {
      this.#t0 = ptsUs;
      this.#next = 1;
      return true;
    }
    const slot = Math.floor((ptsUs - this.#t0 + this.toleranceUs) / this.intervalUs);
    if (slot < this.#next) return false;
    this.#next = slot + 1;
    return true;
  }
}

/** The capture buffer as the encoders' raw picture: contiguous when unpadded, else planes with the driver's pitch. */
export function capturedPicture(data: Buffer, g: CaptureGeometry): RawPicture {
  const { width: w, height: h, bytesperline: bpl, format } = g;
  if (format === 'yuyv') return bpl === w * 2 ? data.subarray(0, w * h * 2) : { planes: [data], strides: [bpl] };
  if (bpl === w) return data.subarray(0, (w * h * 3) / 2);
  const y = data.subarray(0, bpl * h);
  if (format === 'nv12') return { planes: [y, data.subarray(bpl * h)], strides: [bpl, bpl] };
  const c = bpl / 2;
  return { planes: [y, data.subarray(bpl * h, bpl * h + (c * h) / 2), data.subarray(bpl * h + (c * h) / 2)], strides: [bpl, c, c] };
}

/** What a stream's encoder is opened with: its settings at the plan's size and rate. */
export function encoderConfig(s: DvrStreamSettings, plan: StreamPlan, captureFormat: RawFormat): EncoderConfig {
  const { resolution: _resolution, fps: _fps, ...encoder } = s;
  return { ...encoder, width: plan.width, height: plan.height, fps: plan.fps, inputFormat: plan.passes ? downscaledFormat(captureFormat) : captureFormat };
}
