export { HardwareWatchdog, type CloseOptions } from './hardware-watchdog.js';
export { WDIOC_GETTIMEOUT, WDIOC_KEEPALIVE, WDIOC_SETTIMEOUT } from './ioctls.js';
