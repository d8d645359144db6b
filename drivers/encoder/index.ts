export type {
  CodedUnit,
  EncodedStreamInfo,
  Encoder,
  EncoderCodec,
  EncoderConfig,
  EncodeOptions,
  H264Profile,
  ParameterSets,
  RawFormat,
  RawPicture,
  RawPlanes,
} from './types.js';
export { EncoderError, type EncoderErrorCode } from './errors.js';
export { createEncoder, encoderBackends, registerEncoderBackend, type EncoderBackendOptions, type EncoderFactory } from './registry.js';
export { annexB, avcC, fromAnnexB, splitAnnexB, splitLengthPrefixed } from './h264.js';
export { fromAnnexBH265, h265NalType, hvcC, isH265Irap } from './h265.js';
export { rawFrameSize, resolvePlanes, RAW_FORMATS } from './raw.js';
export { downscale2x, downscaledFormat, scalerEngine, yuyvToI420 } from './scale.js';
export { JpegEncoder, type JpegOptions } from './jpeg.js';
export { X264Encoder, X264_PRESETS, X264_TUNES, type X264EncoderOptions, type X264Stats } from './x264/encoder.js';
export { X264WorkerEncoder, setEncoderPoolSize, shutdownEncoderPool, encoderPoolThreads } from './x264/threaded.js';
export { prepareKoffiForAsyncEncode } from './x264/lib.js';
export { x264Layout, type X264Layout } from './x264/layout.js';
export { M2mEncoder, type M2mCodedFormat, type M2mEncoderOptions } from './m2m/index.js';

import { registerEncoderBackend } from './registry.js';
import { X264WorkerEncoder } from './x264/threaded.js';
import { M2mEncoder } from './m2m/index.js';

registerEncoderBackend('x264', (options) => new X264WorkerEncoder({ tune: options['tune'] as never, group: typeof options['group'] === 'string' ? options['group'] : undefined }));
registerEncoderBackend('v4l2-m2m', (options) => new M2mEncoder(options as never));
