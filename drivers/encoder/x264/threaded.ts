// X264WorkerEncoder: the x264 backend as the firmware uses it. Each encoder
// lives in one of a small pool of worker threads (one per core by default),
// where libx264 runs synchronously; the main thread only validates input,
// posts the plane addresses and receives the coded units (transferred, not
// copied). Why not koffi's .async: see README.md.
//
// A message between threads costs the main thread far more than the few
// fields it carries (~80 us of CPU a post on the bench VM, plus the wake-up
// of each reply), so encoders of one group (a channel's main and sub) share a
// worker, and the requests made in one turn of the event loop travel as one
// message and come back as one reply.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { koffi } from '../../libc/index.js';
import { EncoderError, type EncoderErrorCode } from '../errors.js';
import { avcC } from '../h264.js';
import { RAW_FORMATS, resolvePlanes } from '../raw.js';
import type {
  CodedUnit,
  EncodedStreamInfo,
  Encoder,
  EncoderConfig,
  EncodeOptions,
  ParameterSets,
  RawFormat,
  RawPicture,
} from '../types.js';
import type { X264EncoderOptions } from './encoder.js';
import type { WorkerBatch, WorkerBatchReply, WorkerReply, WorkerRequest } from './worker.js';

type Body = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'seq' | 'id'> : never) : never;
type Pending = { resolve: (v: any) => void; reject: (e: Error) => void; keep: unknown; slot: Slot; encoder?: X264WorkerEncoder };

interface Slot {
  worker: Worker;
  encoders: number;
  pending: number;
  /** Requests made this turn, posted together from a microtask. */
  outbox: WorkerRequest[];
  /** Groups placed on this worker, with their open encoders. */
  groups: Map<string, number>;
  /** Set when the worker died: its encoders fail from then on. */
  error?: Error;
}

const slots: Slot[] = [];
const pending = new Map<number, Pending>();
let seqCounter = 0;
let idCounter = 0;
let poolSize = Math.max(1, availableParallelism());

function workerUrl(): URL {
  // Under a TypeScript loader (tests) this module is worker.ts's sibling .ts.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./worker${ext}`, import.meta.url);
}

function fail(slot: Slot, err: Error): void {
  slot.error ??= err;
  for (const [seq, p] of pending) {
    if (p.slot === slot) {
      pending.delete(seq);
      p.reject(new EncoderError('BACKEND', `x264 worker failed: ${err.message}`));
    }
  }
  const i = slots.indexOf(slot);
  if (i >= 0) slots.splice(i, 1);
}

function startSlot(): Slot {
  const worker = new Worker(workerUrl());
  const slot: Slot = { worker, encoders: 0, pending: 0, outbox: [], groups: new Map() };
  const settle = (reply: WorkerReply) => {
    const p = pending.get(reply.seq);
    if (!p) return;
    pending.delete(reply.seq);
    if (--slot.pending === 0) worker.unref();
    if (reply.ok) {
      if (p.encoder) p.encoder.nativeMs = reply.nativeMs;
      p.resolve(reply.result);
    } else {
      const e = reply.error;
      p.reject(e.code ? new EncoderError(e.code as EncoderErrorCode, e.message, e.setting) : new Error(e.message));
    }
  };
  worker.on('message', (reply: WorkerReply | WorkerBatchReply) => {
    if ('batch' in reply) for (const r of reply.batch) settle(r);
    else settle(reply);
  });
  worker.on('error', (err) => fail(slot, err));
  worker.on('exit', (code) => fail(slot, new Error(`exited with code ${code}`)));
  worker.unref();
  slots.push(slot);
  return slot;
}

/** The worker of the encoder's group if it has one, else the least loaded, starting one while the pool is below its size. */
function pickSlot(group: string | undefined): Slot {
  const own = group === undefined ? undefined : slots.find((s) => s.groups.has(group));
  const slot = own ?? (slots.length < poolSize ? startSlot() : slots.reduce((a, b) => (b.groups.size < a.groups.size || (b.groups.size === a.groups.size && b.encoders < a.encoders) ? b : a)));
  if (group !== undefined) slot.groups.set(group, (slot.groups.get(group) ?? 0) + 1);
  slot.encoders++;
  return slot;
}

function flush(slot: Slot): void {
  const batch = slot.outbox;
  slot.outbox = [];
  if (slot.error || batch.length === 0) return;
  slot.worker.postMessage(batch.length === 1 ? batch[0] : ({ op: 'batch', requests: batch } satisfies WorkerBatch));
}

