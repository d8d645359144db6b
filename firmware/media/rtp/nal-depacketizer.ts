/**
 * What H.264 (RFC 6184) and H.265 (RFC 7798) depacketizing share: gathering
 * NAL units into access units, reassembling fragmentation units, keeping the
 * parameter sets out of the samples and in StreamInfo.config.
 *
 * An access unit ends at the marker bit or when the timestamp changes (some
 * cameras never set the marker). A sequence gap drops the fragmented NAL in
 * progress (its middle is missing; a decoder would choke on it); the rest of
 * the unit is still emitted, as a decoder conceals a missing slice better
 * than a missing frame. Nothing is emitted before the first keyframe with
 * known parameter sets, so a recording always starts decodable.
 *
 * Payload bytes are copied once, as they arrive, into one buffer per stream
 * that holds the unit being built already in its stored form (4-byte
 * length-prefixed NAL units): a fragmented NAL is reassembled in place behind
 * its prefix. A finished unit is copied out once, since the store and the
 * live consumers keep it; nothing of a packet is kept by reference, so
 * packets may lie in a reused read buffer.
 */
import type { StreamInfo } from '../types.js';
import { MAX_NALS_PER_UNIT, MAX_UNIT_BYTES, newStats, type AccessUnit, type Depacketizer } from './depacketizer.js';
import type { RtpPacket } from './packet.js';

const INITIAL_UNIT_BYTES = 256 * 1024;
/** Completed NALs (≤ MAX_UNIT_BYTES with their prefixes) and a fragment in progress (≤ MAX_UNIT_BYTES). */
const UNIT_BUFFER_LIMIT = 2 * MAX_UNIT_BYTES + 4 * (MAX_NALS_PER_UNIT + 2);
const GROWTH_STEP = 2 * 1024 * 1024;
/** Units per look at whether the buffer grew far past what the stream needs (one huge unit must not pin megabytes). */
const SHRINK_WINDOW = 256;

/** A plain view: cheaper to make than a Buffer's subarray, which goes through Buffer's own constructor. */
const view = (b: Uint8Array, start: number, end: number): Uint8Array => new Uint8Array(b.buffer, b.byteOffset + start, end - start);

export abstract class NalDepacketizer implements Depacketizer {
  readonly clockRate = 90000;
  readonly stats = newStats();
  info: StreamInfo | undefined;

  /** unit[0, bytes): the unit's NALs so far, length-prefixed; a fragment in progress follows them. */
  private unit = new Uint8Array(INITIAL_UNIT_BYTES);
  private bytes = 0;
  private nals = 0;
  private unitTs: number | undefined;
  private keyframe = false;
  private tooBig = false;
  /** A fragmented NAL in progress lies at unit[bytes + 4, bytes + 4 + fuBytes), its prefix not yet written. */
  private inFu = false;
  private fuBytes = 0;
  private lastSeq: number | undefined;
  /** Nothing is emitted before the first keyframe with known parameter sets. */
  private started = false;
  private largest = 0;
  private sinceShrink = 0;

  push(p: RtpPacket): AccessUnit[] {
    const out: AccessUnit[] = [];
    this.pushRange(p.payload, 0, p.payload.length, p.sequence, p.timestamp, p.marker, out);
    return out;
  }

  pushRange(bytes: Uint8Array, start: number, end: number, sequence: number, timestamp: number, marker: boolean, out: AccessUnit[]): void {
    this.stats.packets++;
    if (this.lastSeq !== undefined && sequence !== ((this.lastSeq + 1) & 0xffff)) {
      this.stats.lost += ((sequence - this.lastSeq - 1) & 0xffff) || 1;
      this.dropFragment();
    }
    this.lastSeq = sequence;
    if (this.unitTs !== undefined && timestamp !== this.unitTs) this.finish(out);
    this.unitTs = timestamp;
    if (end <= start) this.stats.malformed++;
    else this.payload(bytes, start, end);
    if (marker) this.finish(out);
  }

  /** Handles the RTP payload bytes[start, end) (never empty): calls nal() / fragment() or counts it malformed. */
  protected abstract payload(bytes: Uint8Array, start: number, end: number): void;
  /** Parameter set NAL types, and whether the NAL bytes[start, end) starts a keyframe. */
  protected abstract classify(bytes: Uint8Array, start: number, end: number): 'param' | 'key' | 'other';
  /** Takes a parameter set (a view it must copy to keep); replaces `info` when the sets are complete and changed. */
  protected abstract paramSet(nal: Uint8Array): void;

