/** What every depacketizer offers the RTP receiver. */
import type { StreamInfo } from '../types.js';
import type { RtpPacket } from './packet.js';

/** A Frame before wall-clock mapping: still carries the RTP timestamp. */
export interface AccessUnit {
  /** 32-bit RTP timestamp of the unit. */
  timestamp: number;
  keyframe: boolean;
  data: Uint8Array;
}

export interface DepacketizerStats {
  packets: number;
  units: number;
  /** Payloads that break the payload format; dropped. */
  malformed: number;
  /** Sequence gaps seen (packets missing before a packet). */
  lost: number;
  /** Units dropped: damaged by loss, too big, or before the first keyframe/config. */
  dropped: number;
}

export interface Depacketizer {
  readonly clockRate: number;
  /**
   * Current stream info, undefined until known (e.g. no SPS yet). Replaced by
   * a new object when it changes, so `!==` detects an update; the receiver
   * announces it before the first unit that needs it.
   */
  readonly info: StreamInfo | undefined;
  readonly stats: DepacketizerStats;
  /** Never throws for bad payloads: they are counted in stats.malformed. */
  push(packet: RtpPacket): AccessUnit[];
  /**
   * The same for a packet parsed in place: its payload is bytes[start, end),
   * valid only during the call (it may lie in a reused read buffer), so
   * nothing of it is kept by reference; finished units are appended to `out`.
   * Offered by the depacketizers on the video path, where it saves a packet
   * object and views per packet.
   */
  pushRange?(bytes: Uint8Array, start: number, end: number, sequence: number, timestamp: number, marker: boolean, out: AccessUnit[]): void;
}

export const newStats = (): DepacketizerStats => ({ packets: 0, units: 0, malformed: 0, lost: 0, dropped: 0 });

/** Bounds on what one access unit may buffer, whatever the camera sends. */
export const MAX_UNIT_BYTES = 8 * 1024 * 1024;
export const MAX_NALS_PER_UNIT = 1024;

export function equalBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
