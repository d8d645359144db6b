// V4l2Device: one open video node and the V4L2 ioctls that configure it.
// Every call is a single non-blocking ioctl (the node is opened O_NONBLOCK),
// a few hundred nanoseconds to a few microseconds; frame waiting happens in
// CaptureStream's worker, never here.
import { constants } from 'node:os';
import { close, O_CLOEXEC, O_NONBLOCK, O_RDWR, open, SysError } from '../libc/index.js';
import { sys } from './sys.js';
import {
  V4L2_CAP_DEVICE_CAPS,
  V4L2_CTRL_FLAG_NEXT_CTRL,
  V4L2_CTRL_TYPE_INTEGER_MENU,
  V4L2_CTRL_TYPE_MENU,
  V4L2_CTRL_WHICH_CUR_VAL,
  V4L2_EVENT_SOURCE_CHANGE,
  V4L2_FMT_FLAG_COMPRESSED,
  V4L2_IN_ST_NO_COLOR,
  V4L2_IN_ST_NO_H_LOCK,
  V4L2_IN_ST_NO_SIGNAL,
  V4L2_MEMORY_MMAP,
  VIDEO_MAX_PLANES,
} from './constants.js';
import { isMultiPlanar } from './buffer-io.js';
import { layoutFor } from './layouts.js';
import { BufferQueue } from './queue.js';
import type { AbiLayout, IoctlName } from './spec.js';
import { getS, getString, getU, NativeBlock, set } from './struct.js';

const { EINVAL, ENOENT, EAGAIN, ENOTTY } = constants.errno;

/** FourCC code as its four characters ('YUYV'), big-endian flag bit ignored. */
export function fourccToString(code: number): string {
  return String.fromCharCode(code & 0xff, (code >>> 8) & 0xff, (code >>> 16) & 0xff, (code >>> 24) & 0x7f).trimEnd();
}