  /** A whole NAL unit, bytes[start, end). */
  protected nal(bytes: Uint8Array, start: number, end: number): void {
    const size = end - start;
    if (size === 0) {
      this.stats.malformed++;
      return;
    }
    const kind = this.classify(bytes, start, end);
    if (kind === 'param') {
      this.paramSet(view(bytes, start, end));
      return;
    }
    if (kind === 'key') this.keyframe = true;
    if (this.nals >= MAX_NALS_PER_UNIT || this.bytes + size > MAX_UNIT_BYTES) {
      this.tooBig = true;
      return;
    }
    const at = this.bytes;
    const fu = this.inFu ? 4 + this.fuBytes : 0;
    this.ensure(at + 4 + size + fu);
    // A NAL amid a fragmented one (which the RFCs forbid) goes before it, as the fragment is only added at its end.
    if (fu > 0) this.unit.copyWithin(at + 4 + size, at, at + fu);
    writeLength(this.unit, at, size);
    this.unit.set(view(bytes, start, end), at + 4);
    this.bytes = at + 4 + size;
    this.nals++;
  }

  /**
   * A fragmentation unit piece, bytes[start, end). A start brings the NAL
   * header it reconstructs, `headerLength` bytes h0 (and h1); other pieces'
   * are ignored.
   */
  protected fragment(first: boolean, last: boolean, headerLength: 1 | 2, h0: number, h1: number, bytes: Uint8Array, start: number, end: number): void {
    if (first) {
      if (this.inFu) this.stats.malformed++; // a new start without the previous end
      this.inFu = true;
      this.fuBytes = headerLength;
      const at = this.bytes + 4;
      this.ensure(at + headerLength);
      this.unit[at] = h0;
      if (headerLength === 2) this.unit[at + 1] = h1;
    } else if (!this.inFu) {
      return; // the start was lost: nothing to attach to
    }
    if (first && last) this.stats.malformed++;
    const len = end - start;
    if (this.fuBytes + len > MAX_UNIT_BYTES) {
      this.tooBig = true;
      this.dropFragment();
      return;
    }
    const at = this.bytes + 4 + this.fuBytes;
    this.ensure(at + len);
    if (len > 0) this.unit.set(view(bytes, start, end), at);
    this.fuBytes += len;
    if (last) this.endFragment();
  }

  protected malformed(): void {
    this.stats.malformed++;
  }

  private endFragment(): void {
    const size = this.fuBytes;
    const at = this.bytes + 4;
    this.dropFragment();
    const kind = this.classify(this.unit, at, at + size);
    if (kind === 'param') {
      this.paramSet(this.unit.subarray(at, at + size));
      return;
    }
    if (kind === 'key') this.keyframe = true;
    if (this.nals >= MAX_NALS_PER_UNIT || this.bytes + size > MAX_UNIT_BYTES) {
      this.tooBig = true;
      return;
    }
    writeLength(this.unit, this.bytes, size);
    this.bytes = at + size;
    this.nals++;
  }

  private dropFragment(): void {
    this.inFu = false;
    this.fuBytes = 0;
  }

  /** Room for `n` bytes, keeping what the buffer holds; past a few megabytes it grows by steps, not doubling. */
  private ensure(n: number): void {
    const cap = this.unit.length;
    if (n <= cap) return;
    const next = new Uint8Array(Math.min(UNIT_BUFFER_LIMIT, Math.max(n, cap + Math.min(cap, GROWTH_STEP))));
    next.set(this.unit);
    this.unit = next;
  }

  private finish(out: AccessUnit[]): void {
    const bytes = this.bytes;
    if (this.nals > 0 && !this.tooBig && this.info && (this.started || this.keyframe)) {
      this.started = true;
      this.stats.units++;
      out.push({ timestamp: this.unitTs!, keyframe: this.keyframe, data: this.unit.slice(0, bytes) });
    } else if (this.nals > 0 || this.tooBig) {
      this.stats.dropped++; // damaged, too big, or before the first keyframe with parameter sets
    } // else e.g. a packet with only parameter sets
    this.bytes = 0;
    this.nals = 0;
    this.keyframe = false;
    this.tooBig = false;
    this.dropFragment();
    this.largest = Math.max(this.largest, bytes);
    if (++this.sinceShrink < SHRINK_WINDOW) return;
    if (this.unit.length > INITIAL_UNIT_BYTES && this.unit.length > 4 * this.largest) {
      this.unit = new Uint8Array(Math.max(INITIAL_UNIT_BYTES, 2 ** Math.ceil(Math.log2(2 * this.largest))));
    }
    this.largest = 0;
    this.sinceShrink = 0;
  }
}

function writeLength(b: Uint8Array, at: number, len: number): void {
  b[at] = len >>> 24;
  b[at + 1] = (len >>> 16) & 0xff;
  b[at + 2] = (len >>> 8) & 0xff;
  b[at + 3] = len & 0xff;
}
