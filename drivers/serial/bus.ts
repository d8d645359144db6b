// A half-duplex multi-drop bus (RS-485): one frame on the wire at a time,
// per-device queues served round-robin so one chatty device (a joystick
// streaming PTZ commands) cannot starve another on the same pair of wires.
import type { ByteLine } from './line.js';

// Structural subsets of firmware/core's Clock and Logger, so the driver does
// not depend on the firmware; both are satisfied by the real ones.
export interface BusClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}
export interface BusLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}
const timers: BusClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

/** Fed every chunk received while a request waits; returns the reply once complete. */
export interface ReplyParser<T> {
  push(chunk: Uint8Array): T | undefined;
}

/**
 * What happens when a device's queue is full:
 * - 'drop-oldest' (default): the oldest queued frame is discarded. Right for
 *   PTZ: the newest command describes what the operator wants now.
 * - 'reject-newest': the new frame is refused; for devices where every
 *   frame matters in order (e.g. a configuration sequence).
 */
export type OverflowPolicy = 'drop-oldest' | 'reject-newest';

export type BusErrorCode = 'ETIMEDOUT' | 'EDROPPED' | 'EQUEUEFULL' | 'ECLOSED' | 'EIO';

export class BusError extends Error {
  constructor(
    readonly code: BusErrorCode,
    readonly device: string,
    message: string,
  ) {
    super(`${device}: ${message}`);
    this.name = 'BusError';
  }
}

/** How a send() ended. Only 'sent' means the bytes went out. */
export type SendOutcome = 'sent' | 'superseded' | 'dropped' | 'rejected' | 'closed' | 'failed';

export interface BusDeviceOptions {
  /** Shown in logs and errors, e.g. "dome 3". */
  name: string;
  /** The device's bus address, for logs (frames carry it; the bus does not interpret it). */
  address?: number;
  /** Baud rate this device listens at; the line is switched before its frames. Default: the line's rate. */
  baudRate?: number;
  /** Frames that may wait for this device (default 16). */
  queueLimit?: number;
  overflow?: OverflowPolicy;
}

export interface SendOptions {
  /**
   * A queued, not yet sent frame with the same key is replaced in place by
   * this one (the replaced send resolves 'superseded'): the latest motion
   * command wins without growing the queue.
   */
  coalesce?: string;
}

export interface BusOptions {
  line: ByteLine;
  /** Times reply timeouts and gaps (firmware/core Clock fits); default: Node timers. */
  clock?: BusClock;
  log?: BusLog;
  /** Silence after every transaction, in ms (default 5): lets receivers see frame boundaries. */
  gapMs?: number;
}

interface Job {
  frame: Uint8Array;
  coalesce?: string;
  parser?: ReplyParser<unknown>;
  timeoutMs: number;
  done: (error: BusError | undefined, value?: unknown, outcome?: SendOutcome) => void;
}

export interface BusDeviceStats {
  sent: number;
  dropped: number;
  rejected: number;
  superseded: number;
  timeouts: number;
  failed: number;
}

export class BusDevice {
  readonly queue: Job[] = [];
  readonly stats: BusDeviceStats = { sent: 0, dropped: 0, rejected: 0, superseded: 0, timeouts: 0, failed: 0 };
  readonly name: string;
  readonly address: number | undefined;
  readonly baudRate: number;
  readonly queueLimit: number;
  readonly overflow: OverflowPolicy;

  constructor(
    private readonly bus: SerialBus,
    options: BusDeviceOptions,
    lineBaud: number,
  ) {
    this.name = options.name;
    this.address = options.address;
    this.baudRate = options.baudRate ?? lineBaud;
    this.queueLimit = options.queueLimit ?? 16;
    this.overflow = options.overflow ?? 'drop-oldest';
    if (!Number.isInteger(this.queueLimit) || this.queueLimit < 1) {
      throw new RangeError(`${this.name}: queueLimit must be a positive integer`);
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Queue a frame that expects no reply. Never rejects: see SendOutcome. */
  send(frame: Uint8Array, options: SendOptions = {}): Promise<SendOutcome> {
    return new Promise((resolve) => {
      const job: Job = {
        frame,
        coalesce: options.coalesce,
        timeoutMs: 0,
        done: (_e, _v, outcome) => resolve(outcome ?? 'failed'),
      };
      this.bus.enqueue(this, job);
    });
  }

  /**
   * Queue a frame and read its reply: bytes received after the frame is
   * written are fed to `parser` until it returns a value or `timeoutMs` passes.
   * Rejects with BusError (ETIMEDOUT, EDROPPED, EQUEUEFULL, ECLOSED, EIO).
   */
  request<T>(frame: Uint8Array, parser: ReplyParser<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        frame,
        parser,
        timeoutMs,
        done: (e, v) => (e ? reject(e) : resolve(v as T)),
      };
      this.bus.enqueue(this, job);
    });
  }
}

export class SerialBus {
  readonly #line: ByteLine;
  readonly #clock: BusClock;
  readonly #log: BusLog | undefined;
  readonly #gapMs: number;
  readonly #devices: BusDevice[] = [];
  #next = 0;
  #pumping = false;
  #closed = false;
  #unsubscribe: (() => void) | undefined;
  /** Receives bytes while a request is in flight. */
  #receiver: ((chunk: Buffer) => void) | undefined;
  /** Bytes that arrived with no request waiting (a chatty or misaddressed device). */
  strayBytes = 0;

