/**
 * NTP packets as an SNTP client needs them (RFC 5905 §7.3, RFC 4330): the
 * 48-byte client request, the strict check of a server's reply, and NTP
 * timestamps to and from Unix milliseconds across the 2036 era change.
 */
import { randomInt } from 'node:crypto';

export const NTP_PACKET_SIZE = 48;
/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET = 2_208_988_800;
/** Seconds in one NTP era: the 32-bit seconds field wraps every ~136 years (first on 2036-02-07). */
const ERA = 2 ** 32;
const FRACTION = 2 ** 32;

export const MODE_CLIENT = 3;
export const MODE_SERVER = 4;

export type NtpErrorCode =
  // The reply itself (parseReply).
  | 'truncated' // shorter than 48 bytes
  | 'spoofed' // originate timestamp is not our request's transmit timestamp
  | 'not-server' // mode other than 4
  | 'version' // version other than 3 or 4
  | 'stratum' // stratum 16 (unsynchronised) or above
  | 'unsynchronised' // leap indicator 3
  | 'no-timestamp' // receive or transmit timestamp zero
  // The exchange (client.ts).
  | 'kiss' // the server sent a kiss-o'-death (stratum 0); `kiss` holds its code
  | 'timeout'
  | 'unreachable' // ICMP port/host/network unreachable
  | 'dns'
  | 'socket'
  | 'aborted'
  | 'bad-argument'
  | 'no-servers'
  | 'all-failed'; // queryFirst: `failures` holds each server's error

/** Everything this package throws or rejects with. */
export class NtpError extends Error {
  override name = 'NtpError';
  /** The kiss code (RATE, DENY, RSTR, ...) when code is 'kiss'. */
  readonly kiss?: string;
  /** Each server's error, in the order tried, when code is 'all-failed'. */
  readonly failures?: readonly { server: string; error: NtpError }[];

  constructor(
    readonly code: NtpErrorCode,
    message: string,
    extra: { kiss?: string; failures?: readonly { server: string; error: NtpError }[] } = {},
  ) {
    super(message);
    if (extra.kiss !== undefined) this.kiss = extra.kiss;
    if (extra.failures) this.failures = extra.failures;
  }
}

/** An NTP 64-bit timestamp: seconds since 1900 within its era, and a binary fraction of a second (both uint32). */
export interface NtpTimestamp {
  seconds: number;
  fraction: number;
}

/** Unix milliseconds to an NTP timestamp; times from 2036-02-07 on wrap into era 1 (seconds start again at 0). */
export function unixMsToNtp(ms: number): NtpTimestamp {
  // Whole seconds and the remainder apart: 2^32 seconds in a double leave too few bits for the fraction.
  const whole = Math.floor(ms / 1000);
  let seconds = whole + NTP_UNIX_OFFSET;
  let fraction = Math.round(((ms - whole * 1000) / 1000) * FRACTION);
  if (fraction >= FRACTION) {
    seconds += 1;
    fraction = 0;
  }
  return { seconds: ((seconds % ERA) + ERA) % ERA, fraction };
}

/**
 * An NTP timestamp to Unix milliseconds, in the era that puts it closest to
 * `nearMs` (our own clock): the packet does not carry its era, and a clock
 * within 68 years of the truth always picks the right one (RFC 5905 §6).
 */
export function ntpToUnixMs(ts: NtpTimestamp, nearMs: number): number {
  const era = Math.round((nearMs / 1000 + NTP_UNIX_OFFSET - ts.seconds) / ERA);
  return (era * ERA + ts.seconds - NTP_UNIX_OFFSET) * 1000 + (ts.fraction / FRACTION) * 1000;
}

const isZero = (ts: NtpTimestamp) => ts.seconds === 0 && ts.fraction === 0;
const sameTimestamp = (a: NtpTimestamp, b: NtpTimestamp) => a.seconds === b.seconds && a.fraction === b.fraction;

