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
 */
import { concat } from '../bytes.js';
import type { StreamInfo } from '../types.js';
import { MAX_NALS_PER_UNIT, MAX_UNIT_BYTES, newStats, type AccessUnit, type Depacketizer } from './depacketizer.js';
import type { RtpPacket } from './packet.js';

/** The header argument of a fragment that does not start its NAL: never read, so one shared empty array. */
export const NO_HEADER = new Uint8Array(0);

export abstract class NalDepacketizer implements Depacketizer {
  readonly clockRate = 90000;
  readonly stats = newStats();
  info: StreamInfo | undefined;

  /** The unit's NAL units; a reassembled fragmentation unit stays in its pieces until finish() copies the unit once. */
  private nals: (Uint8Array | Uint8Array[])[] = [];
  /** Length-prefixed size of `nals`. */
  private bytes = 0;
  private unitTs: number | undefined;
  private keyframe = false;
  private tooBig = false;
  private fu: Uint8Array[] | undefined;
  private fuBytes = 0;
  private lastSeq: number | undefined;
  /** Nothing is emitted before the first keyframe with known parameter sets. */
  private started = false;

  push(p: RtpPacket): AccessUnit[] {
    this.stats.packets++;
    const out: AccessUnit[] = [];
    if (this.lastSeq !== undefined && p.sequence !== ((this.lastSeq + 1) & 0xffff)) {
      this.stats.lost += ((p.sequence - this.lastSeq - 1) & 0xffff) || 1;
      this.dropFragment();
    }
    this.lastSeq = p.sequence;
    if (this.unitTs !== undefined && p.timestamp !== this.unitTs) this.finish(out);
    this.unitTs = p.timestamp;
    if (p.payload.length === 0) this.stats.malformed++;
    else this.payload(p.payload);
    if (p.marker) this.finish(out);
    return out;
  }

  /** Handles one RTP payload: calls nal() / fragment() or counts it malformed. */
  protected abstract payload(payload: Uint8Array): void;
  /** Parameter set NAL types, and whether this NAL starts a keyframe. */
  protected abstract classify(nal: Uint8Array): 'param' | 'key' | 'other';
  /** Takes a parameter set; replaces `info` when the sets are complete and changed. */
  protected abstract paramSet(nal: Uint8Array): void;

  protected nal(nal: Uint8Array): void {
    this.add(nal, nal, nal.length);
  }

  /** head: the NAL's first bytes (enough to classify it); whole: the NAL, or its pieces in order; size: its length. */
  private add(head: Uint8Array, whole: Uint8Array | Uint8Array[], size: number): void {
    if (size === 0) {
      this.stats.malformed++;
      return;
    }
    const kind = this.classify(head);
    if (kind === 'param') {
      this.paramSet(Array.isArray(whole) ? concat(whole) : whole);
      return;
    }
    if (kind === 'key') this.keyframe = true;
    if (this.nals.length >= MAX_NALS_PER_UNIT || this.bytes + size > MAX_UNIT_BYTES) {
      this.tooBig = true;
      return;
    }
    this.nals.push(whole);
    this.bytes += size + 4;
  }

  /** A fragmentation unit piece; header is the reconstructed NAL header for the start (ignored otherwise). */
  protected fragment(start: boolean, end: boolean, header: Uint8Array, body: Uint8Array): void {
    if (start) {
      if (this.fu) this.stats.malformed++; // a new start without the previous end
      this.fu = [header];
      this.fuBytes = header.length;
    } else if (!this.fu) {
      return; // the start was lost: nothing to attach to
    }
    if (start && end) this.stats.malformed++;
    this.fuBytes += body.length;
    if (this.fuBytes > MAX_UNIT_BYTES) {
      this.tooBig = true;
      this.dropFragment();
      return;
    }
    this.fu.push(body);
    if (end) {
      const pieces = this.fu;
      this.fu = undefined;
      this.add(pieces[0]!, pieces, this.fuBytes);
    }
  }

  protected malformed(): void {
    this.stats.malformed++;
  }

  private dropFragment(): void {
    this.fu = undefined;
    this.fuBytes = 0;
  }

  private finish(out: AccessUnit[]): void {
    const nals = this.nals;
    const bytes = this.bytes;
    const key = this.keyframe;
    const ts = this.unitTs!;
    const tooBig = this.tooBig;
    this.nals = [];
    this.bytes = 0;
    this.keyframe = false;
    this.tooBig = false;
    this.dropFragment();
    if (nals.length === 0) {
      if (tooBig) this.stats.dropped++;
      return; // else e.g. a packet with only parameter sets
    }
    if (tooBig || !this.info || (!this.started && !key)) {
      this.stats.dropped++;
      return;
    }
    this.started = true;
    this.stats.units++;
    out.push({ timestamp: ts, keyframe: key, data: joinUnit(nals, bytes) });
  }
}

/** The unit as 4-byte length-prefixed NAL units: one copy of every byte, fragments included. */
function joinUnit(nals: readonly (Uint8Array | Uint8Array[])[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let p = 0;
  for (const nal of nals) {
    const parts = Array.isArray(nal);
    let len = 0;
    if (parts) for (const x of nal) len += x.length;
    else len = nal.length;
    out[p] = len >>> 24;
    out[p + 1] = (len >>> 16) & 0xff;
    out[p + 2] = (len >>> 8) & 0xff;
    out[p + 3] = len & 0xff;
    p += 4;
    if (parts) {
      for (const x of nal) {
        out.set(x, p);
        p += x.length;
      }
    } else {
      out.set(nal, p);
      p += nal.length;
    }
  }
  return out;
}
