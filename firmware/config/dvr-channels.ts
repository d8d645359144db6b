// The `dvrChannels` section: analog cameras on the board's capture cards.
// Which capture nodes and which encoder the board has is the board profile's
// business (capture[], encoder); this says how each input is recorded.
import { array, boolean, int, nullable, object, oneOf, string, type Infer } from '../core/schema.js';
import type { DvrChannelConfig } from '../channels/dvr-service.js';
import { channelRecordingSchema } from './recording.js';

/** The motion grid (firmware/analytics/motion.ts): 22 x 18 cells. */
const CELLS = 22 * 18;

const streamSchema = (bitrateKbps: number, gop: number) =>
  object({
    codec: oneOf(['h264', 'h265'] as const).default('h264'),
    bitrateKbps: int({ min: 32, max: 20_000 }).default(bitrateKbps),
    rateControl: oneOf(['cbr', 'vbr'] as const).default('vbr'),
    gop: int({ min: 1, max: 600 }).default(gop).describe('keyframe interval in frames; playback seeks to keyframes'),
    profile: oneOf(['baseline', 'main', 'high'] as const).default('main'),
  });

export const dvrChannelSchema = object({
  id: string({ min: 1, max: 32, pattern: /^[a-z0-9][a-z0-9_-]*$/ }).describe('stable id used in topics, URLs and the store'),
  name: string({ min: 1, max: 64 }),
  enabled: boolean().default(true),
  device: string({ min: 1, max: 128, pattern: /^\/dev\/[A-Za-z0-9_./-]+$/ }).describe('capture node, e.g. /dev/video0'),
  input: int({ min: 0, max: 63 }).default(0).describe("the card's input (VIDIOC_S_INPUT index)"),
  standard: oneOf(['auto', 'pal', 'ntsc'] as const).default('auto'),
  main: streamSchema(2048, 50),
  sub: nullable(streamSchema(384, 50)).default({ codec: 'h264', bitrateKbps: 384, rateControl: 'vbr', gop: 50, profile: 'main' }).describe('null: no sub stream'),
  motion: object({
    enabled: boolean().default(true),
    sensitivity: int({ min: 1, max: 100 }).default(50),
    cells: nullable(array(int({ min: 0, max: 100 }), { max: CELLS }))
      .default(null)
      .describe(`per-cell sensitivity, 22 x 18 = ${CELLS} cells row by row, 0 masks a cell, missing cells take the sensitivity above; null: that sensitivity everywhere`),
    minCells: int({ min: 1, max: CELLS }).default(2),
  }),
  tamper: object({ enabled: boolean().default(true) }),
  recording: channelRecordingSchema,
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
  };
}
