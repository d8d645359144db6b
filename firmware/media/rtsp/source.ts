/**
 * An IP camera as a frame source: RtspClient for signalling and transport,
 * one RtpReceiver per supported track for depacketizing, clock mapping,
 * health and receiver reports. This is the wiring; the protocols live in
 * client.ts and ../rtp/.
 */
import { EventEmitter } from 'node:events';
import { copyRange } from '../bytes.js';
import type { Frame, StreamInfo } from '../types.js';
import { RtpError } from '../rtp/errors.js';
import { createDepacketizer } from '../rtp/factory.js';
import type { HealthSnapshot } from '../rtp/health.js';
import { RtpReceiver } from '../rtp/receiver.js';
import { RtspClient, type RtspClientOptions, type RtspTrack } from './client.js';
import { RtspError } from './errors.js';

export interface SourceTrack {
  index: number;
  kind: 'video' | 'audio';
  track: RtspTrack;
  receiver: RtpReceiver;
}

export interface RtspSourceEvents {
  info: [track: SourceTrack, info: StreamInfo];
  frame: [track: SourceTrack, frame: Frame];
  warning: [err: RtspError | RtpError];
  close: [err: RtspError | undefined];
}

export interface RtspSourceOptions extends RtspClientOptions {
  /** How often receiver reports go to the camera. Default 5 s (RFC 3550 minimum interval). */
  reportIntervalMs?: number;
}

export class RtspSource extends EventEmitter<RtspSourceEvents> {
  readonly client: RtspClient;
  readonly tracks: SourceTrack[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: RtspSourceOptions) {
    super();
    this.client = new RtspClient(o);
    this.client.on('warning', (e) => this.emit('warning', e));
    this.client.on('close', (e) => {
      clearInterval(this.timer);
      this.emit('close', e);
    });
    this.client.sink = {
      rtp: (i, bytes, start, end) => this.byIndex(i)?.receiver.handleRtpRange(bytes, start, end),
      // A few a second: copied, so the RTCP parser may keep views.
      rtcp: (i, bytes, start, end) => this.byIndex(i)?.receiver.handleRtcp(copyRange(bytes, start, end)),
    };
  }

  /**
   * Connects and plays the first video track and the first audio track whose
   * codecs we can record; other tracks are not set up at all.
   */
  async start(): Promise<SourceTrack[]> {
    let video = false;
    let audio = false;
    await this.client.start((m) => {
      if (m.type !== 'video' && m.type !== 'audio') return false;
      if ((m.type === 'video' && video) || (m.type === 'audio' && audio)) return false;
      const pt = m.payloadTypes[0];
      if (pt === undefined) return false;
      const map = m.rtpmap.get(pt);
      try {
        createDepacketizer({ payloadType: pt, encoding: map?.encoding, clockRate: map?.clockRate, channels: map?.channels, fmtp: m.fmtp.get(pt) });
      } catch (e) {
        if (!(e instanceof RtpError)) throw e;
        this.emit('warning', e);
        return false;
      }
      if (m.type === 'video') video = true;
      else audio = true;
      return true;
    });
    for (const t of this.client.tracks) this.byIndex(t.index);
    const udp = this.client.transport === 'udp';
    // Over UDP the reorder buffers need a clock tick to release held packets;
    // over TCP the tick only sends receiver reports (a wake-up per camera costs more than it does).
    let sinceReport = 0;
    const reportEvery = this.o.reportIntervalMs ?? 5000;
    const tick = udp ? 50 : reportEvery;
    this.timer = setInterval(() => {
      for (const t of this.live()) t.receiver.poll();
      sinceReport += tick;
      if (sinceReport >= reportEvery) {
        sinceReport = 0;
        for (const t of this.live()) {
          const rr = t.receiver.receiverReport();
          if (rr) this.client.sendRtcp(t.index, rr);
        }
      }
    }, tick);
    return this.tracks;
  }

  health(): { index: number; kind: 'video' | 'audio'; health: HealthSnapshot }[] {
    return this.live().map((t) => ({ index: t.index, kind: t.kind, health: t.receiver.healthSnapshot() }));
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    return this.client.stop();
  }

  /** Tracks with a receiver (a track whose depacketizer could not be made has none). */
  private live(): SourceTrack[] {
    return this.tracks.filter((t): t is SourceTrack => t !== undefined);
  }

  /**
   * The receiver for a track, made on its first packet: media flows from
   * PLAY on, before start() resolves, and the first keyframe must not be lost.
   */
  private byIndex(i: number): SourceTrack | undefined {
    const track = this.client.tracks[i];
    if (!track) return undefined;
    const have = this.tracks[i];
    if (have && have.track === track) return have;
    let dep;
    try {
      dep = createDepacketizer({
        payloadType: track.payloadType,
        encoding: track.rtpmap?.encoding,
        clockRate: track.rtpmap?.clockRate,
        channels: track.rtpmap?.channels,
        fmtp: track.fmtp,
      });
    } catch (e) {
      // Checked when choosing tracks, so only reachable if the camera changed its mind; never crash on it.
      if (!(e instanceof RtpError)) throw e;
      this.emit('warning', e);
      return undefined;
    }
    const receiver = new RtpReceiver({
      depacketizer: dep,
      payloadType: track.payloadType,
      reorder: this.client.transport === 'udp',
      onFrame: (f) => this.emit('frame', st, f),
      onInfo: (info) => this.emit('info', st, info),
      onWarning: (e) => this.emit('warning', e),
    });
    const st: SourceTrack = { index: i, kind: track.media.type === 'video' ? 'video' : 'audio', track, receiver };
    this.tracks[i] = st;
    return st;
  }
}
