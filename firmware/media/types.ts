/**
 * What flows from a channel (RTSP depacketizer, V4L2 encoder) into the
 * recording store and out to viewers. The store is codec-agnostic: it keeps
 * frames and the StreamInfo they need; codec specifics live beside this file.
 */

export type VideoCodec = 'h264' | 'h265';
export type AudioCodec = 'aac' | 'pcma' | 'pcmu';
export type Codec = VideoCodec | AudioCodec;

/** main and sub are video; audio is the channel's one audio track. */
export type StreamKind = 'main' | 'sub' | 'audio';

export interface StreamInfo {
  codec: Codec;
  /**
   * The decoder configuration record, as MP4 wants it: the avcC box body for
   * H.264, hvcC for H.265, AudioSpecificConfig for AAC, empty for G.711.
   */
  config: Uint8Array;
  width?: number;
  height?: number;
  /** Audio only. */
  sampleRate?: number;
  channels?: number;
}

export interface Frame {
  /** Capture time, microseconds since the Unix epoch (wall clock, from RTCP or the capture clock). */
  time: number;
  keyframe: boolean;
  /**
   * Video: one access unit as 4-byte big-endian length-prefixed NAL units
   * (the MP4 sample format), parameter sets excluded. Audio: one raw AAC
   * frame (no ADTS header), or G.711 samples.
   */
  data: Uint8Array;
}
