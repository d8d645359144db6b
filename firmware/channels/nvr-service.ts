import type { CameraState, EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type { Config } from '../config/schema.js';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';
import { ChannelRunner } from './channel-runner.js';
import { RtspCameraSource } from './rtsp-camera-source.js';

/** The part of the recording store channels write to. */
export interface RecordingSink {
  setStreamInfo(channel: string, stream: StreamKind, info: StreamInfo): void;
  append(channel: string, stream: StreamKind, frame: Frame): boolean;
  closeStream(channel: string, stream: StreamKind): Promise<void>;
}

export interface NvrServiceDeps {
  bus: EventBus;
  clock: Clock;
  log: Logger;
  channels: () => Config['channels'];
  store: RecordingSink;
}

/**
 * Records every enabled IP channel's main stream into the store, never
 * decoding or re-encoding it. One ChannelRunner per camera keeps it connected;
 * the store sees a new stream description whenever the camera's changes.
 */
export class NvrService implements Service {
  readonly name = 'channels';
  readonly dependsOn = ['storage'] as const;
  private runners = new Map<string, ChannelRunner>();

  constructor(private readonly d: NvrServiceDeps) {}

  async start(): Promise<void> {
    const seen = new Set<string>();
    for (const ch of this.d.channels()) {
      if (seen.has(ch.id)) {
        this.d.log.error('two channels share an id: the second is ignored', { channel: ch.id });
        continue;
      }
      seen.add(ch.id);
      if (!ch.enabled) continue;
      let lastInfo: StreamInfo | undefined;
      const runner = new ChannelRunner({
        channel: ch.id,
        createSource: () =>
          new RtspCameraSource({
            url: ch.main.url,
            transport: ch.main.transport,
            stream: 'main',
            ...(ch.username !== null ? { username: ch.username } : {}),
            ...(ch.password !== null ? { password: ch.password } : {}),
          }),
        sink: {
          frame: (channel, stream, info, frame) => {
            if (stream === 'main' && info !== lastInfo) {
              this.d.store.setStreamInfo(channel, stream, info);
              lastInfo = info;
            }
            if (stream === 'main') this.d.store.append(channel, stream, frame);
          },
        },
        bus: this.d.bus,
        clock: this.d.clock,
        log: this.d.log,
      });
      this.runners.set(ch.id, runner);
      runner.start();
    }
    this.d.log.info('channels started', { recording: [...this.runners.keys()] });
  }

  async stop(): Promise<void> {
    const runners = [...this.runners.entries()];
    this.runners.clear();
    await Promise.all(
      runners.map(async ([id, r]) => {
        await r.stop();
        await this.d.store.closeStream(id, 'main').catch(() => {});
      }),
    );
  }

  status(): { channel: string; state: CameraState; lastError: string | null; gaps: number }[] {
    return [...this.runners.entries()].map(([channel, r]) => ({ channel, state: r.state, lastError: r.lastError, gaps: r.gaps.length }));
  }
}
