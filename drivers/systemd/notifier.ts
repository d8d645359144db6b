import { sdNotify, type Env } from './notify.js';
import { watchdogIntervalMs } from './watchdog.js';

/** The handful of notifications a long-running service sends. Each returns sdNotify()'s result. */
export class SystemdNotifier {
  readonly #env: Env;

  constructor(env: Env = process.env) {
    this.#env = env;
  }

  /** True when a notify socket is configured. */
  get enabled(): boolean {
    return Boolean(this.#env.NOTIFY_SOCKET);
  }

  /** See watchdogIntervalMs(); null means no WATCHDOG=1 pings are expected. */
  get watchdogIntervalMs(): number | null {
    return watchdogIntervalMs(this.#env);
  }

  notify(state: string): boolean {
    return sdNotify(state, this.#env);
  }

  ready(): boolean {
    return this.notify('READY=1');
  }

  stopping(): boolean {
    return this.notify('STOPPING=1');
  }

  /** Free-form text shown by `systemctl status`. */
  status(text: string): boolean {
    // A newline would start a new assignment and let the text forge other fields.
    return this.notify(`STATUS=${text.replace(/[\r\n]+/g, ' ')}`);
  }

  watchdog(): boolean {
    return this.notify('WATCHDOG=1');
  }
}
