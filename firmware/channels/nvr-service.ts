import { EventBus, type CameraState } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type { Config } from '../config/schema.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import { ChannelRunner, type FrameSink } from './channel-runner.js';
import { LiveFanout, type LiveListener } from './live-fanout.js';

export type { LiveListener } from './live-fanout.js';
import { RtspCameraSource } from './rtsp-camera-source.js';

/** The part of the recording store channels write to. */
export interface RecordingSink {
  setStreamInfo(channel: string, stream: StreamKind, info: StreamInfo): void;
  append(channel: string, stream: StreamKind, frame: Frame): boolean;
  closeStream(channel: string, stream: StreamKind): Promise<void>;
}

/** A channel's settings as this service reads them (ONVIF is another service's business). */
export type ChannelSettings = Omit<Config['channels'][number], 'sub' | 'onvif' | 'recording'> & {
  sub?: { url: string; transport?: 'tcp' | 'udp' } | null;
};

export interface NvrServiceDeps {
  bus: EventBus;
  clock: Clock;
  log: Logger;
  channels: () => ChannelSettings[];
  store: RecordingSink;
}

/**
 * Records every enabled IP channel's main stream and its audio into the
 * store, never decoding or re-encoding them, and fans the frames out to live
 * consumers (the RTSP server out): one camera connection however many
 * viewers. The sub stream, when the channel has a `sub` URL, gets its own
 * connection and is live only (not recorded). One ChannelRunner per camera
 * connection keeps it connected; the store sees a new stream description
 * whenever the camera's changes.
 */
export class NvrService implements Service {
  readonly name = 'channels';
  readonly dependsOn = ['storage'] as const;
  private runners = new Map<string, ChannelRunner>();
  private subRunners = new Map<string, ChannelRunner>();
  private readonly live: LiveFanout;

  constructor(private readonly d: NvrServiceDeps) {
    this.live = new LiveFanout(() => [...this.runners.keys()].map((id) => ({ id, sub: this.subRunners.has(id) })), d.log);
  }

  async start(): Promise<void> {
    const seen = new Set<string>();
    for (const ch of this.d.channels()) {
      if (seen.has(ch.id)) {
        this.d.log.error('two channels share an id: the second is ignored', { channel: ch.id });
        continue;
      }
      seen.add(ch.id);
      if (!ch.enabled) continue;
      const runner = this.runner(ch, 'main', this.d.bus, this.recordingSink());
      this.runners.set(ch.id, runner);
      runner.start();
      if (ch.sub?.url) {
        // The sub stream's state and gaps are not the channel's: it is not recorded, and a
        // sub stream down must not show the camera as down. Its runner reports on a bus of its own.
        const bus = new EventBus();
        bus.on('cameraState', (e) => {
          if (e.state !== 'streaming' && e.state !== 'connecting') this.d.log.warn('sub stream not streaming', { channel: ch.id, state: e.state, detail: e.detail });
        });
        const sub = this.runner(ch, 'sub', bus, { frame: (c, s, i, f) => this.publish(c, s, i, f) });
        this.subRunners.set(ch.id, sub);
        sub.start();
      }
    }
    this.d.log.info('channels started', { recording: [...this.runners.keys()], sub: [...this.subRunners.keys()] });
  }

  private runner(ch: ChannelSettings, stream: 'main' | 'sub', bus: EventBus, sink: FrameSink): ChannelRunner {
    const url = stream === 'main' ? ch.main : ch.sub!;
    return new ChannelRunner({
      channel: ch.id,
      createSource: () =>
        new RtspCameraSource({
          url: url.url,
          transport: url.transport ?? 'tcp',
          stream,
          ...(ch.username !== null ? { username: ch.username } : {}),
          ...(ch.password !== null ? { password: ch.password } : {}),
        }),
      sink,
      bus,
      clock: this.d.clock,
      log: this.d.log,
    });
  }

  /** Main video and audio go to the store (a new description first when it changed), then to live consumers. */
  private recordingSink(): FrameSink {
    const last = new Map<StreamKind, StreamInfo>();
    return {
      frame: (channel, stream, info, frame) => {
        if (last.get(stream) !== info) {
          this.d.store.setStreamInfo(channel, stream, info);
          last.set(stream, info);
        }
        this.d.store.append(channel, stream, frame);
        this.publish(channel, stream, info, frame);
      },
    };
  }

  private publish(channel: string, stream: StreamKind, info: StreamInfo, frame: Frame): void {
    this.live.frame(channel, stream, info, frame);
  }

  /** True when the channel is running here and has this video stream configured. */
  has(channel: string, video: 'main' | 'sub'): boolean {
    return this.live.has(channel, video);
  }

  /** Descriptions of what a live consumer of (channel, video) would get now: video first, then audio; empty while unknown. */
  liveTracks(channel: string, video: 'main' | 'sub'): StreamInfo[] {
    return this.live.liveTracks(channel, video);
  }

  /**
   * Frames of a channel's main or sub video, and its audio, from now on.
   * Delivered synchronously as they arrive: a listener must not block (the
   * RTSP server only queues bytes to a socket). Returns the unsubscribe function.
   */
  subscribe(channel: string, video: 'main' | 'sub', listener: LiveListener): () => void {
    return this.live.subscribe(channel, video, listener);
  }

  async stop(): Promise<void> {
    const runners = [...this.runners.entries()];
    const subRunners = [...this.subRunners.values()];
    this.runners.clear();
    this.subRunners.clear();
    this.live.end();
    await Promise.all([
      ...subRunners.map((r) => r.stop()),
      ...runners.map(async ([id, r]) => {
        await r.stop();
        await this.d.store.closeStream(id, 'main').catch(() => {});
        await this.d.store.closeStream(id, 'audio').catch(() => {});
      }),
    ]);
  }

  status(): { channel: string; state: CameraState; lastError: string | null; gaps: number; sub?: CameraState }[] {
    return [...this.runners.entries()].map(([channel, r]) => {
      const sub = this.subRunners.get(channel);
      return { channel, state: r.state, lastError: r.lastError, gaps: r.gaps.length, ...(sub ? { sub: sub.state } : {}) };
    });
  }
}
