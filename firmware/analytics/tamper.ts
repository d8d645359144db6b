// Tamper: the lens covered, sprayed or pointed at a wall. What it looks like
// is a sudden loss of detail (edges vanish: blur, a hand, paint) or of
// brightness (a cover). Compared with a slow baseline of the same camera,
// so a dull scene is not tamper and a night scene drifts in gently.
import type { LumaStats } from './luma.js';

export interface TamperSettings {
  /** Tampered when detail falls below this share of the baseline's. Default 0.35. */
  detailRatio?: number;
  /** ... or brightness below this share of the baseline's (and detail below 0.7 of it). Default 0.3. */
  brightnessRatio?: number;
  /** Baselines this dull are not judged (a black night scene has nothing to lose). Default detail 2. */
  minBaselineDetail?: number;
  /** Weight of a new frame in the baseline (exponential average). Default 0.02. */
  baselineWeight?: number;
}

export interface TamperBaseline {
  mean: number;
  detail: number;
  /** Frames folded in. */
  frames: number;
}

export const emptyBaseline: TamperBaseline = { mean: 0, detail: 0, frames: 0 };

/** Does this frame look tampered, against the camera's baseline? */
export function isTampered(stats: LumaStats, baseline: TamperBaseline, settings: TamperSettings = {}): boolean {
  if (baseline.frames < 5 || baseline.detail < (settings.minBaselineDetail ?? 2)) return false;
  const detailLost = stats.detail < (settings.detailRatio ?? 0.35) * baseline.detail;
  const darkened = stats.mean < (settings.brightnessRatio ?? 0.3) * baseline.mean && stats.detail < 0.7 * baseline.detail;
  return detailLost || darkened;
}

/**
 * The baseline with this frame folded in. Callers skip tampered frames, so a
 * covered lens never becomes the new normal while it is reported.
 */
export function updateBaseline(baseline: TamperBaseline, stats: LumaStats, settings: TamperSettings = {}): TamperBaseline {
  if (baseline.frames === 0) return { mean: stats.mean, detail: stats.detail, frames: 1 };
  // Faster at first, so the baseline settles within a few frames of start.
  const w = Math.max(settings.baselineWeight ?? 0.02, 1 / (baseline.frames + 1));
  return {
    mean: baseline.mean + w * (stats.mean - baseline.mean),
    detail: baseline.detail + w * (stats.detail - baseline.detail),
    frames: baseline.frames + 1,
  };
}
