/** Raw picture layouts an encoder accepts (V4L2 names: NV12, YU12, YUYV). */
export type RawFormat = 'nv12' | 'yuv420p' | 'yuyv';
export type EncoderCodec = 'h264' | 'h265';
export type H264Profile = 'baseline' | 'main' | 'high';

export interface EncoderConfig {
  codec: EncoderCodec;
  width: number;
  height: number;
  /** Frames per second: an integer or a fraction such as 30000/1001 (as a number or 'N/D'). */
  fps: number | string;
  bitrateKbps: number;
  /**
   * cbr: average = maximum = bitrateKbps (VBV buffer of one second).
   * vbr: average bitrateKbps, peaks up to 2x over a two-second buffer.
   */
  rateControl: 'cbr' | 'vbr';
  /** Keyframe interval in frames; every GOP starts with an IDR. */
  gop: number;
  profile: H264Profile;
  inputFormat: RawFormat;
  /** Backend speed/quality trade-off (x264 presets: ultrafast ... veryslow). Default 'veryfast'. */
  preset?: string;
  /** Encoder threads for this stream (x264). Default 1: channels give the parallelism. */
  threads?: number;
  /**
   * Backend-specific settings applied last (x264: x264_param_parse names such
   * as 'aq-mode', 'rc-lookahead'); an unknown name or bad value is a BAD_CONFIG error.
   */
  options?: Record<string, string | number | boolean>;
}

/** A raw picture with explicit planes (e.g. a multi-planar V4L2 buffer or padded lines). */
export interface RawPlanes {
  /** Y, then UV (nv12) or U, V (yuv420p), or the one packed plane (yuyv). */
  planes: Uint8Array[];
  /** Bytes per line of each plane. */
  strides: number[];
}

/** One contiguous picture (planes back to back, no line padding), or planes. */
export type RawPicture = Uint8Array | RawPlanes;

export interface EncodeOptions {
  /** Make this picture an IDR (e.g. a viewer joined). */
  forceKeyframe?: boolean;
}

export interface CodedUnit {
  /** Presentation time as given to encode(), microseconds. */
  ptsUs: number;
  /** Decode time, microseconds (equals ptsUs unless the backend reorders frames). */
  dtsUs: number;
  keyframe: boolean;
  pictureType: 'IDR' | 'I' | 'P' | 'B';
  /**
   * One access unit as 4-byte big-endian length-prefixed NAL units, without
   * SPS/PPS (the MP4 sample format; see annexB() for a byte stream).
   */
  data: Uint8Array;
}

export interface ParameterSets {
  /** NAL units without start code or length prefix. */
  sps: Uint8Array[];
  pps: Uint8Array[];
  /** H.265 only: its video parameter sets, which go before SPS and PPS. */
  vps?: Uint8Array[];
}

/** Matches firmware/media StreamInfo for a video stream. */
export interface EncodedStreamInfo {
  codec: EncoderCodec;
  /** avcC record body (AVCDecoderConfigurationRecord) for h264, hvcC (HEVCDecoderConfigurationRecord) for h265. */
  config: Uint8Array;
  width: number;
  height: number;
}

export interface Encoder {
  /** Registry name: 'x264', 'v4l2-m2m', ... */
  readonly backend: string;
  /**
   * Opens (or reopens, with new settings) the encoder. Rejects with
   * EncoderError BAD_CONFIG naming the setting. Await it before encode().
   */
  configure(config: EncoderConfig): Promise<void>;
  /**
   * Encodes one picture. The raw buffer must not be changed until the promise
   * settles (no copy is taken for nv12/yuv420p). Calls are queued in order.
   * Resolves with the access units that came out (zero or more: encoders with
   * lookahead return them later, and flush() drains the rest).
   */
  encode(raw: RawPicture, ptsUs: number, options?: EncodeOptions): Promise<CodedUnit[]>;
  /** Drains the frames the encoder still holds. */
  flush(): Promise<CodedUnit[]>;
  /** SPS/PPS of the configured stream. */
  parameterSets(): ParameterSets;
  /** codec, avcC record, width and height of the configured stream. */
  streamInfo(): EncodedStreamInfo;
  /** Waits for queued work and frees the encoder. Idempotent; any later call throws CLOSED. */
  close(): Promise<void>;
}
