import type { Env } from './notify.js';

/**
 * How often to send WATCHDOG=1, in ms: half of $WATCHDOG_USEC as sd_watchdog_enabled(3)
 * recommends, or null when the service has no watchdog or the variables were
 * meant for another process (WATCHDOG_PID set and not ours, e.g. inherited by a child).
 */
export function watchdogIntervalMs(env: Env = process.env, pid: number = process.pid): number | null {
  const usecText = env.WATCHDOG_USEC;
  if (!usecText || !/^\d+$/.test(usecText)) return null;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec === 0) return null;

  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined && pidText !== '') {
    if (!/^\d+$/.test(pidText) || Number(pidText) !== pid) return null;
  }
  return Math.max(1, Math.floor(usec / 2000));
}
