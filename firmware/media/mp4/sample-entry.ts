/**
 * From a StreamInfo to what a track needs: handler, timescale, display size
 * and the stsd sample entry (avc1/avcC, hvc1/hvcC, mp4a/esds, alaw, ulaw).
 * hvc1/avc1 (not hev1/avc3) because Frame data carries no parameter sets:
 * they live only in the config record.
 */
import { parseAudioSpecificConfig } from '../aac.js';
import { check } from '../errors.js';
import { parseAvcC, parseH264Sps } from '../h264.js';
import { parseH265Sps, parseHvcC } from '../h265.js';
import type { StreamInfo } from '../types.js';
import { box, Fields, fullBox } from './box.js';

export interface TrackFormat {
  kind: 'video' | 'audio';
  /** 90000 for video, the sample rate for audio. */
  timescale: number;
  width: number;
  height: number;
  sampleRate: number;
  channels: number;
  /** One stsd entry. */
  sampleEntry: Uint8Array;
}

export const VIDEO_TIMESCALE = 90000;

/** Validates a StreamInfo and derives the track format; throws MediaFormatError naming what is missing. */
export function trackFormat(info: StreamInfo): TrackFormat {
  switch (info.codec) {
    case 'h264': {
      check(info.config.length > 0, 'h264 track has no avcC config (SPS/PPS never seen?)');
      const avcc = parseAvcC(info.config);
      check(avcc.sps.length > 0 && avcc.pps.length > 0, 'h264 avcC lacks an SPS or PPS');
      const sps = parseH264Sps(avcc.sps[0]!);
      return video('avc1', 'avcC', info, sps.width, sps.height);
    }
    case 'h265': {
      check(info.config.length > 0, 'h265 track has no hvcC config (VPS/SPS/PPS never seen?)');
      const hvcc = parseHvcC(info.config);
      check(hvcc.vps.length > 0 && hvcc.sps.length > 0 && hvcc.pps.length > 0, 'h265 hvcC lacks a VPS, SPS or PPS');
      const sps = parseH265Sps(hvcc.sps[0]!);
      return video('hvc1', 'hvcC', info, sps.width, sps.height);
    }
    case 'aac': {
      check(info.config.length > 0, 'aac track has no AudioSpecificConfig');
      const asc = parseAudioSpecificConfig(info.config);
      const rate = info.sampleRate ?? asc.sampleRate;
      const channels = info.channels ?? asc.channels;
      return audio(box('mp4a', audioEntryHead(channels, rate), esds(info.config)), rate, channels);
    }
    case 'pcma':
    case 'pcmu': {
      const rate = info.sampleRate ?? 8000;
      const channels = info.channels ?? 1;
      return audio(box(info.codec === 'pcma' ? 'alaw' : 'ulaw', audioEntryHead(channels, rate)), rate, channels);
    }
    default:
      check(false, `codec '${String((info as StreamInfo).codec)}' cannot go into MP4`);
  }
}

function video(entry: string, configBox: string, info: StreamInfo, spsW: number, spsH: number): TrackFormat {
  // The SPS is the truth for the coded picture; StreamInfo may only confirm it.
  const width = spsW || info.width || 0;
  const height = spsH || info.height || 0;
  check(width > 0 && width <= 0xffff && height > 0 && height <= 0xffff, `${info.codec} track has an invalid size ${width}x${height}`);
  const head = new Fields()
    .zeros(6).u16(1) // reserved, data_reference_index
    .zeros(16) // pre_defined, reserved
    .u16(width).u16(height)
    .u32(0x00480000).u32(0x00480000) // 72 dpi
    .u32(0).u16(1) // reserved, frame_count
    .zeros(32) // compressorname
    .u16(0x0018).u16(0xffff); // depth, pre_defined -1
  return { kind: 'video', timescale: VIDEO_TIMESCALE, width, height, sampleRate: 0, channels: 0, sampleEntry: box(entry, head, box(configBox, info.config)) };
}

function audio(sampleEntry: Uint8Array, sampleRate: number, channels: number): TrackFormat {
  check(Number.isInteger(sampleRate) && sampleRate > 0 && sampleRate < 2 ** 31, `audio sample rate ${sampleRate} is invalid`);
  check(Number.isInteger(channels) && channels > 0 && channels <= 0xffff, `audio channel count ${channels} is invalid`);
  return { kind: 'audio', timescale: sampleRate, width: 0, height: 0, sampleRate, channels, sampleEntry };
}

function audioEntryHead(channels: number, rate: number): Fields {
  return new Fields()
    .zeros(6).u16(1) // reserved, data_reference_index
    .zeros(8) // reserved (version 0 entry)
    .u16(channels).u16(16) // channelcount, samplesize
    .u16(0).u16(0)
    .u32(rate <= 0xffff ? rate * 65536 : 0); // 16.16; rates above 65535 do not fit and players use the timescale
}

/** esds: ES_Descriptor > DecoderConfigDescriptor (AAC, audio stream) > DecoderSpecificInfo (the ASC), SLConfig. */
function esds(asc: Uint8Array): Uint8Array {
  const decSpecific = descriptor(5, asc);
  const decConfig = descriptor(4, new Fields().u8(0x40).u8(0x15).u24(0).u32(0).u32(0).bytes(decSpecific).done());
  const es = descriptor(3, new Fields().u16(1).u8(0).bytes(decConfig).bytes(descriptor(6, Uint8Array.of(2))).done());
  return fullBox('esds', 0, 0, es);
}

function descriptor(tag: number, body: Uint8Array): Uint8Array {
  const f = new Fields().u8(tag);
  // Expandable size: 7 bits a byte, high bit = more follows.
  const len = body.length;
  const groups: number[] = [];
  for (let v = len; ; v >>>= 7) {
    groups.unshift(v & 0x7f);
    if (v < 0x80) break;
  }
  groups.forEach((g, i) => f.u8(i < groups.length - 1 ? g | 0x80 : g));
  return f.bytes(body).done();
}
