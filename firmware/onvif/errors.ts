/**
 * Why an ONVIF call failed, in the words the channel state machine and the
 * web page use. Everything the `onvif` package or the network throws is
 * turned into one of these before it leaves this folder.
 */

export type OnvifErrorCode =
  /** No answer: refused, unroutable, timed out. */
  | 'unreachable'
  /** The camera refused the credentials (SOAP fault ter:NotAuthorized, HTTP 401). */
  | 'unauthorized'
  /** Something answers HTTP there, but not SOAP/ONVIF. */
  | 'not-onvif'
  /** The camera answered, but with something we cannot use (a fault, a malformed reply). */
  | 'bad-reply'
  /** The camera has no such service or feature (no PTZ, no events, no sub stream). */
  | 'unsupported';

export class OnvifError extends Error {
  constructor(
    readonly code: OnvifErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OnvifError';
  }
}

const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED', 'EADDRNOTAVAIL']);

/** String(x) that cannot throw (objects with a broken toString, null-prototype objects). */
function safeString(x: unknown): string {
  try {
    return String(x);
  } catch {
    return Object.prototype.toString.call(x);
  }
}

/** Maps whatever the onvif package or the socket threw to an OnvifError; `what` says which call failed. */
export function toOnvifError(err: unknown, what: string): OnvifError {
  if (err instanceof OnvifError) return err;
  // The onvif package rejects with an array of errors from discovery, with strings now and then.
  const e = Array.isArray(err) ? err[0] : err;
  const message = safeString(e instanceof Error ? e.message : e);
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NET_CODES.has(code)) return new OnvifError('unreachable', `${what}: camera unreachable (${code})`, { cause: e });
  if (/network timeout|socket hang up/i.test(message)) return new OnvifError('unreachable', `${what}: camera unreachable (${message})`, { cause: e });
  if (/not ?authori[sz]ed|unauthori[sz]ed|authority failure|digest authentication failed|password/i.test(message))
    return new OnvifError('unauthorized', `${what}: the camera refused the username or password`, { cause: e });
  if (/wrong onvif soap response|non-whitespace before first tag|unexpected close tag|unclosed root tag|invalid character/i.test(message))
    return new OnvifError('not-onvif', `${what}: the answer is not ONVIF SOAP`, { cause: e });
  if (/optional action not implemented|action ?not ?supported|not supported/i.test(message))
    return new OnvifError('unsupported', `${what}: not supported by the camera (${message.slice(0, 200)})`, { cause: e });
  return new OnvifError('bad-reply', `${what}: ${message.slice(0, 300)}`, { cause: e });
}
