export {
  PelcoController,
  PtzError,
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
