// The `dvrChannels` section: analog cameras on the board's capture cards.
// Which capture nodes and which encoder the board has is the board profile's
// business (capture[], encoder); this says how each input is recorded.
import { array, boolean, int, nullable, object, oneOf, refine, string, type Infer } from '../core/schema.js';
import { devicePath } from './file-paths.js';
import type { DvrChannelConfig } from '../channels/dvr-service.js';
import { channelRecordingSchema } from './recording.js';

/** The motion grid (firmware/analytics/motion.ts): 22 x 18 cells. */
const CELLS = 22 * 18;

/** Frame rates of the video standards: a stream cannot have more frames than the capture. */
const STANDARD_FPS = { pal: 25, ntsc: 30 } as const;

const streamSchema = <const R extends readonly string[]>(resolutions: R, resolution: R[number], sizes: string, bitrateKbps: number, gop: number) =>
  object({
    codec: oneOf(['h264', 'h265'] as const).default('h264'),
    resolution: oneOf(resolutions).default(resolution).describe(sizes),
    fps: nullable(int({ min: 1, max: STANDARD_FPS.ntsc }))
      .default(null)
      .describe('frames per second, at most 25 (PAL) or 30 (NTSC); fewer are picked evenly from the captured ones and cost the encoder less. Empty: every captured frame'),
    bitrateKbps: int({ min: 32, max: 20_000 }).default(bitrateKbps),
    rateControl: oneOf(['cbr', 'vbr'] as const).default('vbr'),
    gop: int({ min: 1, max: 600 }).default(gop).describe("keyframe interval in this stream's frames (at its fps); playback seeks to keyframes"),
    profile: oneOf(['baseline', 'main', 'high'] as const).default('main'),
  });

const mainSchema = streamSchema(['D1', 'CIF'] as const, 'D1', 'D1: the captured picture (704 x 576 PAL, 704 x 480 NTSC); CIF: half of it each way (352 x 288, 352 x 240)', 2048, 50);
const subSchema = streamSchema(['CIF', 'QCIF'] as const, 'CIF', 'CIF: half the captured picture each way (352 x 288 PAL, 352 x 240 NTSC); QCIF: a quarter (176 x 144, 176 x 120)', 384, 50);

/** A picture control: percent of the card's own range, so 50 is mid-range on any card. */
const imagePercent = (what: string) =>
  nullable(int({ min: 0, max: 100 }))
    .default(null)
    .describe(`${what}, 0-100 % of the range the capture card's driver has (50: the middle); empty: the driver's default. A card without this control ignores it (a warning in the log)`);

const imageSchema = object({
  brightness: imagePercent('brightness'),
  contrast: imagePercent('contrast'),
  saturation: imagePercent('colour saturation'),
  hue: imagePercent('hue (tint); mostly NTSC cards'),
  sharpness: imagePercent('sharpness'),
});

const channelSchema = object({
  id: string({ min: 1, max: 32, pattern: /^[a-z0-9][a-z0-9_-]*$/ }).describe('stable id used in topics, URLs and the store'),
  name: string({ min: 1, max: 64 }),
  enabled: boolean().default(true),
  device: devicePath.describe('capture node, e.g. /dev/video0'),
  input: int({ min: 0, max: 63 }).default(0).describe("the card's input (VIDIOC_S_INPUT index)"),
  standard: oneOf(['auto', 'pal', 'ntsc'] as const).default('auto'),
  main: mainSchema,
  sub: nullable(subSchema).default(subSchema.parse({})).describe('null: no sub stream'),
  motion: object({
    enabled: boolean().default(true),
    sensitivity: int({ min: 1, max: 100 }).default(50),
    cells: nullable(array(int({ min: 0, max: 100 }), { max: CELLS }))
      .default(null)
      .describe(`per-cell sensitivity, 22 x 18 = ${CELLS} cells row by row, 0 masks a cell, missing cells take the sensitivity above; null: that sensitivity everywhere`),
    minCells: int({ min: 1, max: CELLS }).default(2),
  }),
  tamper: object({ enabled: boolean().default(true) }),
  image: imageSchema.describe('picture controls of the input, applied while it records'),
  recording: channelRecordingSchema,
});

export const dvrChannelSchema = refine(channelSchema, (c, path, issues) => {
  if (c.standard === 'auto') return; // known once captured: a rate above the signal's takes every frame
  const most = STANDARD_FPS[c.standard];
  for (const [stream, s] of [['main', c.main], ['sub', c.sub]] as const) {
    if (s?.fps != null && s.fps > most) issues.push(`${path ? `${path}.` : ''}${stream}.fps: ${s.fps} is above the ${most} frames per second of ${c.standard.toUpperCase()}`);
  }
});

export type DvrChannelSettings = Infer<typeof dvrChannelSchema>;

/** The service's view of a configured channel, with the encoder the board has. */
export function dvrChannelConfig(c: DvrChannelSettings, encoder: { backend: string; device: string | null }): DvrChannelConfig {
  return {
    id: c.id,
    enabled: c.enabled,
    device: c.device,
    input: c.input,
    standard: c.standard,
    encoder: { backend: encoder.backend, ...(encoder.device ? { device: encoder.device } : {}) },
    main: { ...c.main },
    sub: c.sub ? { ...c.sub } : null,
    motion: { enabled: c.motion.enabled, sensitivity: c.motion.cells ? Array.from({ length: CELLS }, (_, i) => c.motion.cells![i] ?? c.motion.sensitivity) : c.motion.sensitivity, minCells: c.motion.minCells },
    tamper: { enabled: c.tamper.enabled },
    image: { ...c.image },
  };
}
