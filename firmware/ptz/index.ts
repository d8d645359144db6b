export {
  PRESET_NAME_MAX,
  PelcoController,
  PtzError,
  checkPresetName,
  type Direction,
  type PatternAction,
  type PelcoControllerOptions,
  type Preset,
  type PtzController,
  type PtzPosition,
} from './controller.js';
export { FrameReader, PositionReplyParser, type FrameReaderStats, type PositionAxis } from './frame-reader.js';
export {
  EXT,
  MAX_SPEED,
  TURBO,
  PelcoError,
  checksumD,
  checksumP,
  decode,
  encode,
  isFrame,
  wireAddress,
  type Motion,
  type PelcoCommand,
  type PelcoFrame,
  type PelcoProtocol,
} from './pelco.js';
export { ParkTimer, TourRunner, validateTour, type ParkOptions, type Tour, type TourStep } from './tour.js';
export { PtzService, type DomeConfig, type PtzServiceOptions } from './service.js';
export { ManagedDome, type ManagedDomeOptions } from './managed-dome.js';
export { IpPtzService, type IpPtzServiceOptions } from './ip-service.js';
export { PtzDirectory, PtzLine, ptzSettingsSchema, type PresetConfig, type PtzSettings, type Rs485Line } from './settings.js';
