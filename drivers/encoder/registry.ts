// Backend registry: a board profile's `encoder.backend` names one of these.
import { EncoderError } from './errors.js';
import type { Encoder } from './types.js';

/** Backend-specific construction options (x264: tune; v4l2-m2m: device path, ...). */
export type EncoderBackendOptions = Record<string, unknown>;
export type EncoderFactory = (options: EncoderBackendOptions) => Encoder;

const backends = new Map<string, EncoderFactory>();

/** Adds (or replaces) a backend. 'x264' is registered by index.ts; 'v4l2-m2m' by its driver. */
export function registerEncoderBackend(name: string, factory: EncoderFactory): void {
  backends.set(name, factory);
}

export function encoderBackends(): string[] {
  return [...backends.keys()];
}

/** A new, unconfigured encoder of the named backend. Throws UNSUPPORTED for an unknown name. */
export function createEncoder(backend: string, options: EncoderBackendOptions = {}): Encoder {
  const factory = backends.get(backend);
  if (!factory) {
    throw new EncoderError(
      'UNSUPPORTED',
      `encoder backend '${backend}' is not registered (have: ${encoderBackends().join(', ') || 'none'})`,
      'backend',
    );
  }
  return factory(options);
}
