// CaptureStream: frames from a V4L2 capture queue without blocking the event
// loop. A worker thread polls and dequeues; the main thread gets each frame as
// views over the driver's mmap()ed buffer (zero copies) and must release() it.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { BufferInfo } from './buffer-io.js';
import {
  BUF_HELD,
  BUF_RELEASED,
  CTL_SIGNAL,
  CTL_STATE,
  CTL_STOP,
  type CaptureEventInfo,
  type WorkerConfig,
  type WorkerMessage,
} from './capture-protocol.js';
import {
  V4L2_BUF_FLAG_ERROR,
  V4L2_BUF_FLAG_TIMESTAMP_MASK,
  V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC,
  V4L2_BUF_TYPE_VIDEO_CAPTURE,
  V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
  V4L2_CAP_VIDEO_CAPTURE_MPLANE,
  V4L2_MEMORY_MMAP,
} from './constants.js';
import type { V4l2Device } from './device.js';
import type { MappedBuffer } from './queue.js';

/** What CaptureStream needs of a BufferQueue (tests supply a simulated one). */
export interface CaptureSource {
  readonly count: number;
  readonly buffers: MappedBuffer[];
  pin(index: number): void;
  unpin(index: number): void;
  dispose(): void;
}

export interface CaptureOptions {
  /** Buffers to request (the driver may grant more or fewer). Default 4. */
  buffers?: number;
  /** Buffer type; default VIDEO_CAPTURE_MPLANE if the node has it, else VIDEO_CAPTURE. */
  type?: number;
  /** Also dequeue V4L2 events (subscribe first) and emit them as 'event'. */
  events?: boolean;
  /** How long the worker blocks in poll() before checking for stop. Default 100 ms. */
  pollTimeoutMs?: number;
}

export interface Frame extends BufferInfo {
  /**
   * One view per plane over the capture buffer, from data_offset for
   * bytesused bytes. Not a copy: valid only until release().
   */
  data: Buffer[];
  /** Frames the driver dropped just before this one (sequence gap). */
  droppedBefore: number;
  /** Give the buffer back so the driver can fill it again. Idempotent. */
  release(): void;
}

export interface CaptureStats {
  frames: number;
  /** Sum of sequence gaps: every frame lost, whoever lost it. */
  dropped: number;
  /**
   * The part of `dropped` that is ours: frames that fell due while no buffer
   * was queued with the driver (the consumer held them all, or this process
   * was too slow to queue them again), or whose cause the timestamps cannot
   * tell. dropped - starved were lost by the driver with a buffer waiting
   * (on vivid: its thread ran late).
   */
  starved: number;
  /** Buffers that came back with V4L2_BUF_FLAG_ERROR. */
  errors: number;
  /** Frames handed out and not yet released. */
  held: number;
  lastSequence: number | undefined;
}

export interface CaptureStreamEvents {
  frame: [Frame];
  event: [CaptureEventInfo];
  error: [Error];
  end: [];
}

function workerUrl(): URL {
  // Under a TypeScript loader (tap) this module is .ts and so is its sibling.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./capture-worker${ext}`, import.meta.url);
}

export class CaptureStream extends EventEmitter<CaptureStreamEvents> {
  readonly queue: CaptureSource;
  readonly stats: CaptureStats = { frames: 0, dropped: 0, starved: 0, errors: 0, held: 0, lastSequence: undefined };
  #lastTimestampUs: number | undefined;
  #worker: Worker;
  #control: Int32Array;
  #running = true;
  #ended: Promise<void>;

  private constructor(queue: CaptureSource, worker: Worker, control: Int32Array) {
    super();
    this.queue = queue;
    this.#worker = worker;
    this.#control = control;
    this.#ended = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: WorkerMessage) => this.#onMessage(m));
    worker.on('error', (err) => {
      if (this.listenerCount('error')) this.emit('error', err);
    });
    void this.#ended.then(() => this.#finish());
  }

