// Shared between CaptureStream (main thread) and capture-worker.ts.
import type { BufferInfo } from './buffer-io.js';

/** Int32 cells of the shared control block. */
export const CTL_STOP = 0;
/** Bumped (and Atomics.notify'd) whenever the main thread releases a buffer or asks to stop. */
export const CTL_SIGNAL = 1;
/** First per-buffer state cell; buffer i is at CTL_STATE + i. */
export const CTL_STATE = 2;

/** The driver (or the worker) owns the buffer. */
export const BUF_QUEUED = 0;
/** The consumer on the main thread holds it: the worker must not queue it. */
export const BUF_HELD = 1;
/** Released by the consumer; the worker queues it again on its next turn. */
export const BUF_RELEASED = 2;

export interface WorkerConfig {
  fd: number;
  path: string;
  abi: string;
  type: number;
  memory: number;
  count: number;
  planeCount: number;
  events: boolean;
  pollTimeoutMs: number;
  control: SharedArrayBuffer;
  /** Module URL exporting createBackend(config): a stand-in driver for tests. */
  backend?: string;
  /** Anything the stand-in needs (structured-cloned; SharedArrayBuffers are shared). */
  backendData?: unknown;
}

export type WorkerMessage =
  | { t: 'started' }
  /** queuedAtUs: when the buffer that got this frame was queued (the backend's clock, see CaptureBackend.nowUs). */
  | { t: 'frame'; info: BufferInfo; queuedAtUs: number }
  | { t: 'event'; event: CaptureEventInfo }
  | { t: 'eos' }
  | { t: 'error'; message: string; code?: string; errno?: number }
  | { t: 'stopped'; queued: number };

export interface CaptureEventInfo {
  type: number;
  id: number;
  sequence: number;
  changes?: number;
}

/**
 * What the worker needs from a capture queue. The real one is V4L2 over the
 * device fd; tests substitute a simulated driver (config.backend names the
 * module, which exports createBackend(config)).
 */
export interface CaptureBackend {
  queue(index: number): void;
  /** Next done buffer; null if none; 'eos' after the last one. */
  dequeue(): BufferInfo | null | 'eos';
  streamOn(): void;
  streamOff(): void;
  /** poll(): revents (POLLIN, POLLPRI, POLLERR) or 0 on timeout. */
  wait(timeoutMs: number, events: boolean): number;
  dequeueEvents(): CaptureEventInfo[];
  /** Now on the clock of the buffers' timestamps (CLOCK_MONOTONIC for V4L2), in microseconds. */
  nowUs(): number;
  dispose(): void;
}
