// Messages between EventWatcher (main thread) and watch-worker.ts.
import type { LineEvent } from './struct.js';

/** Int32 cells of the shared control block. */
export const CTL_STOP = 0;
/** Bumped (and notified) after each message to the worker, to wake it from an idle wait. */
export const CTL_SIGNAL = 1;

export type ToWorker = { t: 'add'; id: number; fd: number; path: string } | { t: 'remove'; id: number };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'events'; id: number; events: LineEvent[] }
  /** The fd failed (the chip was removed: POLLERR/POLLHUP, or read() failed); it is no longer watched. */
  | { t: 'error'; id: number; message: string; code?: string }
  /** The worker no longer touches the fd: the owner may close it now. */
  | { t: 'removed'; id: number };

export interface WatchWorkerData {
  control: SharedArrayBuffer;
  pollTimeoutMs: number;
}
