/**
 * OnvifEvents: one camera's events on the firmware's bus. A pull-point
 * subscription is created, long-polled with PullMessages, renewed, and
 * created again whenever the camera loses it (reboot, expiry, network).
 * Motion, tamper and digital inputs become the bus's `motion`, `tamper`
 * and `alarm` events, published on change only.
 */
import type { EventBus } from '../core/bus.js';
import { systemClock, type Clock, type Timer } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import type { OnvifCamera } from './camera.js';
import { toOnvifError, type OnvifError } from './errors.js';
import { meaningOf, notificationsOf, type OnvifNotification } from './notifications.js';

declare module '../core/bus.js' {
  interface BusEvents {
    /** Every notification an ONVIF camera sent (any topic), for rules on topics the firmware has no event of its own for. */
    onvifEvent: { channel: string; notification: OnvifNotification; at: number };
    /** The state of a channel's ONVIF event subscription: `subscribed`, or `lost` with why. */
    onvifSubscription: { channel: string; state: 'subscribed' | 'lost'; at: number; detail?: string };
  }
}

/** An empty PullMessages answer sooner than this is a camera ignoring the long-poll timeout. */
const MIN_EMPTY_PULL_MS = 1000;

export interface OnvifEventsOptions {
  /** The channel the camera is (motion/tamper events carry it; alarms carry it as `source`). */
  channel: string;
  camera: OnvifCamera;
  bus: EventBus;
  clock?: Clock;
  log?: Logger;
  /** Renew the subscription when this long has passed since the last renewal. Default 30 s (subscriptions ask for 2 min). */
  renewEveryMs?: number;
  /** First wait after a failure; doubles up to maxRetryMs. Defaults 1 s and 30 s. */
  retryMs?: number;
  maxRetryMs?: number;
  name?: string;
}

export class OnvifEvents implements Service {
  readonly name: string;
  private run = 0;
  private wake?: { timer: Timer; resolve: () => void };
  private readonly state = new Map<string, boolean>();
  private subscribed = false;
  /** Subscriptions created so far (the first one and every re-creation). */
  subscriptions = 0;
  /** Notifications skipped as unreadable. */
  skipped = 0;

  constructor(private readonly o: OnvifEventsOptions) {
    this.name = o.name ?? `onvif-events-${o.channel}`;
  }

  private get clock(): Clock {
    return this.o.clock ?? systemClock;
  }

  /** Starts the subscription loop and returns at once: a camera that is down now is retried, not a failed start. */
  async start(): Promise<void> {
    const run = ++this.run;
    void this.loop(run);
  }

  async stop(): Promise<void> {
    this.run++;
    this.cancelWait();
    if (!this.subscribed) return;
    this.subscribed = false;
    // Best effort: lets the camera free the pull point and end the pending PullMessages.
    try {
      const cam = await this.o.camera.api();
      await this.o.camera.call('Unsubscribe', () => cam.unsubscribe());
    } catch {
      /* the camera may be gone; its subscription then expires by itself */
    }
  }

  private async loop(run: number): Promise<void> {
    let delay = this.o.retryMs ?? 1000;
    while (run === this.run) {
      try {
        const cam = await this.o.camera.api();
        if (run !== this.run) return;
        await this.o.camera.call('CreatePullPointSubscription', () => cam.createPullPointSubscription());
        if (run !== this.run) return;
        this.subscriptions++;
        this.subscribed = true;
        this.o.log?.info('onvif events subscribed', { channel: this.o.channel, camera: this.o.camera.label });
        this.o.bus.emit('onvifSubscription', { channel: this.o.channel, state: 'subscribed', at: this.clock.now() });
        let renewed = this.clock.monotonic();
        for (;;) {
          // Long poll: the camera answers when something happens or after the package's 1 min timeout.
          const began = this.clock.monotonic();
          const r = await this.o.camera.call('PullMessages', () => cam.pullMessages({ messageLimit: 32 }));
          if (run !== this.run) return;
          const got = this.handle(r);
          // Some cameras ignore the pull Timeout and answer empty at once: do not spin on them.
          const spent = this.clock.monotonic() - began;
          if (!got && spent < MIN_EMPTY_PULL_MS) await this.wait(MIN_EMPTY_PULL_MS - spent);
          if (run !== this.run) return;
          delay = this.o.retryMs ?? 1000;
          if (this.clock.monotonic() - renewed >= (this.o.renewEveryMs ?? 30_000)) {
            await this.o.camera.call('Renew', () => cam.renew({}));
            renewed = this.clock.monotonic();
          }
        }
      } catch (e) {
        if (run !== this.run) return;
        const err = toOnvifError(e, 'events');
        this.lost(err);
        await this.wait(delay);
        delay = Math.min(delay * 2, this.o.maxRetryMs ?? 30_000);
      }
    }
  }

  private lost(err: OnvifError): void {
    this.subscribed = false;
    // A camera that went away may come back rebooted, with a new clock: start a new session.
    if (err.code === 'unreachable' || err.code === 'unauthorized') this.o.camera.reset();
    this.o.log?.warn('onvif events subscription lost', { channel: this.o.channel, camera: this.o.camera.label, code: err.code, error: err.message });
    this.o.bus.emit('onvifSubscription', { channel: this.o.channel, state: 'lost', at: this.clock.now(), detail: err.message });
  }

  /** Publishes what a pull brought; returns how many notifications it had. */
  private handle(response: unknown): number {
    const { notifications, skipped } = notificationsOf(response);
    if (skipped) {
      this.skipped += skipped;
      this.o.log?.warn('onvif notifications skipped', { channel: this.o.channel, skipped });
    }
    for (const n of notifications) this.publish(n);
    return notifications.length + skipped;
  }

  /** Exposed for tests of the mapping: one notification onto the bus. */
  publish(n: OnvifNotification): void {
    const at = this.clock.now();
    const channel = this.o.channel;
    this.o.bus.emit('onvifEvent', { channel, notification: n, at });
    const m = meaningOf(n);
    if (!m) return;
    const key = m.kind === 'input' ? `input:${m.input}` : m.kind;
    // Unknown counts as inactive: the Initialized "false" sent on subscribing is no news.
    if ((this.state.get(key) ?? false) === m.active) return;
    this.state.set(key, m.active);
    if (m.kind === 'motion') this.o.bus.emit('motion', { channel, active: m.active, at });
    else if (m.kind === 'tamper') this.o.bus.emit('tamper', { channel, active: m.active, at });
    // Named "<channel>:<token>" as rules write them: tokens such as DigitalInput_1 repeat on every camera.
    else this.o.bus.emit('alarm', { source: `onvif:${channel}`, input: `${channel}:${m.input}`, active: m.active, at });
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = { timer, resolve };
    });
  }

  private cancelWait(): void {
    const w = this.wake;
    this.wake = undefined;
    if (w) {
      this.clock.clearTimeout(w.timer);
      w.resolve();
    }
  }
}
