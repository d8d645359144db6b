// The picture controls of an analog input (brightness, contrast, saturation,
// hue, sharpness) as percent of whatever range the card's driver reports.
// Cards disagree on ranges (vivid 0..255 with hue -128..127, bttv 0..65535,
// tw68 -128..127, em28xx 0..31...), so a number in the config only means the
// same picture on every card as a position in the driver's own range.
import { V4L2_CID_BRIGHTNESS, V4L2_CID_CONTRAST, V4L2_CID_HUE, V4L2_CID_SATURATION, V4L2_CID_SHARPNESS, V4L2_CTRL_FLAG_DISABLED, V4L2_CTRL_FLAG_READ_ONLY } from '../../drivers/v4l2/index.js';

export const IMAGE_CONTROLS = ['brightness', 'contrast', 'saturation', 'hue', 'sharpness'] as const;
export type ImageControl = (typeof IMAGE_CONTROLS)[number];

/** Percent (0..100) of the driver's range per control; null: the driver's default value. */
export type DvrImageSettings = Record<ImageControl, number | null>;

export const IMAGE_CONTROL_IDS: Record<ImageControl, number> = {
  brightness: V4L2_CID_BRIGHTNESS,
  contrast: V4L2_CID_CONTRAST,
  saturation: V4L2_CID_SATURATION,
  hue: V4L2_CID_HUE,
  sharpness: V4L2_CID_SHARPNESS,
};

export const NO_IMAGE_SETTINGS: DvrImageSettings = { brightness: null, contrast: null, saturation: null, hue: null, sharpness: null };

/** What QUERYCTRL says of a control (drivers/v4l2's ControlInfo has these fields). */
export interface ControlRange {
  minimum: number;
  maximum: number;
  step: number;
  defaultValue: number;
  flags: number;
}

/** The controls of an open capture input: one ioctl each, on the node the capture streams from. */
export interface CaptureControls {
  /** null when the driver has no such control. */
  query(id: number): ControlRange | null;
  /** Returns the value the driver kept. */
  set(id: number, value: number): number;
}

/**
 * A percent as a value of the range: min + pct% of (max - min), on the
 * step grid from min, never past max (a range that is not a whole number
 * of steps ends below max).
 */
export function percentToValue(percent: number, r: Pick<ControlRange, 'minimum' | 'maximum' | 'step'>): number {
  const p = Math.min(100, Math.max(0, percent));
  const span = r.maximum - r.minimum;
  if (span <= 0) return r.minimum;
  const step = r.step > 0 ? r.step : 1;
  const steps = Math.min(Math.round((span * p) / 100 / step), Math.floor(span / step));
  return r.minimum + steps * step;
}

/** The percent a driver value stands for (whole percent), for showing what a card is set to. */
export function valueToPercent(value: number, r: Pick<ControlRange, 'minimum' | 'maximum'>): number {
  const span = r.maximum - r.minimum;
  return span <= 0 ? 0 : Math.round(((value - r.minimum) * 100) / span);
}

export interface ImageReport {
  /** Driver values written. */
  set: Partial<Record<ImageControl, number>>;
  /** Controls with a value that the driver does not have (or has read-only or disabled). */
  missing: ImageControl[];
  /** Controls the driver refused, with its error. */
  failed: { control: ImageControl; error: string }[];
}

/**
 * Writes each control: its percent of the range, or the driver's default
 * for null, so a value set before (by an earlier setting, or by hand with
 * v4l2-ctl) does not linger once the setting is cleared. A control the
 * driver lacks is left out: reported when it had a value, silent for null.
 */
export function applyImageSettings(controls: CaptureControls | undefined, settings: DvrImageSettings, only: readonly ImageControl[] = IMAGE_CONTROLS): ImageReport {
  const report: ImageReport = { set: {}, missing: [], failed: [] };
  for (const name of only) {
    const percent = settings[name];
    let range: ControlRange | null = null;
    try {
      range = controls?.query(IMAGE_CONTROL_IDS[name]) ?? null;
    } catch (err) {
      report.failed.push({ control: name, error: (err as Error).message });
      continue;
    }
    if (!range || range.flags & (V4L2_CTRL_FLAG_DISABLED | V4L2_CTRL_FLAG_READ_ONLY)) {
      if (percent !== null) report.missing.push(name);
      continue;
    }
    const value = percent === null ? range.defaultValue : percentToValue(percent, range);
    try {
      report.set[name] = controls!.set(IMAGE_CONTROL_IDS[name], value);
    } catch (err) {
      report.failed.push({ control: name, error: (err as Error).message });
    }
  }
  return report;
}

/** The controls whose setting differs between a and b. */
export function changedImageControls(a: DvrImageSettings, b: DvrImageSettings): ImageControl[] {
  return IMAGE_CONTROLS.filter((k) => a[k] !== b[k]);
}