/** 'YUYV' -> v4l2_fourcc('Y','U','Y','V'). */
export function fourcc(text: string): number {
  const s = text.padEnd(4, ' ');
  return (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;
}

export interface Capability {
  driver: string;
  card: string;
  busInfo: string;
  /** Kernel version the driver reports, e.g. '6.1.0'. */
  version: string;
  /** Capabilities of the whole physical device. */
  capabilities: number;
  /** Capabilities of this node (V4L2_CAP_*); equals `capabilities` for old drivers. */
  deviceCaps: number;
}

/** Video loss as an analog DVR understands it: no signal, no colour burst or no horizontal lock. */
export const VIDEO_LOSS_STATUS = V4L2_IN_ST_NO_SIGNAL | V4L2_IN_ST_NO_COLOR | V4L2_IN_ST_NO_H_LOCK;

export interface Input {
  index: number;
  name: string;
  /** V4L2_INPUT_TYPE_TUNER / CAMERA / TOUCH. */
  type: number;
  audioset: number;
  tuner: number;
  /** Standards this input supports (V4L2_STD_* mask). */
  std: number;
  /** V4L2_IN_ST_* flags; only meaningful for the currently selected input. */
  status: number;
  /** V4L2_IN_CAP_* (STD, DV_TIMINGS, NATIVE_SIZE). */
  capabilities: number;
  /** status has NO_SIGNAL, NO_COLOR or NO_H_LOCK. */
  videoLoss: boolean;
}

export interface Fraction {
  numerator: number;
  denominator: number;
}

export interface Standard {
  index: number;
  /** V4L2_STD_* mask of this entry. */
  id: number;
  name: string;
  /** Seconds per frame, e.g. 1/25 for PAL, 1001/30000 for NTSC. */
  frameperiod: Fraction;
  framelines: number;
}

export interface FormatDesc {
  index: number;
  type: number;
  flags: number;
  description: string;
  pixelformat: number;
  fourcc: string;
  compressed: boolean;
}

export interface PlaneFormat {
  bytesperline: number;
  sizeimage: number;
}

/** Single- and multi-planar formats in one shape: `planes` has one entry for single-planar types. */
export interface Format {
  type: number;
  width: number;
  height: number;
  pixelformat: number;
  field: number;
  colorspace: number;
  flags: number;
  planes: PlaneFormat[];
}

export type FormatRequest = Partial<Omit<Format, 'type' | 'planes'>> & { planes?: Partial<PlaneFormat>[] };

export interface ControlInfo {
  id: number;
  /** V4L2_CTRL_TYPE_*. */
  type: number;
  name: string;
  minimum: number;
  maximum: number;
  step: number;
  defaultValue: number;
  flags: number;
}

export interface MenuItem {
  index: number;
  /** Menu text (MENU controls). */
  name?: string;
  /** Menu value (INTEGER_MENU controls). */
  value?: number;
}

export interface ExtControl {
  id: number;
  /** 32-bit controls as a number, 64-bit ones as a bigint, string controls as a string. */
  value: number | bigint | string;
}

export interface ExtControlValue {
  id: number;
  /** The control's value read as __s32. */
  value: number;
  /** The same union read as __s64 (for INTEGER64 controls). */
  value64: bigint;
}

export interface StreamParm {
  /** V4L2_CAP_TIMEPERFRAME if the frame interval can be set. */
  capability: number;
  timeperframe: Fraction;
}

export interface V4l2Event {
  type: number;
  id: number;
  sequence: number;
  /** Events still queued after this one. */
  pending: number;
  /** CLOCK_MONOTONIC, nanoseconds. */
  timestampNs: bigint;
  /** For V4L2_EVENT_SOURCE_CHANGE: V4L2_EVENT_SRC_CH_* flags. */
  changes?: number;
  /** The raw 64-byte union, for other event types. */
  data: Buffer;
}

export interface OpenOptions {
  /** Default true: every V4L2 call returns at once (DQBUF gives EAGAIN). */
  nonBlocking?: boolean;
  /** Override the table chosen from process.arch (tests, other ABIs). */
  layout?: AbiLayout;
}

export class V4l2Device {
  readonly path: string;
  readonly layout: AbiLayout;
  #fd: number;
  #queues = new Set<BufferQueue>();

  private constructor(path: string, fd: number, layout: AbiLayout) {
    this.path = path;
    this.#fd = fd;
    this.layout = layout;
  }

  /** open(2) the node O_RDWR | O_NONBLOCK | O_CLOEXEC. Throws SysError (ENOENT, EACCES, ...) with the path. */
  static open(path: string, options: OpenOptions = {}): V4l2Device {
    const layout = options.layout ?? layoutFor();
    const fd = open(path, O_RDWR | O_CLOEXEC | (options.nonBlocking === false ? 0 : O_NONBLOCK));
    return new V4l2Device(path, fd, layout);
  }

  /** Wrap a descriptor opened elsewhere (not closed by close() unless `own`). */
  static fromFd(fd: number, path: string, layout: AbiLayout = layoutFor()): V4l2Device {
    return new V4l2Device(path, fd, layout);
  }

  get fd(): number {
    if (this.#fd < 0) throw new Error(`${this.path} is closed`);
    return this.#fd;
  }

  get isOpen(): boolean {
    return this.#fd >= 0;
  }

  /** Releases every queue made by queue() (unmapping its buffers), then closes the node. */
  close(): void {
    if (this.#fd < 0) return;
    for (const q of this.#queues) q.dispose();
    this.#queues.clear();
    const fd = this.#fd;
    this.#fd = -1;
    close(fd, { path: this.path });
  }

  /** An ioctl on a struct of `size` bytes prepared by `fill`; returns the struct after the call. */
  ioctl(name: IoctlName, buf: Buffer): Buffer {
    sys.ioctlBuf(this.fd, this.layout.ioctls[name], buf, { path: this.path, name });
    return buf;
  }

  #struct<S extends keyof AbiLayout['structs']>(name: S): { buf: Buffer; f: AbiLayout['structs'][S]['fields'] } {
    const s = this.layout.structs[name];
    return { buf: Buffer.alloc(s.size), f: s.fields };
  }

  /** ioctl that answers EINVAL at the end of an enumeration: null there. */
  #enum(name: IoctlName, buf: Buffer): Buffer | null {
    try {
      return this.ioctl(name, buf);
    } catch (err) {
      if (err instanceof SysError && err.errno === EINVAL) return null;
      throw err;
    }
  }

  // --- capabilities -----------------------------------------------------------

  /** VIDIOC_QUERYCAP. */
  querycap(): Capability {
    const { buf, f } = this.#struct('v4l2_capability');
    this.ioctl('VIDIOC_QUERYCAP', buf);
    const version = getU(buf, f.version);
    const capabilities = getU(buf, f.capabilities);
    return {
      driver: getString(buf, f.driver),
      card: getString(buf, f.card),
      busInfo: getString(buf, f.bus_info),
      version: `${version >>> 16}.${(version >>> 8) & 0xff}.${version & 0xff}`,
      capabilities,
      deviceCaps: capabilities & V4L2_CAP_DEVICE_CAPS ? getU(buf, f.device_caps) : capabilities,
    };
  }

  // --- inputs -----------------------------------------------------------------

  /** VIDIOC_ENUMINPUT for one index; null past the last input. */
  enumInput(index: number): Input | null {
    const { buf, f } = this.#struct('v4l2_input');
    set(buf, f.index, index);
    if (!this.#enum('VIDIOC_ENUMINPUT', buf)) return null;
    const status = getU(buf, f.status);
    return {
      index,
      name: getString(buf, f.name),
      type: getU(buf, f.type),
      audioset: getU(buf, f.audioset),
      tuner: getU(buf, f.tuner),
      std: getU(buf, f.std),
      status,
      capabilities: getU(buf, f.capabilities),
      videoLoss: (status & VIDEO_LOSS_STATUS) !== 0,
    };
  }

  /** Every input (VIDIOC_ENUMINPUT from 0 until EINVAL). */
  enumInputs(): Input[] {
    const inputs: Input[] = [];
    for (let i = 0; ; i++) {
      const input = this.enumInput(i);
      if (!input) return inputs;
      inputs.push(input);
    }
  }

  /** VIDIOC_G_INPUT. */
  getInput(): number {
    const buf = Buffer.alloc(4);
    this.ioctl('VIDIOC_G_INPUT', buf);
    return buf.readInt32LE(0);
  }

  /** VIDIOC_S_INPUT. */
  setInput(index: number): void {
    const buf = Buffer.alloc(4);
    buf.writeInt32LE(index, 0);
    this.ioctl('VIDIOC_S_INPUT', buf);
  }

  /** Status flags of the current input, read fresh (V4L2_IN_ST_*). */
  inputStatus(): number {
    const input = this.enumInput(this.getInput());
    if (!input) throw new Error(`${this.path}: current input vanished from ENUMINPUT`);
    return input.status;
  }

  // --- analog standards ---------------------------------------------------------

  /** Every standard the current input offers (VIDIOC_ENUMSTD). */
  enumStandards(): Standard[] {
    const list: Standard[] = [];
    for (let index = 0; ; index++) {
      const { buf, f } = this.#struct('v4l2_standard');
      set(buf, f.index, index);
      if (!this.#enum('VIDIOC_ENUMSTD', buf)) return list;
      list.push({
        index,
        id: getU(buf, f.id),
        name: getString(buf, f.name),
        frameperiod: { numerator: getU(buf, f['frameperiod.numerator']), denominator: getU(buf, f['frameperiod.denominator']) },
        framelines: getU(buf, f.framelines),
      });
    }
  }

  /** VIDIOC_G_STD: the current standard mask. */
  getStandard(): number {
    const buf = Buffer.alloc(8);
    this.ioctl('VIDIOC_G_STD', buf);
    return Number(buf.readBigUInt64LE(0));
  }

  /** VIDIOC_S_STD, e.g. V4L2_STD_PAL or V4L2_STD_NTSC_M. */
  setStandard(std: number): void {
    const buf = Buffer.alloc(8);
    buf.writeBigUInt64LE(BigInt(std), 0);
    this.ioctl('VIDIOC_S_STD', buf);
  }

  /**
   * VIDIOC_QUERYSTD: what the decoder detects on the current input
   * (V4L2_STD_UNKNOWN = 0 if nothing). Drivers without detection give ENOTTY.
   */
  queryStandard(): number {
    const buf = Buffer.alloc(8);
    this.ioctl('VIDIOC_QUERYSTD', buf);
    return Number(buf.readBigUInt64LE(0));
  }

  // --- formats ----------------------------------------------------------------

  /** VIDIOC_ENUM_FMT for a buffer type. */
  enumFormats(type: number): FormatDesc[] {
    const list: FormatDesc[] = [];
    for (let index = 0; ; index++) {
      const { buf, f } = this.#struct('v4l2_fmtdesc');
      set(buf, f.index, index);
      set(buf, f.type, type);
      if (!this.#enum('VIDIOC_ENUM_FMT', buf)) return list;
      const flags = getU(buf, f.flags);
      const pixelformat = getU(buf, f.pixelformat);
      list.push({
        index,
        type,
        flags,
        description: getString(buf, f.description),
        pixelformat,
        fourcc: fourccToString(pixelformat),
        compressed: (flags & V4L2_FMT_FLAG_COMPRESSED) !== 0,
      });
    }
  }

  #readFormat(buf: Buffer, type: number): Format {
    const f = this.layout.structs.v4l2_format.fields;
    if (isMultiPlanar(type)) {
      const P = this.layout.structs.v4l2_plane_pix_format;
      const base = f['fmt.pix_mp.plane_fmt'][0];
      const count = getU(buf, f['fmt.pix_mp.num_planes']);
      const planes: PlaneFormat[] = [];
      for (let i = 0; i < count && i < VIDEO_MAX_PLANES; i++) {
        const p = buf.subarray(base + i * P.size, base + (i + 1) * P.size);
        planes.push({ bytesperline: getU(p, P.fields.bytesperline), sizeimage: getU(p, P.fields.sizeimage) });
      }
      return {
        type,
        width: getU(buf, f['fmt.pix_mp.width']),
        height: getU(buf, f['fmt.pix_mp.height']),
        pixelformat: getU(buf, f['fmt.pix_mp.pixelformat']),
        field: getU(buf, f['fmt.pix_mp.field']),
        colorspace: getU(buf, f['fmt.pix_mp.colorspace']),
        flags: getU(buf, f['fmt.pix_mp.flags']),
        planes,
      };
    }
    return {
      type,
      width: getU(buf, f['fmt.pix.width']),
      height: getU(buf, f['fmt.pix.height']),
      pixelformat: getU(buf, f['fmt.pix.pixelformat']),
      field: getU(buf, f['fmt.pix.field']),
      colorspace: getU(buf, f['fmt.pix.colorspace']),
      flags: getU(buf, f['fmt.pix.flags']),
      planes: [{ bytesperline: getU(buf, f['fmt.pix.bytesperline']), sizeimage: getU(buf, f['fmt.pix.sizeimage']) }],
    };
  }

  #getFormatBuf(type: number): Buffer {
    const { buf, f } = this.#struct('v4l2_format');
    set(buf, f.type, type);
    return this.ioctl('VIDIOC_G_FMT', buf);
  }

  /** VIDIOC_G_FMT. */
  getFormat(type: number): Format {
    return this.#readFormat(this.#getFormatBuf(type), type);
  }

  #formatCall(name: 'VIDIOC_S_FMT' | 'VIDIOC_TRY_FMT', type: number, request: FormatRequest): Format {
    // Start from the current format so that unspecified fields keep their values.
    const buf = this.#getFormatBuf(type);
    const f = this.layout.structs.v4l2_format.fields;
    const mp = isMultiPlanar(type);
    const put = (single: keyof typeof f, multi: keyof typeof f, value: number | undefined) => {
      if (value !== undefined) set(buf, f[mp ? multi : single], value);
    };
    put('fmt.pix.width', 'fmt.pix_mp.width', request.width);
    put('fmt.pix.height', 'fmt.pix_mp.height', request.height);
    put('fmt.pix.pixelformat', 'fmt.pix_mp.pixelformat', request.pixelformat);
    put('fmt.pix.field', 'fmt.pix_mp.field', request.field);
    put('fmt.pix.colorspace', 'fmt.pix_mp.colorspace', request.colorspace);
    if (request.planes) {
      if (mp) {
        const P = this.layout.structs.v4l2_plane_pix_format;
        const base = f['fmt.pix_mp.plane_fmt'][0];
        set(buf, f['fmt.pix_mp.num_planes'], request.planes.length);
        request.planes.forEach((plane, i) => {
          const p = buf.subarray(base + i * P.size, base + (i + 1) * P.size);
          set(p, P.fields.bytesperline, plane.bytesperline ?? 0);
          set(p, P.fields.sizeimage, plane.sizeimage ?? 0);
        });
      } else {
        const [plane] = request.planes;
        if (plane?.bytesperline !== undefined) set(buf, f['fmt.pix.bytesperline'], plane.bytesperline);
        if (plane?.sizeimage !== undefined) set(buf, f['fmt.pix.sizeimage'], plane.sizeimage);
      }
    } else if (request.width !== undefined || request.height !== undefined || request.pixelformat !== undefined) {
      // Let the driver recompute line and image sizes for the new geometry.
      if (mp) set(buf, f['fmt.pix_mp.num_planes'], 0);
      else {
        set(buf, f['fmt.pix.bytesperline'], 0);
        set(buf, f['fmt.pix.sizeimage'], 0);
      }
    }
    this.ioctl(name, buf);
    return this.#readFormat(buf, type);
  }

  /** VIDIOC_S_FMT; returns what the driver chose (it may adjust any field). */
  setFormat(type: number, request: FormatRequest): Format {
    return this.#formatCall('VIDIOC_S_FMT', type, request);
  }

  /** VIDIOC_TRY_FMT: what S_FMT would give, without changing anything. */
  tryFormat(type: number, request: FormatRequest): Format {
    return this.#formatCall('VIDIOC_TRY_FMT', type, request);
  }

  // --- frame rate -------------------------------------------------------------

  /** VIDIOC_G_PARM for a capture or output type. */
  getParm(type: number): StreamParm {
    const { buf, f } = this.#struct('v4l2_streamparm');
    set(buf, f.type, type);
    this.ioctl('VIDIOC_G_PARM', buf);
    return this.#readParm(buf, type);
  }

  #readParm(buf: Buffer, type: number): StreamParm {
    const f = this.layout.structs.v4l2_streamparm.fields;
    const out = type === 2 || type === 10; // VIDEO_OUTPUT(_MPLANE)
    return out
      ? {
          capability: getU(buf, f['parm.output.capability']),
          timeperframe: {
            numerator: getU(buf, f['parm.output.timeperframe.numerator']),
            denominator: getU(buf, f['parm.output.timeperframe.denominator']),
          },
        }
      : {
          capability: getU(buf, f['parm.capture.capability']),
          timeperframe: {
            numerator: getU(buf, f['parm.capture.timeperframe.numerator']),
            denominator: getU(buf, f['parm.capture.timeperframe.denominator']),
          },
        };
  }

  /** VIDIOC_S_PARM with a time per frame (1/25 = 25 fps); returns what the driver set. */
  setTimePerFrame(type: number, timeperframe: Fraction): StreamParm {
    const { buf, f } = this.#struct('v4l2_streamparm');
    set(buf, f.type, type);
    const out = type === 2 || type === 10;
    set(buf, f[out ? 'parm.output.timeperframe.numerator' : 'parm.capture.timeperframe.numerator'], timeperframe.numerator);
    set(buf, f[out ? 'parm.output.timeperframe.denominator' : 'parm.capture.timeperframe.denominator'], timeperframe.denominator);
    this.ioctl('VIDIOC_S_PARM', buf);
    return this.#readParm(buf, type);
  }

  // --- controls ---------------------------------------------------------------

  #readQueryctrl(buf: Buffer): ControlInfo {
    const f = this.layout.structs.v4l2_queryctrl.fields;
    return {
      id: getU(buf, f.id),
      type: getU(buf, f.type),
      name: getString(buf, f.name),
      minimum: getS(buf, f.minimum),
      maximum: getS(buf, f.maximum),
      step: getS(buf, f.step),
      defaultValue: getS(buf, f.default_value),
      flags: getU(buf, f.flags),
    };
  }

  /** VIDIOC_QUERYCTRL for one id; null if the driver has no such control. */
  queryControl(id: number): ControlInfo | null {
    const { buf, f } = this.#struct('v4l2_queryctrl');
    set(buf, f.id, id);
    return this.#enum('VIDIOC_QUERYCTRL', buf) ? this.#readQueryctrl(buf) : null;
  }

  /** Every control, class headers included (QUERYCTRL with V4L2_CTRL_FLAG_NEXT_CTRL). */
  listControls(): ControlInfo[] {
    const list: ControlInfo[] = [];
    let id = 0;
    for (;;) {
      const { buf, f } = this.#struct('v4l2_queryctrl');
      set(buf, f.id, (id | V4L2_CTRL_FLAG_NEXT_CTRL) >>> 0);
      if (!this.#enum('VIDIOC_QUERYCTRL', buf)) return list;
      const info = this.#readQueryctrl(buf);
      list.push(info);
      id = info.id;
    }
  }

  /** A control by its name as the driver spells it (case-insensitive); null if absent. */
  findControl(name: string): ControlInfo | null {
    const wanted = name.toLowerCase();
    return this.listControls().find((c) => c.name.toLowerCase() === wanted) ?? null;
  }

  /** VIDIOC_QUERYMENU over minimum..maximum of a MENU or INTEGER_MENU control; skipped indexes are absent. */
  queryMenu(control: ControlInfo): MenuItem[] {
    if (control.type !== V4L2_CTRL_TYPE_MENU && control.type !== V4L2_CTRL_TYPE_INTEGER_MENU) return [];
    const items: MenuItem[] = [];
    for (let index = control.minimum; index <= control.maximum; index++) {
      const { buf, f } = this.#struct('v4l2_querymenu');
      set(buf, f.id, control.id);
      set(buf, f.index, index);
      if (!this.#enum('VIDIOC_QUERYMENU', buf)) continue;
      items.push(
        control.type === V4L2_CTRL_TYPE_MENU
          ? { index, name: getString(buf, f.name) }
          : { index, value: getS(buf, f.value) },
      );
    }
    return items;
  }

  /** VIDIOC_G_CTRL (32-bit user controls). */
  getControl(id: number): number {
    const { buf, f } = this.#struct('v4l2_control');
    set(buf, f.id, id);
    this.ioctl('VIDIOC_G_CTRL', buf);
    return getS(buf, f.value);
  }

  /** VIDIOC_S_CTRL; returns the value the driver kept. */
  setControl(id: number, value: number): number {
    const { buf, f } = this.#struct('v4l2_control');
    set(buf, f.id, id);
    set(buf, f.value, value);
    this.ioctl('VIDIOC_S_CTRL', buf);
    return getS(buf, f.value);
  }

  #extCall(
    name: 'VIDIOC_G_EXT_CTRLS' | 'VIDIOC_S_EXT_CTRLS' | 'VIDIOC_TRY_EXT_CTRLS',
    controls: ExtControl[],
    which: number,
  ): ExtControlValue[] {
    const C = this.layout.structs.v4l2_ext_control;
    const array = new NativeBlock(C.size * controls.length);
    const strings: NativeBlock[] = [];
    try {
      controls.forEach((c, i) => {
        const e = array.buf.subarray(i * C.size, (i + 1) * C.size);
        set(e, C.fields.id, c.id);
        if (typeof c.value === 'string') {
          const bytes = Buffer.from(`${c.value}\0`);
          const block = new NativeBlock(Math.max(bytes.length, 256));
          bytes.copy(block.buf);
          strings.push(block);
          set(e, C.fields.size, block.size);
          set(e, C.fields.ptr, block.ptr);
        } else if (typeof c.value === 'bigint') {
          set(e, C.fields.value64, c.value);
        } else {
          set(e, C.fields.value, c.value);
        }
      });
      const { buf, f } = this.#struct('v4l2_ext_controls');
      set(buf, f.which, which);
      set(buf, f.count, controls.length);
      set(buf, f.controls, array.ptr);
      // The kernel sets error_idx = count when no single control is to blame.
      set(buf, f.error_idx, controls.length);
      try {
        this.ioctl(name, buf);
      } catch (err) {
        const index = getU(buf, f.error_idx);
        if (err instanceof SysError && index < controls.length) {
          // Name the control the driver refused: error_idx points at it.
          const id = `0x${controls[index].id.toString(16)}`;
          throw Object.assign(new SysError('ioctl', err.errno, { path: this.path, name: `${name} control ${id}` }), {
            controlId: controls[index].id,
          });
        }
        throw err;
      }
      return controls.map((c, i) => {
        const e = array.buf.subarray(i * C.size, (i + 1) * C.size);
        return { id: c.id, value: getS(e, C.fields.value), value64: e.readBigInt64LE(C.fields.value64[0]) };
      });
    } finally {
      array.free();
      for (const s of strings) s.free();
    }
  }

  /** VIDIOC_G_EXT_CTRLS (any control class; INTEGER64 controls read from value64). */
  getExtControls(ids: number[], which = V4L2_CTRL_WHICH_CUR_VAL): ExtControlValue[] {
    return this.#extCall('VIDIOC_G_EXT_CTRLS', ids.map((id) => ({ id, value: 0 })), which);
  }

  /**
   * VIDIOC_S_EXT_CTRLS, all-or-nothing: encoder settings such as
   * V4L2_CID_MPEG_VIDEO_BITRATE, _GOP_SIZE, _H264_PROFILE, _H264_LEVEL,
   * _BITRATE_MODE. A refused control is named in the SysError message.
   */
  setExtControls(controls: ExtControl[], which = V4L2_CTRL_WHICH_CUR_VAL): ExtControlValue[] {
    return this.#extCall('VIDIOC_S_EXT_CTRLS', controls, which);
  }

  /** VIDIOC_TRY_EXT_CTRLS: validate without applying. */
  tryExtControls(controls: ExtControl[], which = V4L2_CTRL_WHICH_CUR_VAL): ExtControlValue[] {
    return this.#extCall('VIDIOC_TRY_EXT_CTRLS', controls, which);
  }

  // --- encoder commands and events ----------------------------------------------

  /** VIDIOC_ENCODER_CMD, e.g. V4L2_ENC_CMD_STOP to drain a stateful encoder. */
  encoderCommand(cmd: number, flags = 0): void {
    const { buf, f } = this.#struct('v4l2_encoder_cmd');
    set(buf, f.cmd, cmd);
    set(buf, f.flags, flags);
    this.ioctl('VIDIOC_ENCODER_CMD', buf);
  }

  /** VIDIOC_TRY_ENCODER_CMD: false if the driver does not support `cmd` (EINVAL) or no commands at all (ENOTTY). */
  tryEncoderCommand(cmd: number, flags = 0): boolean {
    const { buf, f } = this.#struct('v4l2_encoder_cmd');
    set(buf, f.cmd, cmd);
    set(buf, f.flags, flags);
    try {
      this.ioctl('VIDIOC_TRY_ENCODER_CMD', buf);
      return true;
    } catch (err) {
      if (err instanceof SysError && (err.errno === EINVAL || err.errno === ENOTTY)) return false;
      throw err;
    }
  }

  /** VIDIOC_SUBSCRIBE_EVENT (V4L2_EVENT_SOURCE_CHANGE, V4L2_EVENT_EOS, V4L2_EVENT_CTRL with an id...). */
  subscribeEvent(type: number, id = 0, flags = 0): void {
    const { buf, f } = this.#struct('v4l2_event_subscription');
    set(buf, f.type, type);
    set(buf, f.id, id);
    set(buf, f.flags, flags);
    this.ioctl('VIDIOC_SUBSCRIBE_EVENT', buf);
  }

  unsubscribeEvent(type: number, id = 0): void {
    const { buf, f } = this.#struct('v4l2_event_subscription');
    set(buf, f.type, type);
    set(buf, f.id, id);
    this.ioctl('VIDIOC_UNSUBSCRIBE_EVENT', buf);
  }

  /** VIDIOC_DQEVENT; null when no event is pending (poll for POLLPRI to wait). */
  dequeueEvent(): V4l2Event | null {
    const { buf, f } = this.#struct('v4l2_event');
    try {
      this.ioctl('VIDIOC_DQEVENT', buf);
    } catch (err) {
      if (err instanceof SysError && (err.errno === ENOENT || err.errno === EAGAIN)) return null;
      throw err;
    }
    const type = getU(buf, f.type);
    const [uOffset, uSize] = f.u;
    return {
      type,
      id: getU(buf, f.id),
      sequence: getU(buf, f.sequence),
      pending: getU(buf, f.pending),
      timestampNs: BigInt(getS(buf, f['timestamp.tv_sec'])) * 1_000_000_000n + BigInt(getS(buf, f['timestamp.tv_nsec'])),
      ...(type === V4L2_EVENT_SOURCE_CHANGE ? { changes: getU(buf, f['u.src_change.changes']) } : {}),
      data: Buffer.from(buf.subarray(uOffset, uOffset + uSize)),
    };
  }

  // --- buffers ------------------------------------------------------------------

  /**
   * The buffer queue of one type (VIDEO_CAPTURE, VIDEO_OUTPUT or their _MPLANE
   * forms) with MMAP (default) or DMABUF memory. Queues are disposed by close().
   */
  queue(type: number, memory = V4L2_MEMORY_MMAP): BufferQueue {
    const q = new BufferQueue(this, type, memory, () => this.#queues.delete(q));
    this.#queues.add(q);
    return q;
  }
}
