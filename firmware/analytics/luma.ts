// A luma (Y) plane as the analytics see it: 8-bit samples, `stride` bytes
// per line. NV12 and YU12 buffers start with exactly this; YUYV is packed
// (use lumaOfYuyv to get one).

export interface LumaPlane {
  data: Uint8Array;
  width: number;
  height: number;
  /** Bytes from one line to the next (>= width). */
  stride: number;
}

/** The Y samples of a packed YUYV picture (every other byte), at half the cost of a full conversion. */
export function lumaOfYuyv(yuyv: Uint8Array, width: number, height: number, stride = width * 2, out?: Uint8Array): LumaPlane {
  const data = out && out.length >= width * height ? out : new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const s = y * stride;
    const d = y * width;
    for (let x = 0; x < width; x++) data[d + x] = yuyv[s + 2 * x]!;
  }
  return { data, width, height, stride: width };
}

export interface LumaStats {
  /** Mean luma 0..255. */
  mean: number;
  /** Standard deviation of luma. */
  stdDev: number;
  /**
   * Mean absolute difference between neighbouring samples (horizontal and
   * vertical): how much detail (edges, texture) the picture has.
   */
  detail: number;
}

/**
 * Mean, spread and detail of a luma plane, on every `step`-th sample of every
 * `step`-th line (4 by default: a 352x288 plane costs ~6,000 samples).
 */
export function lumaStats(p: LumaPlane, step = 4): LumaStats {
  let n = 0;
  let sum = 0;
  let sq = 0;
  let grad = 0;
  let gn = 0;
  const { data, width, height, stride } = p;
  for (let y = 0; y < height; y += step) {
    const row = y * stride;
    for (let x = 0; x < width; x += step) {
      const v = data[row + x]!;
      sum += v;
      sq += v * v;
      n++;
      if (x + 1 < width && y + 1 < height) {
        grad += Math.abs(v - data[row + x + 1]!) + Math.abs(v - data[row + stride + x]!);
        gn += 2;
      }
    }
  }
  if (n === 0) return { mean: 0, stdDev: 0, detail: 0 };
  const mean = sum / n;
  return { mean, stdDev: Math.sqrt(Math.max(0, sq / n - mean * mean)), detail: gn ? grad / gn : 0 };
}

export interface FlatSettings {
  /** At most this standard deviation of luma (a capture chip's blue or black screen is ~0). Default 2. */
  maxStdDev?: number;
  /** At most this detail. Default 1. */
  maxDetail?: number;
}

/**
 * A flat picture: what a capture card delivers with no camera (black, blue
 * or grey screen). Stricter than tamper's "loss of detail": a covered lens
 * still shows sensor noise, a missing signal does not.
 */
export function isFlat(stats: LumaStats, settings: FlatSettings = {}): boolean {
  return stats.stdDev <= (settings.maxStdDev ?? 2) && stats.detail <= (settings.maxDetail ?? 1);
}
