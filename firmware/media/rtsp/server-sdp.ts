/**
 * What the RTSP server says about a stream in DESCRIBE: one SDP media section
 * per track, built from the StreamInfo the channel produced (parameter sets
 * from avcC/hvcC, AudioSpecificConfig), and the in-band parameter sets sent
 * before each client's first keyframe.
 */
import { parseAudioSpecificConfig } from '../aac.js';
import { MediaFormatError } from '../errors.js';
import { parseAvcC } from '../h264.js';
import { parseHvcC } from '../h265.js';
import type { StreamInfo } from '../types.js';
import { RtspProtocolError } from './errors.js';

/** How a track goes on the wire: payload type, clock, SDP lines and in-band parameter sets. */
export interface TrackDescription {
  payloadType: number;
  clockRate: number;
  /** a=rtpmap value after the payload type, e.g. "H264/90000". */
  rtpmap: string;
  /** a=fmtp value after the payload type, or '' for none. */
  fmtp: string;
  media: 'video' | 'audio';
  /** H.264/H.265: VPS/SPS/PPS to send in-band before a keyframe. */
  parameterSets: Uint8Array[];
}

const b64 = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
const hex = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('hex');

/** Throws RtspProtocolError when the info's configuration record is unusable. */
export function describeTrack(info: StreamInfo, dynamicPt: number): TrackDescription {
  try {
    switch (info.codec) {
      case 'h264': {
        const c = parseAvcC(info.config);
        const sps = c.sps[0];
        if (!sps || !c.pps[0] || sps.length < 4) throw new MediaFormatError('avcC without SPS and PPS');
        const pli = hex(sps.subarray(1, 4));
        return {
          payloadType: dynamicPt, clockRate: 90000, rtpmap: 'H264/90000', media: 'video',
          fmtp: `packetization-mode=1;profile-level-id=${pli};sprop-parameter-sets=${[...c.sps, ...c.pps].map(b64).join(',')}`,
          parameterSets: [...c.sps, ...c.pps],
        };
      }
      case 'h265': {
        const c = parseHvcC(info.config);
        if (!c.vps[0] || !c.sps[0] || !c.pps[0]) throw new MediaFormatError('hvcC without VPS, SPS and PPS');
        return {
          payloadType: dynamicPt, clockRate: 90000, rtpmap: 'H265/90000', media: 'video',
          fmtp: `sprop-vps=${c.vps.map(b64).join(',')};sprop-sps=${c.sps.map(b64).join(',')};sprop-pps=${c.pps.map(b64).join(',')}`,
          parameterSets: [...c.vps, ...c.sps, ...c.pps],
        };
      }
      case 'aac': {
        const a = parseAudioSpecificConfig(info.config);
        return {
          payloadType: dynamicPt, clockRate: a.sampleRate, rtpmap: `MPEG4-GENERIC/${a.sampleRate}/${a.channels}`, media: 'audio',
          fmtp: `streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=${hex(info.config)}`,
          parameterSets: [],
        };
      }
      case 'pcma':
      case 'pcmu': {
        const ch = info.channels ?? 1;
        const pt = ch === 1 ? (info.codec === 'pcmu' ? 0 : 8) : dynamicPt;
        return {
          payloadType: pt, clockRate: 8000, rtpmap: `${info.codec === 'pcmu' ? 'PCMU' : 'PCMA'}/8000${ch > 1 ? `/${ch}` : ''}`, media: 'audio',
          fmtp: '', parameterSets: [],
        };
      }
    }
  } catch (e) {
    if (e instanceof MediaFormatError) throw new RtspProtocolError(`cannot describe the ${info.codec} track: ${e.message}`);
    throw e;
  }
  throw new RtspProtocolError(`codec ${String((info as StreamInfo).codec)} cannot be served`);
}

/** The SDP for DESCRIBE; track i has a=control:trackID=i relative to the Content-Base. */
export function buildSdp(tracks: readonly TrackDescription[], o: { sessionId: string; address: string; name: string }): string {
  const ip6 = o.address.includes(':');
  const lines = [
    'v=0',
    `o=- ${o.sessionId} 1 IN ${ip6 ? 'IP6' : 'IP4'} ${o.address}`,
    `s=${o.name.replace(/[\r\n]/g, ' ')}`,
    `c=IN ${ip6 ? 'IP6 ::' : 'IP4 0.0.0.0'}`,
    't=0 0',
    'a=tool:dvr-firmware',
    'a=range:npt=now-',
    'a=control:*',
  ];
  tracks.forEach((t, i) => {
    lines.push(`m=${t.media} 0 RTP/AVP ${t.payloadType}`, `a=rtpmap:${t.payloadType} ${t.rtpmap}`);
    if (t.fmtp) lines.push(`a=fmtp:${t.payloadType} ${t.fmtp}`);
    lines.push(`a=control:trackID=${i}`);
  });
  return lines.join('\r\n') + '\r\n';
}
