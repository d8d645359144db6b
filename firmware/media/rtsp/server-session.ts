/**
 * One client's playback: the tracks it SET UP, their packetizers, and the
 * frame gate every client goes through: start at a keyframe with the
 * parameter sets in-band, and when the client cannot keep up (its socket
 * buffer over the limit) drop frames until it has drained and the next
 * keyframe comes, so memory per client stays bounded.
 */
import { randomBytes } from 'node:crypto';
import { RtpPacketizer, lengthPrefixedNals } from '../rtp/packetizer.js';
import { buildSenderReport } from '../rtp/packetizer-rtcp.js';
import type { Frame, StreamInfo } from '../types.js';
import { describeTrack, type TrackDescription } from './server-sdp.js';

export interface SessionTrack {
  index: number;
  kind: 'video' | 'audio';
  desc: TrackDescription;
  codec: StreamInfo['codec'];
  rtpChannel: number;
  packetizer: RtpPacketizer;
  /** Time of the last frame sent, µs. */
  lastTime?: number;
  /** Media time of the last sender report, µs; packets and payload octets sent, for it. */
  lastReport?: number;
  packets: number;
  octets: number;
}

/** How often each track's sender report goes out (RFC 3550's 5 s minimum interval). */
const REPORT_EVERY_US = 5_000_000;

export interface SessionOutput {
  /** Bytes queued in the socket, not yet taken by the kernel. */
  backlog: number;
  send(channel: number, packets: Uint8Array[]): void;
  /** The stream can no longer be served to this client (codec changed, too slow too long). */
  end(reason: string): void;
}

export interface SessionLimits {
  /** Socket backlog above which frames are skipped until the next keyframe. */
  maxBacklogBytes: number;
  /** Over the limit this long without draining: the client is dropped. */
  dropAfterMs: number;
}

const rand32 = (): number => randomBytes(4).readUInt32BE(0);

export class ServerSession {
  readonly id = randomBytes(8).toString('hex');
  readonly tracks: SessionTrack[] = [];
  playing = false;
  private waitKeyframe = true;
  private overSince: number | undefined;
  private started = false;
  private paramCache = new WeakMap<StreamInfo, Uint8Array[]>();
  skippedFrames = 0;
  sentFrames = 0;

  constructor(
    readonly path: string,
    private readonly now: () => number,
    private readonly limits: SessionLimits,
  ) {}

  addTrack(index: number, info: StreamInfo, desc: TrackDescription, rtpChannel: number): SessionTrack {
    const existing = this.tracks.find((t) => t.index === index);
    if (existing) return existing;
    const t: SessionTrack = {
      index, kind: desc.media, desc, codec: info.codec, rtpChannel, packets: 0, octets: 0,
      packetizer: new RtpPacketizer({ codec: info.codec, payloadType: desc.payloadType, clockRate: desc.clockRate, ssrc: rand32(), sequence: rand32() & 0xffff, timestamp: rand32() }),
    };
    this.tracks.push(t);
    return t;
  }

  private parameterSets(info: StreamInfo, fallback: TrackDescription): Uint8Array[] {
    let p = this.paramCache.get(info);
    if (!p) {
      try {
        p = describeTrack(info, fallback.payloadType).parameterSets;
      } catch {
        p = fallback.parameterSets; // a broken new config: keep announcing the one the client got
      }
      this.paramCache.set(info, p);
    }
    return p;
  }

  /** One frame from the channel; decides whether and how this client gets it. */
  deliver(kind: 'video' | 'audio', info: StreamInfo, frame: Frame, out: SessionOutput): void {
    if (!this.playing) return;
    const track = this.tracks.find((t) => t.kind === kind);
    if (!track) return;
    if (info.codec !== track.codec) {
      out.end(`the ${kind} codec changed from ${track.codec} to ${info.codec}`);
      return;
    }
    const hasVideo = this.tracks.some((t) => t.kind === 'video');
    if (out.backlog > this.limits.maxBacklogBytes) {
      this.overSince ??= this.now();
      this.skippedFrames++;
      if (hasVideo) this.waitKeyframe = true;
      if (this.now() - this.overSince > this.limits.dropAfterMs) out.end('the client does not read its stream');
      return;
    }
    this.overSince = undefined;
    // Video starts (and restarts after a skip) at a keyframe; audio needs no such point and
    // flows at once, which also gives players an audio time line that starts before the video's.
    if (this.waitKeyframe && kind === 'video') {
      if (!frame.keyframe) {
        this.skippedFrames++;
        return;
      }
      this.waitKeyframe = false;
    }
    if (!this.started) {
      // Every track's timestamps count from the same instant, which keeps audio and video in sync.
      this.started = true;
      for (const t of this.tracks) t.packetizer.setOrigin(frame.time);
    }
    // Players split access units on timestamp changes and need them increasing: a source whose
    // first frames share a time (wall clock mapped before the camera's first RTCP report) is
    // nudged forward by 1 ms rather than sent as one merged, undecodable unit.
    const time = track.lastTime !== undefined && frame.time <= track.lastTime ? track.lastTime + 1000 : frame.time;
    track.lastTime = time;
    const units = kind === 'video' ? lengthPrefixedNals(frame.data) : [frame.data];
    if (kind === 'video' && frame.keyframe) units.unshift(...this.parameterSets(info, track.desc));
    let packets: Uint8Array[];
    try {
      packets = track.packetizer.packetize(time, units);
    } catch {
      this.skippedFrames++; // e.g. an AAC frame too big for RFC 3640's 13-bit size: dropped, not fatal
      return;
    }
    this.sentFrames++;
    if (track.lastReport === undefined || time - track.lastReport >= REPORT_EVERY_US) {
      // The first report names an instant a second before the first frame (any point of the
      // same time line will do): players that count from the first report then give the first
      // frame a positive time instead of one they cannot tell from "unknown".
      const at = track.lastReport === undefined ? time - 1_000_000 : time;
      track.lastReport = time;
      const sr = buildSenderReport({
        ssrc: track.packetizer.ssrc, timeUs: at, rtpTimestamp: track.packetizer.timestampOf(at),
        packets: track.packets, octets: track.octets, cname: 'dvr',
      });
      out.send(track.rtpChannel + 1, [sr]);
    }
    track.packets += packets.length;
    for (const p of packets) track.octets += p.length - 12;
    out.send(track.rtpChannel, packets);
  }
}
