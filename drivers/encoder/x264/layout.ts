// Offsets of the x264 structure fields the driver reads or writes directly,
// per CPU architecture, generated from the installed x264.h by gen-layout.sh
// (a compile-only C probe: works with a cross compiler). Everything else is
// set through x264_param_parse(), which needs no layout at all.
import { EncoderError } from '../errors.js';
import { layout as arm } from './layouts/arm.js';
import { layout as arm64 } from './layouts/arm64.js';
import { layout as x64 } from './layouts/x64.js';

export interface X264Layout {
  /** process.arch this table is for. */
  arch: string;
  /** X264_BUILD of the header the table was generated from. */
  build: number;
  pointerSize: number;
  param: {
    size: number;
    i_threads: number;
    i_width: number;
    i_height: number;
    i_csp: number;
    i_fps_num: number;
    i_fps_den: number;
    i_timebase_num: number;
    i_timebase_den: number;
    i_keyint_max: number;
    i_bframe: number;
    b_repeat_headers: number;
    b_annexb: number;
    'rc.i_rc_method': number;
    'rc.i_bitrate': number;
    'rc.i_vbv_max_bitrate': number;
  };
  picture: {
    size: number;
    i_type: number;
    b_keyframe: number;
    i_pts: number;
    i_dts: number;
    'img.i_csp': number;
    'img.i_plane': number;
    /** int i_stride[4] */
    'img.i_stride': number;
    /** uint8_t *plane[4] */
    'img.plane': number;
  };
  nal: {
    size: number;
    i_ref_idc: number;
    i_type: number;
    i_payload: number;
    p_payload: number;
  };
}

const layouts: Record<string, X264Layout> = { x64, arm64, arm };

/** The table for this process's architecture (or `arch`). Throws if none was generated. */
export function x264Layout(arch: string = process.arch): X264Layout {
  const layout = layouts[arch];
  if (!layout) {
    throw new EncoderError(
      'UNSUPPORTED',
      `x264: no structure layout for architecture '${arch}' (have ${Object.keys(layouts).join(', ')}); ` +
        'generate one with drivers/encoder/x264/gen-layout.sh on the target or with a cross compiler',
    );
  }
  return layout;
}
