/** Picks the depacketizer for an SDP rtpmap/fmtp, kept free of SDP types so any signalling can use it. */
import { AacDepacketizer, G711Depacketizer } from './audio.js';
import type { Depacketizer } from './depacketizer.js';
import { RtpError } from './errors.js';
import { H264Depacketizer } from './h264.js';
import { H265Depacketizer } from './h265.js';

export interface PayloadFormat {
  payloadType: number;
  /** rtpmap encoding name, any case; absent for static payload types without rtpmap. */
  encoding?: string;
  clockRate?: number;
  channels?: number;
  /** fmtp parameters, keys lower-case. */
  fmtp?: Record<string, string>;
}

/** Throws RtpError for codecs we cannot record. */
export function createDepacketizer(f: PayloadFormat): Depacketizer {
  const enc = (f.encoding ?? (f.payloadType === 0 ? 'PCMU' : f.payloadType === 8 ? 'PCMA' : '')).toUpperCase();
  const fmtp = f.fmtp ?? {};
  switch (enc) {
    case 'H264':
      if (Number(fmtp['packetization-mode'] ?? 0) > 1) throw new RtpError('H.264 interleaved packetization mode 2 is not supported');
      return new H264Depacketizer(fmtp['sprop-parameter-sets']);
    case 'H265':
    case 'HEVC':
      if (Number(fmtp['sprop-max-don-diff'] ?? 0) > 0) throw new RtpError('H.265 with DONL (sprop-max-don-diff > 0) is not supported');
      return new H265Depacketizer({ vps: fmtp['sprop-vps'], sps: fmtp['sprop-sps'], pps: fmtp['sprop-pps'] });
    case 'MPEG4-GENERIC': {
      const mode = (fmtp['mode'] ?? '').toLowerCase();
      if (mode !== 'aac-hbr' && mode !== 'aac-lbr') throw new RtpError(`mpeg4-generic mode "${mode}" is not AAC`);
      return new AacDepacketizer({ fmtp, clockRate: f.clockRate ?? 0 });
    }
    case 'PCMA':
    case 'PCMU':
      return new G711Depacketizer(enc === 'PCMA' ? 'pcma' : 'pcmu', f.channels ?? 1);
    default:
      throw new RtpError(`RTP payload ${f.payloadType} "${f.encoding ?? '?'}" is not a supported codec`);
  }
}
