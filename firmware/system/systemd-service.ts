import { SystemdNotifier } from '../../drivers/systemd/index.js';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';

/**
 * Talks to systemd when the firmware runs under it (Type=notify,
 * WatchdogSec=): READY once the services are up, STATUS with a one-line
 * summary, WATCHDOG pings from the event loop so a hung loop gets restarted,
 * STOPPING on shutdown. Without NOTIFY_SOCKET it does nothing.
 */
export class SystemdService implements Service {
  readonly name = 'systemd';
  private timer?: NodeJS.Timeout;
  private notifier?: SystemdNotifier;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
    private readonly summary: () => string,
  ) {}

  async start(): Promise<void> {
    this.notifier = new SystemdNotifier(this.env);
    if (!this.notifier.enabled) return;
    const interval = this.notifier.watchdogIntervalMs;
    if (interval !== null) {
      this.timer = setInterval(() => this.ping(), interval);
      this.log.info('systemd watchdog pings', { everyMs: interval });
    }
  }

  /** Called by the firmware once every service has had its first start attempt. */
  ready(): void {
    if (!this.notifier?.enabled) return;
    this.notifier.ready();
    this.notifier.status(this.summary());
  }

  private ping(): void {
    try {
      this.notifier?.watchdog();
      this.notifier?.status(this.summary());
    } catch (e) {
      this.log.warn('systemd notify failed', { error: (e as Error).message });
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      this.notifier?.stopping();
    } catch {
      // systemd may already be gone at shutdown; nothing to tell it then.
    }
  }
}
