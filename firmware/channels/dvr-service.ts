// DvrService (service `dvr`): one ChannelRunner per enabled analog channel,
// each with a DvrCameraSource (capture -> main + sub encoders), main and sub
// streams into the recording store and out to live consumers, and per
// channel video loss, motion and tamper on the sub picture. A change of a
// channel's main or sub settings in the config (configChanged on the bus)
// reopens the encoder of that stream only: the channel's capture, its other
// stream, analytics, runner and the other channels carry on. Other analog
// settings take effect at the next start, except the picture controls
// (brightness, contrast...), which are set on the running capture at once.
import { createEncoder as registryCreateEncoder, type Encoder, type EncoderBackendOptions } from '../../drivers/encoder/index.js';
import { ChannelAnalytics } from '../analytics/monitor.js';
import { isFlat, lumaStats } from '../analytics/luma.js';
import type { CameraState, EventBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type { StreamInfo, StreamKind } from '../media/types.js';
import { ChannelRunner, type FrameSink } from './channel-runner.js';
import { type CaptureOpener, openV4l2Capture, type VideoStandard } from './dvr-capture.js';
import { changedImageControls, NO_IMAGE_SETTINGS, type DvrImageSettings, type ImageReport } from './dvr-image.js';
import { DvrCameraSource, type DvrMainSettings, type DvrSubSettings } from './dvr-source.js';
import { VideoLossMonitor } from './dvr-video-loss.js';
import type { RecordingSink } from './nvr-service.js';

/** One analog channel's settings (the config schema's `dvrChannels[]`). */
export interface DvrChannelConfig {
  id: string;
  enabled: boolean;
  /** Capture node, e.g. /dev/video0, and its input index. */
  device: string;
  input: number;
  standard: VideoStandard;
  /** Capture size; default 704 x 576 (PAL) / 704 x 480 (NTSC). */
  width?: number;
  height?: number;
  encoder: {
    /** 'x264' or 'v4l2-m2m' (the board profile's encoder.backend). */
    backend: string;
    /** v4l2-m2m: the encoder node. */
    device?: string;
  };
  main: DvrMainSettings;
  /** null: no sub stream (then motion runs on the main picture). */
  sub: DvrSubSettings | null;
  motion: {
    enabled: boolean;
    /** 1..100, or per cell (22 x 18 = 396, row-major; 0 = masked). */
    sensitivity: number | number[];
    minCells: number;
  };
  tamper: { enabled: boolean };
  /** Picture controls in percent of the driver's range; absent: each at the driver's default. */
  image?: DvrImageSettings;
}

export interface DvrServiceDeps {
  bus: EventBus;
  clock: Clock;
  log: Logger;
  channels: () => DvrChannelConfig[];
  store: RecordingSink;
  /** Live consumers (RTSP server out, live view): every main and sub frame. */
  live?: FrameSink;
  /** Tests: a simulated capture. Default: the V4L2 node. */
  openCapture?: CaptureOpener;
  /** Tests: another encoder factory. Default: drivers/encoder's registry. */
  createEncoder?: (backend: string, options: EncoderBackendOptions) => Encoder;
  /** Runner tuning (tests shorten the backoff). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  stallMs?: number;
}

interface DvrChannel {
  /** The channel's settings as running; main and sub follow the config. */
  cfg: DvrChannelConfig;
  runner: ChannelRunner;
  loss: VideoLossMonitor;
  analytics: ChannelAnalytics;
  source?: DvrCameraSource;
  /** Picture-control problems already logged: a card without a hue control says so once, not at every attempt. */
  warned: Set<string>;
}

export class DvrService implements Service {
  readonly name = 'dvr';
  readonly dependsOn = ['storage'] as const;
  private channels = new Map<string, DvrChannel>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly d: DvrServiceDeps) {}

  async start(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = this.d.bus.on('configChanged', (e) => {
      if (e.paths.some((p) => p === '' || p === 'dvrChannels' || p.startsWith('dvrChannels.'))) this.applyStreamSettings();
    });
    for (const ch of this.d.channels()) {
      if (this.channels.has(ch.id)) {
        this.d.log.error('two DVR channels share an id: the second is ignored', { channel: ch.id });
        continue;
      }
      if (!ch.enabled) continue;
      this.channels.set(ch.id, this.startChannel(ch));
    }
    this.d.log.info('dvr channels started', { channels: [...this.channels.keys()] });
  }

  private startChannel(ch: DvrChannelConfig): DvrChannel {
    const { bus, clock } = this.d;
    const analytics = new ChannelAnalytics({
      channel: ch.id,
      bus,
      clock,
      motion: ch.motion.enabled ? { sensitivity: ch.motion.sensitivity, minCells: ch.motion.minCells } : null,
      tamper: ch.tamper.enabled ? {} : null,
    });
    const loss = new VideoLossMonitor({ channel: ch.id, bus, clock, onChange: () => analytics.reset() });
    const last = new Map<StreamKind, StreamInfo>();
    const sink: FrameSink = {
      frame: (channel, stream, info, frame) => {
        if (last.get(stream) !== info) {
          this.d.store.setStreamInfo(channel, stream, info);
          last.set(stream, info);
        }
        this.d.store.append(channel, stream, frame);
        this.d.live?.frame(channel, stream, info, frame);
      },
    };
    const make = this.d.createEncoder ?? registryCreateEncoder;
    const state: DvrChannel = { cfg: ch, loss, analytics, warned: new Set() } as DvrChannel;
    state.runner = new ChannelRunner({
      channel: ch.id,
      sink,
      bus,
      clock,
      log: this.d.log,
      ...(this.d.baseBackoffMs !== undefined ? { baseBackoffMs: this.d.baseBackoffMs } : {}),
      ...(this.d.maxBackoffMs !== undefined ? { maxBackoffMs: this.d.maxBackoffMs } : {}),
      ...(this.d.stallMs !== undefined ? { stallMs: this.d.stallMs } : {}),
      createSource: () => {
        // A new attempt: no differencing across the break.
        analytics.reset();
        const source = new DvrCameraSource({
          capture: { device: ch.device, input: ch.input, standard: ch.standard, ...(ch.width ? { width: ch.width } : {}), ...(ch.height ? { height: ch.height } : {}) },
          open: this.d.openCapture ?? openV4l2Capture,
          // group: a channel's main and sub encoders share a worker thread (x264), so a frame's two encodes are one message.
          createEncoder: () => make(ch.encoder.backend, ch.encoder.device ? { device: ch.encoder.device } : { group: ch.id }),
          main: state.cfg.main,
          sub: state.cfg.sub,
          image: state.cfg.image ?? NO_IMAGE_SETTINGS,
          onImage: (report) => this.reportImage(state, report),
          clock,
          onStatus: (bits) => loss.status(bits),
          onPicture: (p) => {
            loss.picture(isFlat(lumaStats(p.luma, 8)));
            if (!loss.lost) analytics.push(p.luma);
          },
        });
        state.source = source;
        return source;
      },
    });
    state.runner.start();
    return state;
  }

  /**
   * Running channels whose main or sub settings differ from the config's:
   * their encoders reopen with the new ones (a channel between attempts
   * takes them at its next attempt).
   */
  private applyStreamSettings(): void {
    const now = new Map(this.d.channels().map((c) => [c.id, c]));
    for (const [id, state] of this.channels) {
      const next = now.get(id);
      if (!next) continue;
      const image = next.image ?? NO_IMAGE_SETTINGS;
      if (changedImageControls(state.cfg.image ?? NO_IMAGE_SETTINGS, image).length > 0) {
        state.cfg = { ...state.cfg, image };
        // Between attempts there is no source: the next one starts with these.
        state.source?.setImage(image);
      }
      if (same(state.cfg.main, next.main) && same(state.cfg.sub, next.sub)) continue;
      state.cfg = { ...state.cfg, main: next.main, sub: next.sub };
      this.d.log.info('stream settings changed: reopening the encoders', { channel: id });
      void state.source?.reconfigure(next.main, next.sub);
    }
  }

  private reportImage(state: DvrChannel, report: ImageReport): void {
    const channel = state.cfg.id;
    for (const control of report.missing) {
      if (state.warned.has(control)) continue;
      state.warned.add(control);
      this.d.log.warn('the capture card has no such picture control: setting ignored', { channel, control, device: state.cfg.device });
    }
    for (const { control, error } of report.failed) {
      const key = `${control}: ${error}`;
      if (state.warned.has(key)) continue;
      state.warned.add(key);
      this.d.log.warn('the capture card refused a picture control', { channel, control, error });
    }
    if (Object.keys(report.set).length > 0) this.d.log.debug('picture controls set', { channel, values: report.set });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const all = [...this.channels.entries()];
    this.channels.clear();
    await Promise.all(
      all.map(async ([id, c]) => {
        await c.runner.stop();
        c.analytics.reset();
        c.loss.reset();
        await Promise.all((['main', 'sub'] as const).map((s) => this.d.store.closeStream(id, s).catch(() => {})));
      }),
    );
  }

  /** A JPEG of the channel's next captured picture, full size. */
  async snapshot(channel: string): Promise<Uint8Array> {
    const c = this.channels.get(channel);
    if (!c) throw new Error(`analog channel ${channel} is not running`);
    if (!c.source || c.runner.state !== 'streaming') throw new Error(`analog channel ${channel} is ${c.runner.state}: no picture to take`);
    return c.source.snapshot();
  }

  status(): { channel: string; state: CameraState; lastError: string | null; gaps: number; videoLoss: boolean; motion: boolean; tamper: boolean; dropped: number; frames: number }[] {
    return [...this.channels.entries()].map(([channel, c]) => ({
      channel,
      state: c.runner.state,
      lastError: c.runner.lastError,
      gaps: c.runner.gaps.length,
      videoLoss: c.loss.lost,
      motion: c.analytics.motionActive,
      tamper: c.analytics.tamperActive,
      dropped: c.source?.stats.dropped ?? 0,
      frames: c.source?.stats.frames ?? 0,
    }));
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
