export { V4l2Device, VIDEO_LOSS_STATUS, fourcc, fourccToString } from './device.js';
export type {
  Capability,
  ControlInfo,
  ExtControl,
  ExtControlValue,
  Format,
  FormatDesc,
  FormatRequest,
  Fraction,
  Input,
  MenuItem,
  OpenOptions,
  PlaneFormat,
  Standard,
  StreamParm,
  V4l2Event,
} from './device.js';
export { BufferQueue, type MappedBuffer, type MappedPlane } from './queue.js';
export { hasError, isKeyframe, isLast, isMultiPlanar, type BufferInfo, type PlaneInfo, type QueueOptions } from './buffer-io.js';
export { CaptureStream, type CaptureOptions, type CaptureSource, type CaptureStats, type Frame } from './capture.js';
export type { CaptureBackend, CaptureEventInfo, WorkerConfig } from './capture-protocol.js';
export { M2mDevice, type CodedFrame, type M2mConfig, type M2mReadiness } from './m2m.js';
export { pollAsync } from './poll-async.js';
export { PollThread, stopIdlePollThreads } from './poll-thread.js';
export { LAYOUTS, layoutFor } from './layouts.js';
export type { AbiLayout, ConstantName, IoctlName, StructName } from './spec.js';
export * from './constants.js';
export { overrideSys } from './sys.js';
