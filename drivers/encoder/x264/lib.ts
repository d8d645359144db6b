// The koffi binding of libx264. Loaded on first use, never at import.
import { koffi } from '../../libc/index.js';
import { EncoderError } from '../errors.js';
import { x264Layout, type X264Layout } from './layout.js';

type Fn = ((...args: any[]) => any) & { async: (...args: any[]) => void };

export interface X264Lib {
  layout: X264Layout;
  /** The soname that was loaded. */
  library: string;
  param_default_preset: Fn;
  param_parse: Fn;
  param_apply_profile: Fn;
  picture_init: Fn;
  encoder_open: Fn;
  encoder_headers: Fn;
  encoder_encode: Fn;
  encoder_delayed_frames: Fn;
  encoder_close: Fn;
}

/**
 * Stack koffi gives a call made with `.async` (its default is 128 KiB, from
 * its own heap: an overflow would not fault cleanly). x264 with one thread
 * runs the whole frame encode on the caller's stack; 1 MiB is several times
 * what it needs (README: measured with smaller stacks).
 */
export const ASYNC_STACK_BYTES = 1 << 20;

let bound: X264Lib | undefined;

/**
 * Raises koffi's async stack to ASYNC_STACK_BYTES. koffi accepts this only
 * before the process loads its first library (any driver's), so call it at
 * startup if you want X264Encoder({ calls: 'async' }). Returns false if it
 * is too late and the stack is still too small.
 */
export function prepareKoffiForAsyncEncode(): boolean {
  const k = koffi();
  const config = k.config();
  if ((config.async_stack_size ?? 0) >= ASYNC_STACK_BYTES) return true;
  try {
    k.config({ ...config, async_stack_size: ASYNC_STACK_BYTES });
    return true;
  } catch {
    return false;
  }
}

export function requireAsyncStack(): void {
  if (!prepareKoffiForAsyncEncode()) {
    const kib = (koffi().config().async_stack_size ?? 0) >> 10;
    throw new EncoderError(
      'UNSUPPORTED',
      `x264: koffi's async stack is ${kib} KiB, x264 needs up to ~90 KiB plus margin (${ASYNC_STACK_BYTES >> 10} KiB wanted), ` +
        'and koffi can no longer change it (a library is loaded): call prepareKoffiForAsyncEncode() at startup, or use the worker encoder',
    );
  }
}

/** Loads libx264 (the build the layout table was generated for) on first call. */
export function x264(): X264Lib {
  if (bound) return bound;
  const layout = x264Layout();
  const k = koffi();
  const names = [`libx264.so.${layout.build}`, 'libx264.so'];
  let lib: ReturnType<typeof k.load> | undefined;
  let library = '';
  const failures: string[] = [];
  for (const name of names) {
    try {
      lib = k.load(name);
      library = name;
      break;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  if (!lib) {
    throw new EncoderError('UNSUPPORTED', `x264: cannot load libx264 (Debian: libx264-${layout.build}): ${failures.join('; ')}`);
  }
  // x264.h: #define x264_encoder_open x264_encoder_open_##X264_BUILD, so the
  // symbol pins the ABI: a library of another build than the header the
  // layout came from has no such symbol.
  const open = `x264_encoder_open_${layout.build}`;
  let encoder_open: Fn;
  try {
    encoder_open = lib.func(`void *${open}(void *param)`) as Fn;
  } catch {
    throw new EncoderError(
      'UNSUPPORTED',
      `x264: ${library} has no ${open}: it is not build ${layout.build}; regenerate the layout (drivers/encoder/x264/gen-layout.sh) against its x264.h`,
    );
  }
  bound = {
    layout,
    library,
    param_default_preset: lib.func('int x264_param_default_preset(void *param, const char *preset, const char *tune)') as Fn,
    param_parse: lib.func('int x264_param_parse(void *param, const char *name, const char *value)') as Fn,
    param_apply_profile: lib.func('int x264_param_apply_profile(void *param, const char *profile)') as Fn,
    picture_init: lib.func('void x264_picture_init(void *pic)') as Fn,
    encoder_open,
    encoder_headers: lib.func('int x264_encoder_headers(void *h, void *pp_nal, void *pi_nal)') as Fn,
    encoder_encode: lib.func('int x264_encoder_encode(void *h, void *pp_nal, void *pi_nal, void *pic_in, void *pic_out)') as Fn,
    encoder_delayed_frames: lib.func('int x264_encoder_delayed_frames(void *h)') as Fn,
    encoder_close: lib.func('void x264_encoder_close(void *h)') as Fn,
  };
  return bound;
}