/**
 * The transmit timestamp for a request sent at `ms`. The low 22 bits of the
 * fraction (under a millisecond, below what our clock resolves) are random:
 * the server echoes the field as its reply's originate timestamp, so an
 * off-path forger has to guess them as well as the second (RFC 5905 §15).
 * Never zero, which would read as "no timestamp".
 */
export function requestTimestamp(ms: number): NtpTimestamp {
  const ts = unixMsToNtp(ms);
  return { seconds: ts.seconds, fraction: ((ts.fraction & ~0x3fffff) | randomInt(1, 0x400000)) >>> 0 };
}

/** Every field of the 48-byte header; extension fields and MAC are not read. */
export interface NtpPacket {
  leap: number;
  version: number;
  mode: number;
  stratum: number;
  /** log2 of the poll interval in seconds (int8). */
  poll: number;
  /** log2 of the clock's precision in seconds (int8), e.g. -20 ≈ 1 µs. */
  precision: number;
  /** NTP short format (16.16 seconds, unsigned), raw. */
  rootDelay: number;
  rootDispersion: number;
  refId: number;
  reference: NtpTimestamp;
  originate: NtpTimestamp;
  receive: NtpTimestamp;
  transmit: NtpTimestamp;
}

const ZERO: NtpTimestamp = { seconds: 0, fraction: 0 };
const OFFSETS = { reference: 16, originate: 24, receive: 32, transmit: 40 } as const;

/** A header from its fields (missing ones zero); out-of-range values are masked to their bit width. */
export function encodePacket(p: Partial<NtpPacket>): Buffer {
  const buf = Buffer.alloc(NTP_PACKET_SIZE);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint8(0, ((p.leap ?? 0) & 3) << 6 | ((p.version ?? 0) & 7) << 3 | ((p.mode ?? 0) & 7));
  dv.setUint8(1, (p.stratum ?? 0) & 0xff);
  dv.setInt8(2, p.poll ?? 0);
  dv.setInt8(3, p.precision ?? 0);
  dv.setUint32(4, (p.rootDelay ?? 0) >>> 0);
  dv.setUint32(8, (p.rootDispersion ?? 0) >>> 0);
  dv.setUint32(12, (p.refId ?? 0) >>> 0);
  for (const [field, off] of Object.entries(OFFSETS) as [keyof typeof OFFSETS, number][]) {
    const ts = p[field] ?? ZERO;
    dv.setUint32(off, ts.seconds >>> 0);
    dv.setUint32(off + 4, ts.fraction >>> 0);
  }
  return buf;
}

/** The client request (LI 0, version 4, mode 3); every other field zero, as RFC 4330 §5 asks. */
export function encodeRequest(transmit: NtpTimestamp): Buffer {
  return encodePacket({ version: 4, mode: MODE_CLIENT, transmit });
}

