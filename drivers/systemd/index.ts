export { sdNotify, type Env } from './notify.js';
export { watchdogIntervalMs } from './watchdog.js';
export { SystemdNotifier } from './notifier.js';
