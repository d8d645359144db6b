// Worker thread body for X264WorkerEncoder: hosts X264Encoder instances and
// runs their libx264 calls synchronously, off the main event loop. Pictures
// are not copied: the main thread sends the address of each plane (its
// buffer stays referenced there until the reply) and this side reads it in
// place through koffi.view(), which the process-wide address space allows.
import { parentPort } from 'node:worker_threads';
import { koffi } from '../../libc/index.js';
import { EncoderError } from '../errors.js';
import type { CodedUnit, EncoderConfig } from '../types.js';
import { X264Encoder, type X264EncoderOptions } from './encoder.js';

export type WorkerRequest =
  | { op: 'create'; seq: number; id: number; options: X264EncoderOptions }
  | { op: 'configure'; seq: number; id: number; config: EncoderConfig }
  | {
      op: 'encode';
      seq: number;
      id: number;
      planes: { address: bigint; length: number }[];
      strides: number[];
      ptsUs: number;
      forceKeyframe: boolean;
    }
  | { op: 'flush'; seq: number; id: number }
  | { op: 'close'; seq: number; id: number };

/** Requests made in one turn of the main thread's event loop, in order. */
export type WorkerBatch = { op: 'batch'; requests: WorkerRequest[] };

export type WorkerBatchReply = { batch: WorkerReply[] };

export type WorkerReply =
  | { seq: number; ok: true; result: unknown; nativeMs: number }
  | { seq: number; ok: false; error: { name: string; message: string; code?: string; setting?: string } };

const encoders = new Map<number, X264Encoder>();
const port = parentPort;

function get(id: number): X264Encoder {
  const enc = encoders.get(id);
  if (!enc) throw new EncoderError('CLOSED', 'x264: encoder is closed');
  return enc;
}

function handle(m: WorkerRequest): { result: unknown; transfer: ArrayBuffer[]; enc?: X264Encoder } {
  switch (m.op) {
    case 'create':
      encoders.set(m.id, new X264Encoder({ ...m.options, calls: 'sync' }));
      return { result: null, transfer: [] };
    case 'configure': {
      const enc = get(m.id);
      return { result: enc.configureSync(m.config), transfer: [], enc };
    }
    case 'encode': {
      const enc = get(m.id);
      const k = koffi();
      const planes = m.planes.map((p) => new Uint8Array(k.view(p.address, p.length)));
      const units = enc.encodeSync({ planes, strides: m.strides }, m.ptsUs, { forceKeyframe: m.forceKeyframe });
      return { result: units, transfer: units.map((u: CodedUnit) => u.data.buffer as ArrayBuffer), enc };
    }
    case 'flush': {
      const enc = get(m.id);
      const units = enc.flushSync();
      return { result: units, transfer: units.map((u) => u.data.buffer as ArrayBuffer), enc };
    }
    case 'close':
      encoders.get(m.id)?.closeSync();
      encoders.delete(m.id);
      return { result: null, transfer: [] };
  }
}

function answer(m: WorkerRequest, transfer: ArrayBuffer[]): WorkerReply {
  try {
    const done = handle(m);
    transfer.push(...done.transfer);
    return { seq: m.seq, ok: true, result: done.result, nativeMs: done.enc ? done.enc.stats.nativeMs : 0 };
  } catch (err) {
    const e = err as EncoderError;
    return { seq: m.seq, ok: false, error: { name: e.name, message: e.message, code: e.code, setting: e.setting } };
  }
}

port?.on('message', (m: WorkerRequest | WorkerBatch) => {
  const transfer: ArrayBuffer[] = [];
  if (m.op === 'batch') {
    // One reply for the batch: one wake-up of the main thread instead of one per request.
    const batch = m.requests.map((r) => answer(r, transfer));
    port.postMessage({ batch } satisfies WorkerBatchReply, transfer);
  } else {
    port.postMessage(answer(m, transfer), transfer);
  }
});
