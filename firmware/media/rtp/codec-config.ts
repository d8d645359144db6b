/**
 * StreamInfo for the NAL depacketizers: picture size and the avcC/hvcC
 * record, from ../h264.ts and ../h265.ts. This is the boundary where their
 * MediaFormatError becomes the RtpError the rtp package throws (the
 * depacketizers count it as a malformed payload).
 */
import { MediaFormatError } from '../errors.js';
import { buildAvcC, parseH264Sps } from '../h264.js';
import { buildHvcC, parseH265Sps } from '../h265.js';
import { RtpError } from './errors.js';

export interface VideoConfig {
  config: Uint8Array;
  width: number;
  height: number;
}

function asRtpError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof MediaFormatError) throw new RtpError(e.message, { cause: e });
    throw e;
  }
}

/** AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) and displayed size. Throws RtpError. */
export function h264Config(sps: Uint8Array, pps: Uint8Array): VideoConfig {
  return asRtpError(() => {
    const { width, height } = parseH264Sps(sps);
    return { config: buildAvcC([sps], [pps]), width, height };
  });
}

/** HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1), one array each of VPS, SPS, PPS, and displayed size. Throws RtpError. */
export function h265Config(vps: Uint8Array, sps: Uint8Array, pps: Uint8Array): VideoConfig {
  return asRtpError(() => {
    const { width, height } = parseH265Sps(sps);
    return { config: buildHvcC([vps], [sps], [pps]), width, height };
  });
}