  constructor(options: BusOptions) {
    this.#line = options.line;
    this.#clock = options.clock ?? timers;
    this.#log = options.log;
    this.#gapMs = options.gapMs ?? 5;
  }

  device(options: BusDeviceOptions): BusDevice {
    if (this.#closed) throw new BusError('ECLOSED', options.name, 'bus is closed');
    this.#unsubscribe ??= this.#line.onData((chunk) => {
      if (this.#receiver) this.#receiver(chunk);
      else this.strayBytes += chunk.length;
    });
    const device = new BusDevice(this, options, this.#line.baudRate);
    this.#devices.push(device);
    return device;
  }

  /** @internal used by BusDevice */
  enqueue(device: BusDevice, job: Job): void {
    if (this.#closed) return job.done(new BusError('ECLOSED', device.name, 'bus is closed'), undefined, 'closed');
    if (job.coalesce !== undefined) {
      const i = device.queue.findIndex((j) => j.coalesce === job.coalesce);
      if (i >= 0) {
        const old = device.queue[i]!;
        device.queue[i] = job;
        device.stats.superseded++;
        old.done(new BusError('EDROPPED', device.name, 'superseded by a newer frame'), undefined, 'superseded');
        return;
      }
    }
    if (device.queue.length >= device.queueLimit) {
      if (device.overflow === 'reject-newest') {
        device.stats.rejected++;
        return job.done(
          new BusError('EQUEUEFULL', device.name, `queue full (${device.queueLimit} frames waiting)`),
          undefined,
          'rejected',
        );
      }
      const oldest = device.queue.shift()!;
      device.stats.dropped++;
      oldest.done(new BusError('EDROPPED', device.name, 'dropped: queue full, newer frames waiting'), undefined, 'dropped');
    }
    device.queue.push(job);
    void this.#pump();
  }

  /** Rejects everything queued and detaches from the line (the line itself is the caller's to close). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    for (const d of this.#devices) {
      for (const job of d.queue.splice(0)) job.done(new BusError('ECLOSED', d.name, 'bus closed'), undefined, 'closed');
    }
  }

  #pick(): [BusDevice, Job] | undefined {
    const n = this.#devices.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#next + k) % n;
      const d = this.#devices[i]!;
      const job = d.queue.shift();
      if (job) {
        // Start after this device next time: strict round-robin between devices with work.
        this.#next = (i + 1) % n;
        return [d, job];
      }
    }
    return undefined;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (let picked = this.#pick(); picked && !this.#closed; picked = this.#pick()) {
        await this.#transact(...picked);
        if (this.#gapMs > 0) await this.#sleep(this.#gapMs);
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #transact(device: BusDevice, job: Job): Promise<void> {
    let reply: Promise<unknown> | undefined;
    let cancel: (() => void) | undefined;
    try {
      await this.#line.setBaudRate(device.baudRate);
      if (job.parser) {
        [reply, cancel] = this.#awaitReply(device, job);
        // A timeout can fire while write() is still draining; it is awaited below.
        reply.catch(() => {});
      }
      await this.#line.write(job.frame);
    } catch (e) {
      cancel?.();
      device.stats.failed++;
      const message = e instanceof Error ? e.message : String(e);
      this.#log?.warn('serial write failed', { device: device.name, address: device.address, error: message });
      return job.done(new BusError('EIO', device.name, `write failed: ${message}`), undefined, 'failed');
    }
    device.stats.sent++;
    if (!reply) return job.done(undefined, undefined, 'sent');
    try {
      job.done(undefined, await reply, 'sent');
    } catch (e) {
      device.stats.timeouts++;
      this.#log?.warn('no reply', { device: device.name, address: device.address, timeoutMs: job.timeoutMs });
      job.done(e as BusError, undefined, 'sent');
    }
  }

  // Listening starts before the write: a fast device can answer before write() resolves.
  #awaitReply(device: BusDevice, job: Job): [Promise<unknown>, () => void] {
    let timer: unknown;
    let cancel = (): void => {};
    const promise = new Promise<unknown>((resolve, reject) => {
      const finish = (): void => {
        this.#receiver = undefined;
        if (timer !== undefined) this.#clock.clearTimeout(timer);
      };
      cancel = finish;
      this.#receiver = (chunk) => {
        let value: unknown;
        try {
          value = job.parser!.push(chunk);
        } catch (e) {
          // A parser that throws on garbage must not wedge the bus; treat as no reply yet.
          this.#log?.debug('reply parser error', { device: device.name, error: String(e) });
          return;
        }
        if (value !== undefined) {
          finish();
          resolve(value);
        }
      };
      timer = this.#clock.setTimeout(() => {
        finish();
        reject(new BusError('ETIMEDOUT', device.name, `no reply within ${job.timeoutMs} ms`));
      }, job.timeoutMs);
    });
    return [promise, cancel];
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#clock.setTimeout(resolve, ms));
  }
}