function request<T>(slot: Slot, message: WorkerRequest, keep?: unknown, encoder?: X264WorkerEncoder): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (slot.error) {
      reject(new EncoderError('BACKEND', `x264 worker failed: ${slot.error.message}`));
      return;
    }
    pending.set(message.seq, { resolve, reject, keep, slot, encoder });
    if (slot.pending++ === 0) slot.worker.ref();
    if (slot.outbox.push(message) === 1) queueMicrotask(() => flush(slot));
  });
}

/** Number of encoder worker threads (default: os.availableParallelism()). Affects workers started later. */
export function setEncoderPoolSize(size: number): void {
  if (!Number.isInteger(size) || size < 1) throw new EncoderError('BAD_CONFIG', `encoder pool size must be >= 1, got ${size}`, 'poolSize');
  poolSize = size;
}

/** Stops the pool's worker threads (encoders still open on them fail). */
export async function shutdownEncoderPool(): Promise<void> {
  const all = slots.splice(0);
  await Promise.all(all.map((s) => s.worker.terminate()));
}

/** Worker threads running now (for tests and the benchmark). */
export function encoderPoolThreads(): number {
  return slots.length;
}

export class X264WorkerEncoder implements Encoder {
  readonly backend = 'x264';
  /** Milliseconds this encoder spent inside x264_encoder_encode (reported by its worker). */
  nativeMs = 0;

  private readonly id = ++idCounter;
  private readonly options: X264EncoderOptions;
  private slot: Slot | undefined;
  private created: Promise<unknown> | undefined;
  private opened: { width: number; height: number; format: RawFormat; params: ParameterSets; config: Uint8Array } | undefined;
  private configuring = false;
  private closed = false;

  private readonly group: string | undefined;

  /** `group`: encoders of one group share a worker thread (the firmware groups a channel's main and sub). */
  constructor(options: Omit<X264EncoderOptions, 'calls'> & { group?: string } = {}) {
    this.options = { tune: options.tune };
    this.group = options.group;
  }

  private send<T>(message: Body, keep?: unknown): Promise<T> {
    if (!this.slot) {
      this.slot = pickSlot(this.group);
      this.created = request(this.slot, { op: 'create', seq: ++seqCounter, id: this.id, options: this.options });
    }
    return request<T>(this.slot, { ...message, seq: ++seqCounter, id: this.id } as WorkerRequest, keep, this);
  }

  private requireOpen(): NonNullable<X264WorkerEncoder['opened']> {
    if (this.closed) throw new EncoderError('CLOSED', 'x264: encoder is closed');
    if (!this.opened || this.configuring) throw new EncoderError('NOT_CONFIGURED', 'x264: configure() first (and await it)');
    return this.opened;
  }

  async configure(config: EncoderConfig): Promise<void> {
    if (this.closed) throw new EncoderError('CLOSED', 'x264: encoder is closed');
    this.configuring = true;
    try {
      const params = await this.send<ParameterSets>({ op: 'configure', config });
      await this.created;
      const format = RAW_FORMATS.includes(config.inputFormat) ? config.inputFormat : 'yuv420p';
      // The avcC record is fixed until the next configure(): built once, not per frame.
      this.opened = { width: config.width, height: config.height, format, params, config: avcC(params) };
    } finally {
      this.configuring = false;
    }
  }

  encode(raw: RawPicture, ptsUs: number, options?: EncodeOptions): Promise<CodedUnit[]> {
    try {
      const o = this.requireOpen();
      // Checked here so a bad picture fails before anything is posted.
      const { planes, strides } = resolvePlanes(raw, o.format, o.width, o.height);
      const k = koffi();
      return this.send(
        {
          op: 'encode',
          planes: planes.map((p) => ({ address: k.address(p), length: p.length })),
          strides,
          ptsUs,
          forceKeyframe: options?.forceKeyframe === true,
        },
        // Keeps the caller's memory alive until the worker has read it.
        planes,
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  flush(): Promise<CodedUnit[]> {
    try {
      this.requireOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.send({ op: 'flush' });
  }

  parameterSets(): ParameterSets {
    const o = this.requireOpen();
    return { sps: [...o.params.sps], pps: [...o.params.pps] };
  }

  streamInfo(): EncodedStreamInfo {
    const o = this.requireOpen();
    return { codec: 'h264', config: o.config, width: o.width, height: o.height };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slot = this.slot;
    if (!slot) return;
    // Requests to one worker are answered in order: this one comes after every encode already posted.
    await request(slot, { op: 'close', seq: ++seqCounter, id: this.id }).catch(() => undefined);
    slot.encoders--;
    if (this.group !== undefined) {
      const left = (slot.groups.get(this.group) ?? 1) - 1;
      if (left > 0) slot.groups.set(this.group, left);
      else slot.groups.delete(this.group);
    }
  }
}
