// Edge events without blocking the event loop: EventWatcher runs one worker
// thread (watch-worker.ts) that poll()s every watched request's fd. See the
// worker for why a thread and not koffi's async calls.
import { Worker } from 'node:worker_threads';
import type { LineEvent } from './struct.js';
import { CTL_SIGNAL, CTL_STOP, type FromWorker, type ToWorker, type WatchWorkerData } from './watch-protocol.js';

export interface WatchHandlers {
  events(events: LineEvent[]): void;
  /** The fd failed for good (the chip was removed); the watch has ended. */
  error(err: Error & { code?: string }): void;
}

/** Anything with an fd that yields gpio_v2_line_event records: a LineRequest. */
export interface Watchable {
  readonly fd: number;
  readonly chip: string;
}

function workerUrl(): URL {
  // Under a TypeScript loader (tap) this module is .ts and so is its sibling.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./watch-worker${ext}`, import.meta.url);
}

export class EventWatcher {
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  #control = new Int32Array(new SharedArrayBuffer(8));
  #nextId = 1;
  #handlers = new Map<number, WatchHandlers>();
  #removing = new Map<number, () => void>();

  constructor(private readonly pollTimeoutMs = 100) {}

  /** Number of active watches. */
  get size(): number {
    return this.#handlers.size;
  }

  private start(): Promise<void> {
    if (this.#ready) return this.#ready;
    Atomics.store(this.#control, CTL_STOP, 0);
    const data: WatchWorkerData = { control: this.#control.buffer as SharedArrayBuffer, pollTimeoutMs: this.pollTimeoutMs };
    const worker = new Worker(workerUrl(), { workerData: data });
    this.#worker = worker;
    this.#ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.t === 'ready') resolve();
        else this.onMessage(m);
      });
      worker.once('error', (err) => {
        reject(err);
        this.failAll(err);
      });
      worker.once('exit', (code) => {
        reject(new Error(`gpio event worker exited (code ${code})`));
        if (this.#worker === worker) this.failAll(new Error(`gpio event worker exited (code ${code})`));
      });
    });
    return this.#ready;
  }

  private failAll(err: Error): void {
    this.#worker = undefined;
    this.#ready = undefined;
    const handlers = [...this.#handlers.values()];
    this.#handlers.clear();
    for (const done of this.#removing.values()) done();
    this.#removing.clear();
    for (const h of handlers) h.error(err);
  }

  private send(m: ToWorker): void {
    this.#worker!.postMessage(m);
    Atomics.add(this.#control, CTL_SIGNAL, 1);
    Atomics.notify(this.#control, CTL_SIGNAL);
  }

  private onMessage(m: Exclude<FromWorker, { t: 'ready' }>): void {
    if (m.t === 'events') this.#handlers.get(m.id)?.events(m.events);
    else if (m.t === 'error') {
      const h = this.#handlers.get(m.id);
      this.#handlers.delete(m.id);
      h?.error(Object.assign(new Error(m.message), { code: m.code }));
      this.#removing.get(m.id)?.();
    } else {
      this.#removing.get(m.id)?.();
    }
  }

  /**
   * Deliver `source`'s edge events to `handlers` until the promise of the
   * returned function resolves (events read before then are all delivered). Close the request only after that: the worker may still be
   * polling its fd until then.
   */
  async watch(source: Watchable, handlers: WatchHandlers): Promise<() => Promise<void>> {
    if (source.fd < 0) throw new Error(`line request on ${source.chip} is closed`);
    await this.start();
    const id = this.#nextId++;
    this.#handlers.set(id, handlers);
    this.send({ t: 'add', id, fd: source.fd, path: source.chip });
    let stopped: Promise<void> | undefined;
    return () => {
      stopped ??= new Promise<void>((resolve) => {
        if (!this.#handlers.has(id) || !this.#worker) return resolve();
        // Events the worker read before it saw the remove still arrive (the
        // port keeps order), so the handlers stay until the acknowledgement.
        this.#removing.set(id, () => {
          this.#removing.delete(id);
          this.#handlers.delete(id);
          resolve();
        });
        this.send({ t: 'remove', id });
      });
      return stopped;
    };
  }

  /** Stops the worker (every watch ends without an error). */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    this.#ready = undefined;
    this.#handlers.clear();
    for (const done of this.#removing.values()) done();
    this.#removing.clear();
    Atomics.store(this.#control, CTL_STOP, 1);
    Atomics.add(this.#control, CTL_SIGNAL, 1);
    Atomics.notify(this.#control, CTL_SIGNAL);
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
    });
  }
}
