export type EncoderErrorCode =
  /** A configure() setting is out of range or not supported; `setting` names it. */
  | 'BAD_CONFIG'
  /** A raw picture of the wrong size or shape, or a bad timestamp. */
  | 'BAD_INPUT'
  /** encode()/flush()/configure() after close(). */
  | 'CLOSED'
  /** encode() before configure(). */
  | 'NOT_CONFIGURED'
  /** The backend, library or architecture is not available here. */
  | 'UNSUPPORTED'
  /** The native library reported a failure. */
  | 'BACKEND';

/** Every error the encoder drivers throw or reject with. */
export class EncoderError extends Error {
  readonly code: EncoderErrorCode;
  /** The configure() key (or backend option) at fault, for BAD_CONFIG. */
  readonly setting: string | undefined;

  constructor(code: EncoderErrorCode, message: string, setting?: string) {
    super(message);
    this.name = 'EncoderError';
    this.code = code;
    this.setting = setting;
  }
}
