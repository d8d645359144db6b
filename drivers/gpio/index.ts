export { GpioChip, listChips, findLine, type RequestOptions } from './chip.js';
export { LineRequest } from './request.js';
export { EventWatcher, type WatchHandlers, type Watchable } from './watcher.js';
export {
  decodeChipInfo,
  decodeEvents,
  decodeLineInfo,
  encodeEvent,
  encodeLineConfig,
  encodeLineRequest,
  encodeValues,
  decodeValues,
  lineFlags,
  GpioEventError,
  EVENT_SIZE,
  type Bias,
  type ChipInfo,
  type Direction,
  type Drive,
  type Edge,
  type LineEvent,
  type LineInfo,
  type LineSettings,
} from './struct.js';
export { LAYOUT } from './layout.js';
export { overrideSys } from './sys.js';
export type { GpioLayout } from './spec.js';
