/**
 * The one error class the media parsers and muxers throw for bad input, so a
 * caller (and the fuzz tests) can tell "this stream is broken" from a bug.
 */
export class MediaFormatError extends Error {
  override readonly name = 'MediaFormatError';
}

/** Throws MediaFormatError unless `ok`; keeps the checks one line each. */
export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new MediaFormatError(message);
}