/** The header's fields, unchecked; bytes beyond 48 (extension fields, MAC) are ignored. */
export function decodePacket(buf: Uint8Array): NtpPacket {
  if (buf.length < NTP_PACKET_SIZE) throw new NtpError('truncated', `reply is ${buf.length} bytes; an NTP packet has at least ${NTP_PACKET_SIZE}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, NTP_PACKET_SIZE);
  const ts = (off: number): NtpTimestamp => ({ seconds: dv.getUint32(off), fraction: dv.getUint32(off + 4) });
  const b0 = dv.getUint8(0);
  return {
    leap: b0 >> 6,
    version: (b0 >> 3) & 7,
    mode: b0 & 7,
    stratum: dv.getUint8(1),
    poll: dv.getInt8(2),
    precision: dv.getInt8(3),
    rootDelay: dv.getUint32(4),
    rootDispersion: dv.getUint32(8),
    refId: dv.getUint32(12),
    reference: ts(OFFSETS.reference),
    originate: ts(OFFSETS.originate),
    receive: ts(OFFSETS.receive),
    transmit: ts(OFFSETS.transmit),
  };
}

export type LeapIndicator = 0 | 1 | 2;

/** A server's answer with the time. Timestamps are Unix ms (T2, T3 of RFC 5905). */
export interface NtpTimeReply {
  kind: 'time';
  version: 3 | 4;
  /** 0 none, 1 the last minute of today has 61 s, 2 it has 59 s (3, unsynchronised, is refused). */
  leap: LeapIndicator;
  /** 1 (a reference clock) to 15. */
  stratum: number;
  poll: number;
  precision: number;
  rootDelayMs: number;
  rootDispersionMs: number;
  /** Stratum 1: the reference clock's ASCII name (GPS, PPS, ...); above: the upstream server's IPv4 address (or a hash of its IPv6 address), dotted. */
  refId: string;
  /** When the server's clock was last set; null when it never was. */
  referenceMs: number | null;
  receiveMs: number;
  transmitMs: number;
}

/** A kiss-o'-death (stratum 0): the server tells us to go away or slow down instead of answering. */
export interface NtpKissReply {
  kind: 'kiss';
  version: 3 | 4;
  /** Up to 4 printable ASCII characters (RATE, DENY, RSTR, ...); anything else shows as '?'. */
  code: string;
}

export type NtpReply = NtpTimeReply | NtpKissReply;

/** 4 bytes as printable ASCII, trailing NULs dropped, other unprintable bytes as '?'. */
function ascii(word: number): string {
  const bytes = [word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff];
  while (bytes.length && bytes.at(-1) === 0) bytes.pop();
  return String.fromCharCode(...bytes.map((b) => (b >= 0x20 && b <= 0x7e ? b : 0x3f)));
}

const MODE_NAMES = ['reserved', 'symmetric active', 'symmetric passive', 'client', 'server', 'broadcast', 'control', 'private'];

/**
 * Checks a reply to the request whose transmit timestamp was `sent`, and
 * reads it with `nowMs` (our clock on receipt) choosing the era. Throws
 * NtpError, never anything else. The originate check comes right after the
 * length: a reply that fails it may be anyone's, so nothing it says is
 * believed, while every later refusal is the real server's word.
 */
export function parseReply(buf: Uint8Array, sent: NtpTimestamp, nowMs: number): NtpReply {
  const p = decodePacket(buf);
  if (!sameTimestamp(p.originate, sent)) throw new NtpError('spoofed', "reply's originate timestamp is not our request's (a stale, duplicated or forged packet)");
  if (p.mode !== MODE_SERVER) throw new NtpError('not-server', `reply is mode ${p.mode} (${MODE_NAMES[p.mode]}), not a server's answer (mode 4)`);
  if (p.version !== 3 && p.version !== 4) throw new NtpError('version', `reply is NTP version ${p.version}; only versions 3 and 4 are understood`);
  const version = p.version;
  if (p.stratum === 0) return { kind: 'kiss', version, code: ascii(p.refId) };
  if (p.stratum === 16) throw new NtpError('stratum', 'server says it is not synchronised (stratum 16)');
  if (p.stratum > 16) throw new NtpError('stratum', `server gives stratum ${p.stratum}; valid ones are 1 to 15`);
  if (p.leap === 3) throw new NtpError('unsynchronised', 'server says its clock is not synchronised (leap indicator 3)');
  if (isZero(p.transmit)) throw new NtpError('no-timestamp', 'reply has no transmit timestamp');
  if (isZero(p.receive)) throw new NtpError('no-timestamp', 'reply has no receive timestamp');
  return {
    kind: 'time',
    version,
    leap: p.leap as LeapIndicator,
    stratum: p.stratum,
    poll: p.poll,
    precision: p.precision,
    rootDelayMs: (p.rootDelay / 65536) * 1000,
    rootDispersionMs: (p.rootDispersion / 65536) * 1000,
    refId: p.stratum === 1 ? ascii(p.refId) : [p.refId >>> 24, (p.refId >>> 16) & 0xff, (p.refId >>> 8) & 0xff, p.refId & 0xff].join('.'),
    referenceMs: isZero(p.reference) ? null : ntpToUnixMs(p.reference, nowMs),
    receiveMs: ntpToUnixMs(p.receive, nowMs),
    transmitMs: ntpToUnixMs(p.transmit, nowMs),
  };
}
