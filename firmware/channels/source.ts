import type { EventEmitter } from 'node:events';
import type { Frame, StreamInfo, StreamKind } from '../media/types.js';

export interface FrameSourceEvents {
  info: [stream: StreamKind, info: StreamInfo];
  frame: [stream: StreamKind, frame: Frame];
  /** The source ended: undefined for a stop we asked for, an error otherwise. */
  close: [err: Error | undefined];
}

/**
 * Anything that produces a channel's frames: an RTSP camera (main or sub),
 * an analog capture + encoder pipeline. One instance is one connection
 * attempt; the channel makes a new one for every reconnect.
 */
export interface FrameSource extends EventEmitter<FrameSourceEvents> {
  /** Resolves once frames flow (or are about to); rejects with a classified error. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Why a source failed, as the channel state machine needs it. */
export type FailureKind = 'unauthorized' | 'unreachable' | 'protocol' | 'stalled';

export class SourceError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

/** Best-effort classification of errors from sources that do not throw SourceError. */
export function classify(err: unknown): FailureKind {
  if (err instanceof SourceError) return err.kind;
  const e = err as { name?: string; code?: string; status?: number; message?: string };
  if (e?.status === 401 || /unauthori[sz]ed/i.test(`${e?.name} ${e?.code}`)) return 'unauthorized';
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|timeout/i.test(`${e?.code} ${e?.name} ${e?.message}`)) return 'unreachable';
  return 'protocol';
}
