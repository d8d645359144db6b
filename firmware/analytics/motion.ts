// Motion detection by frame differencing on a grid of cells (22x18, as
// common DVRs draw it), pure and cheap: one pass over every `step`-th sample
// of two luma planes, a 256-bin histogram, and a per-cell count.
//
// Noise rejection: a sample "changed" only if it differs by more than a
// threshold derived from the picture's own noise (4.5x the median absolute
// difference, i.e. ~3 sigma of the difference of two noisy frames) and a
// floor. Lighting: the global mean shift is subtracted first, so a light
// switched on changes little; if most of the picture still changed, the
// result is flagged `global` (lighting or camera change) and not motion; so
// is a change so widespread that the "noise" estimate itself is huge.
// Minimum area: at least `minCells` active cells.
import type { LumaPlane } from './luma.js';

export interface MotionSettings {
  /** Grid columns and rows. Default 22 x 18. */
  cols?: number;
  rows?: number;
  /**
   * Per cell, row-major (cols*rows entries): 0 = masked (ignored), 1..100 =
   * sensitivity. A single number applies to every cell. Default 50.
   */
  sensitivity?: number | ArrayLike<number>;
  /** Cells that must be active for motion (minimum area). Default 1. */
  minCells?: number;
  /** Lowest per-sample difference that counts as change, whatever the noise. Default 10. */
  minDiff?: number;
  /** Above this share of the unmasked cells active at once, the change is `global` (lighting), not motion. Default 0.6. */
  globalShare?: number;
  /**
   * Noise above this (4.5x the median difference) is not noise: most of the
   * picture changed at once (contrast change, lens covered), so `global`. Default 40.
   */
  maxNoise?: number;
  /** Sample every step-th pixel of every step-th line. Default 2. */
  step?: number;
}

export interface MotionResult {
  /** 1 for each active cell (row-major), 0 otherwise; masked cells are always 0. */
  cells: Uint8Array;
  /** Number of active cells. */
  active: number;
  /** Motion: enough cells active and not a global change. */
  motion: boolean;
  /** Most of the picture changed at once (lighting change, camera moved, lens covered). */
  global: boolean;
  /** The per-sample change threshold used (noise floor). */
  threshold: number;
  /** Mean luma difference between the frames (subtracted before thresholding). */
  shift: number;
}

/** Share of a cell's samples that must change, from its sensitivity 1..100 (100 = 1.5 %, 50 = 12 %, 1 = 42 %). */
export function cellShare(sensitivity: number): number {
  const s = Math.min(100, Math.max(1, sensitivity)) / 100;
  return 0.015 + 0.41 * (1 - s) ** 2;
}

function sensitivityOf(settings: MotionSettings, cells: number): Float32Array {
  const s = settings.sensitivity ?? 50;
  const out = new Float32Array(cells);
  if (typeof s === 'number') out.fill(s);
  else for (let i = 0; i < cells; i++) out[i] = s[i] ?? 0;
  return out;
}

/**
 * Compares `cur` with `prev` (same size). Returns which cells moved. Both
 * planes are only read.
 */
export function detectMotion(prev: LumaPlane, cur: LumaPlane, settings: MotionSettings = {}): MotionResult {
  const cols = settings.cols ?? 22;
  const rows = settings.rows ?? 18;
  const step = settings.step ?? 2;
  const n = cols * rows;
  const sens = sensitivityOf(settings, n);
  const { width, height } = cur;
  if (prev.width !== width || prev.height !== height) throw new RangeError(`motion: frames differ in size (${prev.width}x${prev.height} vs ${width}x${height})`);
  // Pass 1, on a coarser lattice: the global shift (lighting).
  let sum = 0;
  let coarse = 0;
  for (let y = 0; y < height; y += 2 * step) {
    const a = y * prev.stride;
    const b = y * cur.stride;
    for (let x = 0; x < width; x += 2 * step) {
      sum += cur.data[b + x]! - prev.data[a + x]!;
      coarse++;
    }
  }
  const shift = coarse ? sum / coarse : 0;
  // Pass 2: shift-corrected differences, their histogram (noise level), per-cell tallies after.
  const xs = Math.ceil(width / step);
  const colOf = new Uint16Array(xs);
  for (let i = 0; i < xs; i++) colOf[i] = Math.min(cols - 1, Math.floor((i * step * cols) / width));
  const count = xs * Math.ceil(height / step);
  const hist = new Uint32Array(256);
  const diffs = new Uint8Array(count);
  let k = 0;
  for (let y = 0; y < height; y += step) {
    const a = y * prev.stride;
    const b = y * cur.stride;
    for (let x = 0; x < width; x += step) {
      let d = cur.data[b + x]! - prev.data[a + x]! - shift;
      if (d < 0) d = -d;
      const v = d > 255 ? 255 : d | 0;
      diffs[k++] = v;
      hist[v]!++;
    }
  }
  let median = 0;
  for (let acc = 0; median < 256; median++) {
    acc += hist[median]!;
    if (acc * 2 >= count) break;
  }
  const noise = 4.5 * median;
  const threshold = Math.max(settings.minDiff ?? 10, noise);
  const changed = new Uint32Array(n);
  const total = new Uint32Array(n);
  k = 0;
  for (let y = 0; y < height; y += step) {
    const row = Math.min(rows - 1, Math.floor((y * rows) / height)) * cols;
    for (let i = 0; i < xs; i++) {
      const c = row + colOf[i]!;
      total[c]!++;
      if (diffs[k++]! > threshold) changed[c]!++;
    }
  }
  const cells = new Uint8Array(n);
  let active = 0;
  let unmasked = 0;
  for (let c = 0; c < n; c++) {
    if (!(sens[c]! > 0)) continue;
    unmasked++;
    if (total[c]! > 0 && changed[c]! / total[c]! >= cellShare(sens[c]!)) {
      cells[c] = 1;
      active++;
    }
  }
  const global = noise > (settings.maxNoise ?? 40) || (unmasked > 0 && active > (settings.globalShare ?? 0.6) * unmasked);
  return { cells, active, motion: !global && active >= (settings.minCells ?? 1), global, threshold, shift };
}
