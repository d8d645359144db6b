// PollThread: poll(2) on a worker thread of our own instead of libuv's pool.
// pollAsync (koffi's .async) parks one pool thread per pending wait; four
// channels with two M2M encoders each would hold all of libuv's 4 threads and
// queue every fs, dns and crypto call of the process behind them. A PollThread
// waits for one fd at a time, so each M2mDevice takes one while it is open
// (the worker sleeps in Atomics.wait when idle and is unref'ed: it neither
// spins nor keeps the process alive). Closed devices give their thread back
// for the next device, so reopening an encoder does not start a new thread.
//
// Why one thread per device and not one for all: a thread blocked in poll()
// can only be woken by one of the fds it polls, and drivers/libc binds no
// eventfd or pipe to wake it for a new fd; one wait per thread needs no wake.
import { Worker } from 'node:worker_threads';
import { PT_EVENTS, PT_FD, PT_REQUEST, PT_STOP, PT_TIMEOUT, PT_WORDS } from './poll-protocol.js';

function workerUrl(): URL {
  // Under a TypeScript loader (tap) this module is .ts and so is its sibling.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./poll-worker${ext}`, import.meta.url);
}

interface Pending {
  fd: number;
  events: number;
  timeoutMs: number;
  resolve: (revents: number) => void;
  reject: (err: Error) => void;
}

const idle: PollThread[] = [];
let started = 0;

export class PollThread {
  readonly #worker: Worker;
  readonly #control: Int32Array;
  /** Waits in order; the head is the one the worker is doing. */
  readonly #queue: Pending[] = [];
  #failure: Error | undefined;
  #released = false;

  private constructor() {
    this.#control = new Int32Array(new SharedArrayBuffer(4 * PT_WORDS));
    this.#worker = new Worker(workerUrl(), { workerData: { control: this.#control.buffer } });
    started++;
    this.#worker.unref();
    this.#worker.on('message', (m: { revents: number }) => {
      this.#queue.shift()?.resolve(m.revents);
      this.#next();
    });
    this.#worker.on('error', (err) => this.#fail(new Error(`poll thread failed: ${err.message}`)));
    this.#worker.on('exit', (code) => this.#fail(new Error(`poll thread exited (code ${code})`)));
  }

  /** An idle thread, or a new one. */
  static acquire(): PollThread {
    const t = idle.pop() ?? new PollThread();
    t.#released = false;
    return t;
  }

  /** Threads started so far and threads idle now (tests). */
  static counts(): { started: number; idle: number } {
    return { started, idle: idle.length };
  }

  /**
   * Wait up to timeoutMs (0 .. 2^31-1; no 'forever') for `events` on fd;
   * resolves to revents, 0 on timeout. Waits on one thread run in turn.
   */
  wait(fd: number, events: number, timeoutMs: number): Promise<number> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#queue.push({ fd, events, timeoutMs: Math.min(0x7fffffff, Math.max(0, Math.round(timeoutMs))), resolve, reject });
      if (this.#queue.length === 1) this.#next();
    });
  }

  #next(): void {
    const head = this.#queue[0];
    if (!head) {
      // Nothing pending: the process may exit; a released thread becomes idle.
      this.#worker.unref();
      if (this.#released && !this.#failure && !idle.includes(this)) idle.push(this);
      return;
    }
    this.#worker.ref();
    const c = this.#control;
    Atomics.store(c, PT_FD, head.fd);
    Atomics.store(c, PT_EVENTS, head.events);
    Atomics.store(c, PT_TIMEOUT, head.timeoutMs);
    Atomics.add(c, PT_REQUEST, 1);
    Atomics.notify(c, PT_REQUEST);
  }

  #fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    const i = idle.indexOf(this);
    if (i >= 0) idle.splice(i, 1);
    for (const p of this.#queue.splice(0)) p.reject(err);
  }

  /**
   * The owner is done with it: once its last wait settles it is idle and
   * the next acquire() reuses it. The caller must not wait() on it again.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#queue.length === 0) this.#next();
  }

  /** Stop the worker (tests; a dying process does not need this). */
  async terminate(): Promise<void> {
    this.#released = true;
    const i = idle.indexOf(this);
    if (i >= 0) idle.splice(i, 1);
    this.#worker.ref();
    Atomics.store(this.#control, PT_STOP, 1);
    Atomics.add(this.#control, PT_REQUEST, 1);
    Atomics.notify(this.#control, PT_REQUEST);
    if (!this.#failure) await new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
  }
}

/** Stop every idle thread (tests). */
export async function stopIdlePollThreads(): Promise<void> {
  await Promise.all(idle.slice().map((t) => t.terminate()));
}
