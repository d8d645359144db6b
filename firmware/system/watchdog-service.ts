import { HardwareWatchdog } from '../../drivers/watchdog/index.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';

/**
 * Keeps the board's hardware watchdog fed from the event loop: if the
 * firmware hangs or dies, the board resets. A clean stop disarms it (magic
 * close); a crash leaves it armed on purpose.
 */
export class WatchdogService implements Service {
  readonly name = 'watchdog';
  private wd?: HardwareWatchdog;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly device: string,
    private readonly log: Logger,
    private readonly timeoutS = 30,
  ) {}

  async start(): Promise<void> {
    const wd = new HardwareWatchdog().open(this.device);
    this.wd = wd;
    let timeout = this.timeoutS;
    try {
      timeout = wd.setTimeout(this.timeoutS);
    } catch (e) {
      // Some drivers refuse our value (older bcm2835_wdt caps it at 15 s): feed at a third of whatever they use.
      this.log.warn('watchdog timeout not settable; using the driver default', { error: (e as Error).message });
      try {
        timeout = wd.getTimeout();
      } catch {
        timeout = Math.min(timeout, 10); // unknown: assume a short one rather than risk a reset
      }
    }
    const every = Math.max(1000, Math.floor((timeout * 1000) / 3));
    wd.keepalive();
    this.timer = setInterval(() => {
      try {
        wd.keepalive();
      } catch (e) {
        this.log.error('watchdog keepalive failed', { error: (e as Error).message });
      }
    }, every);
    this.log.info('hardware watchdog armed', { device: this.device, timeoutS: timeout, feedEveryMs: every });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.wd?.close({ magic: true });
    this.wd = undefined;
  }
}
