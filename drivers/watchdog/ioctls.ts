// include/uapi/linux/watchdog.h
import { IOR, IOWR } from '../libc/index.js';

const INT = 4;

export const WDIOC_KEEPALIVE = IOR('W', 5, INT);
export const WDIOC_SETTIMEOUT = IOWR('W', 6, INT);
export const WDIOC_GETTIMEOUT = IOR('W', 7, INT);