  /**
   * Request and map buffers on `device`, start the worker, STREAMON. Resolves
   * once streaming; rejects with the driver's error (e.g. EBUSY, EINVAL).
   */
  static async start(device: V4l2Device, options: CaptureOptions = {}): Promise<CaptureStream> {
    const type =
      options.type ??
      (device.querycap().deviceCaps & V4L2_CAP_VIDEO_CAPTURE_MPLANE
        ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE
        : V4L2_BUF_TYPE_VIDEO_CAPTURE);
    const queue = device.queue(type, V4L2_MEMORY_MMAP);
    let count: number;
    try {
      count = queue.request(options.buffers ?? 4);
      if (count === 0) throw new Error(`${device.path}: the driver granted no buffers`);
      queue.map();
    } catch (err) {
      queue.dispose();
      throw err;
    }
    return CaptureStream.#launch(queue, {
      fd: device.fd,
      path: device.path,
      abi: queue.io.layout.abi,
      type,
      memory: V4L2_MEMORY_MMAP,
      count,
      planeCount: queue.io.planeCount ?? 1,
      events: options.events ?? false,
      pollTimeoutMs: options.pollTimeoutMs ?? 100,
    });
  }

  /**
   * For tests: run the worker loop against a stand-in driver. `backend` is a
   * module URL exporting createBackend(config); `source` provides the
   * "mapped" buffers the stand-in fills.
   */
  static startWithBackend(
    source: CaptureSource,
    backend: string,
    backendData: unknown,
    options: Omit<CaptureOptions, 'type' | 'buffers'> = {},
  ): Promise<CaptureStream> {
    return CaptureStream.#launch(source, {
      fd: -1,
      path: 'simulated',
      abi: 'x64',
      type: V4L2_BUF_TYPE_VIDEO_CAPTURE,
      memory: V4L2_MEMORY_MMAP,
      count: source.count,
      planeCount: 1,
      events: options.events ?? false,
      pollTimeoutMs: options.pollTimeoutMs ?? 100,
      backend,
      backendData,
    });
  }

  static async #launch(source: CaptureSource, base: Omit<WorkerConfig, 'control'>): Promise<CaptureStream> {
    const control = new Int32Array(new SharedArrayBuffer(4 * (CTL_STATE + base.count)));
    const config: WorkerConfig = { ...base, control: control.buffer as SharedArrayBuffer };
    let worker: Worker;
    try {
      worker = new Worker(workerUrl(), { workerData: config });
    } catch (err) {
      source.dispose();
      throw err;
    }
    const stream = new CaptureStream(source, worker, control);
    try {
      await new Promise<void>((resolve, reject) => {
        const onMessage = (m: WorkerMessage) => {
          if (m.t === 'started') done(null);
          else if (m.t === 'error') done(Object.assign(new Error(m.message), { code: m.code, errno: m.errno }));
        };
        const onExit = () => done(new Error(`capture worker for ${base.path} exited before streaming`));
        const onError = (err: Error) => done(err);
        const done = (err: Error | null) => {
          worker.off('message', onMessage);
          worker.off('exit', onExit);
          worker.off('error', onError);
          if (err) reject(err);
          else resolve();
        };
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.once('exit', onExit);
      });
    } catch (err) {
      await stream.stop();
      throw err;
    }
    return stream;
  }

  get running(): boolean {
    return this.#running;
  }

  #signal(): void {
    Atomics.add(this.#control, CTL_SIGNAL, 1);
    Atomics.notify(this.#control, CTL_SIGNAL);
  }

  #onMessage(m: WorkerMessage): void {
    switch (m.t) {
      case 'frame':
        this.#onFrame(m.info, m.queuedAtUs);
        return;
      case 'event':
        this.emit('event', m.event);
        return;
      case 'error':
        if (this.listenerCount('error')) this.emit('error', Object.assign(new Error(m.message), { code: m.code, errno: m.errno }));
        return;
      default:
        return;
    }
  }

  /**
   * How many of the `gap` frames lost just before `info` are ours. Drivers
   * fill queued buffers in order, so
   * the buffer that got this frame was the next one in line: if it was queued
   * before a lost frame was due, the driver had somewhere to put that frame
   * and lost it on its own; if not, the queue was empty and the loss is ours.
   */
  #starvedIn(info: BufferInfo, gap: number, queuedAtUs: number): number {
    const prev = this.#lastTimestampUs;
    const monotonic = (info.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) === V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
    if (!monotonic || prev === undefined || info.timestampUs <= prev) return gap; // cannot tell: count it against us
    const period = (info.timestampUs - prev) / (gap + 1);
    let starved = 0;
    for (let j = 1; j <= gap; j++) if (queuedAtUs > prev + j * period) starved++;
    return starved;
  }

  #onFrame(info: BufferInfo, queuedAtUs: number): void {
    const { index } = info;
    const s = this.stats;
    const droppedBefore = s.lastSequence === undefined || info.sequence <= s.lastSequence ? 0 : info.sequence - s.lastSequence - 1;
    s.frames++;
    s.dropped += droppedBefore;
    if (droppedBefore > 0) s.starved += this.#starvedIn(info, droppedBefore, queuedAtUs);
    s.lastSequence = info.sequence;
    this.#lastTimestampUs = info.timestampUs;
    if (info.flags & V4L2_BUF_FLAG_ERROR) s.errors++;
    s.held++;
    this.queue.pin(index);
    const mapped = this.queue.buffers[index];
    const data = info.planes.map((p, i) =>
      mapped.planes[i].data.subarray(p.dataOffset, p.dataOffset + Math.max(0, p.bytesused - p.dataOffset)),
    );
    let released = false;
    const frame: Frame = {
      ...info,
      data,
      droppedBefore,
      release: () => {
        if (released) return;
        released = true;
        s.held--;
        if (this.#running) {
          Atomics.compareExchange(this.#control, CTL_STATE + index, BUF_HELD, BUF_RELEASED);
          this.#signal();
        } else {
          this.queue.unpin(index);
        }
      },
    };
    if (this.listenerCount('frame') === 0) frame.release();
    else this.emit('frame', frame);
  }

  /** The next frame, for simple consumers and tests (the caller releases it). */
  nextFrame(): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const onFrame = (f: Frame) => {
        this.off('error', onError);
        resolve(f);
      };
      const onError = (e: Error) => {
        this.off('frame', onFrame);
        reject(e);
      };
      this.once('frame', onFrame);
      this.once('error', onError);
    });
  }

  #finish(): void {
    if (!this.#running && this.#finished) return;
    this.#running = false;
    this.#finished = true;
    // Unpin buffers the worker owned; held frames stay mapped until released.
    for (let i = 0; i < this.queue.count; i++) {
      if (Atomics.load(this.#control, CTL_STATE + i) !== BUF_HELD) this.queue.unpin(i);
    }
    this.queue.dispose();
    this.emit('end');
  }

  #finished = false;

  /**
   * Stop the worker (it does STREAMOFF) and free the buffers; resolves when
   * the worker has exited. Held frames stay readable until released.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.#running) {
      Atomics.store(this.#control, CTL_STOP, 1);
      this.#signal();
    }
    const timer = setTimeout(() => void this.#worker.terminate(), timeoutMs);
    try {
      await this.#ended;
    } finally {
      clearTimeout(timer);
    }
  }
}
