// struct v4l2_buffer traffic (QUERYBUF / QBUF / DQBUF / EXPBUF) for one queue,
// with a preallocated struct and plane array so the per-frame path allocates
// nothing but the result object. Used on the main thread (BufferQueue) and
// inside the capture worker, which is why it needs only an fd and a layout.
import { constants } from 'node:os';
import { SysError } from '../libc/index.js';
import { sys } from './sys.js';
import {
  V4L2_BUF_FLAG_ERROR,
  V4L2_BUF_FLAG_KEYFRAME,
  V4L2_BUF_FLAG_LAST,
  V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
  V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE,
  V4L2_MEMORY_DMABUF,
  VIDEO_MAX_PLANES,
} from './constants.js';
import { time32Variant } from './layouts.js';
import type { AbiLayout, IoctlName } from './spec.js';
import { getS, getU, NativeBlock, set } from './struct.js';

const { EAGAIN, ENOTTY, EPIPE } = constants.errno;

export function isMultiPlanar(type: number): boolean {
  return type === V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE || type === V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
}

export interface PlaneInfo {
  /** Bytes of payload (after DQBUF); 0 from QUERYBUF on capture queues. */
  bytesused: number;
  /** Size of the plane's buffer. */
  length: number;
  /** mmap() offset (MMAP memory). */
  offset: number;
  /** Where the payload starts inside the plane (multi-planar only, else 0). */
  dataOffset: number;
}

/** What the driver said about one buffer. */
export interface BufferInfo {
  index: number;
  type: number;
  memory: number;
  flags: number;
  field: number;
  /** Driver frame counter; a jump of more than 1 means frames were dropped. */
  sequence: number;
  /** v4l2_buffer.timestamp in microseconds (CLOCK_MONOTONIC for capture drivers that say so in flags). */
  timestampUs: number;
  /** Sum of the planes' bytesused. */
  bytesused: number;
  planes: PlaneInfo[];
}

export interface QueueOptions {
  /** Bytes used per plane (OUTPUT queues); defaults to the plane length. */
  bytesused?: number | number[];
  /** Timestamp to attach (OUTPUT queues; M2M drivers copy it to the coded buffer). */
  timestampUs?: number;
  /** DMABUF file descriptors per plane (memory = DMABUF). */
  fds?: number[];
  flags?: number;
  field?: number;
}

export const isKeyframe = (b: BufferInfo): boolean => (b.flags & V4L2_BUF_FLAG_KEYFRAME) !== 0;
export const isLast = (b: BufferInfo): boolean => (b.flags & V4L2_BUF_FLAG_LAST) !== 0;
export const hasError = (b: BufferInfo): boolean => (b.flags & V4L2_BUF_FLAG_ERROR) !== 0;

export class BufferIo {
  layout: AbiLayout;
  readonly mplane: boolean;
  #buf: Buffer;
  #planes: NativeBlock | undefined;

  constructor(
    readonly fd: number,
    readonly path: string,
    layout: AbiLayout,
    readonly type: number,
    readonly memory: number,
  ) {
    this.layout = layout;
    this.mplane = isMultiPlanar(type);
    this.#buf = Buffer.alloc(layout.structs.v4l2_buffer.size);
    if (this.mplane) this.#planes = new NativeBlock(layout.structs.v4l2_plane.size * VIDEO_MAX_PLANES);
  }

  /** Frees the native plane array. The fd is not ours and stays open. */
  dispose(): void {
    this.#planes?.free();
    this.#planes = undefined;
  }

  #reset(index: number): Buffer {
    const L = this.layout.structs.v4l2_buffer.fields;
    const b = this.#buf;
    b.fill(0);
    set(b, L.index, index);
    set(b, L.type, this.type);
    set(b, L.memory, this.memory);
    if (this.#planes) {
      this.#planes.buf.fill(0);
      set(b, L['m.planes'], this.#planes.ptr);
      set(b, L.length, VIDEO_MAX_PLANES);
    }
    return b;
  }

  /** Runs the ioctl on the struct that `fill` prepares (again, after a layout switch). */
  #call(name: IoctlName, fill: () => Buffer): void {
    try {
      sys.ioctlBuf(this.fd, this.layout.ioctls[name], fill(), { path: this.path, name });
    } catch (err) {
      // A 32-bit ARM kernel older than 5.6 knows only the 32-bit-time
      // v4l2_buffer: its ioctl numbers differ, so the answer is ENOTTY.
      const older = time32Variant(this.layout);
      if (!(err instanceof SysError) || err.errno !== ENOTTY || !older) throw err;
      this.switchLayout(older);
      sys.ioctlBuf(this.fd, this.layout.ioctls[name], fill(), { path: this.path, name });
    }
  }

  /** Switch to another layout (the time32 fallback); the struct is re-allocated. */
  switchLayout(layout: AbiLayout): void {
    this.layout = layout;
    this.#buf = Buffer.alloc(layout.structs.v4l2_buffer.size);
  }

  #read(): BufferInfo {
    const L = this.layout.structs.v4l2_buffer.fields;
    const b = this.#buf;
    const planes: PlaneInfo[] = [];
    if (this.#planes) {
      const P = this.layout.structs.v4l2_plane;
      const count = getU(b, L.length);
      for (let i = 0; i < count && i < VIDEO_MAX_PLANES; i++) {
        const p = this.#planes.buf.subarray(i * P.size, (i + 1) * P.size);
        planes.push({
          bytesused: getU(p, P.fields.bytesused),
          length: getU(p, P.fields.length),
          offset: getU(p, P.fields['m.mem_offset']),
          dataOffset: getU(p, P.fields.data_offset),
        });
      }
    } else {
      planes.push({ bytesused: getU(b, L.bytesused), length: getU(b, L.length), offset: getU(b, L['m.offset']), dataOffset: 0 });
    }
    return {
      index: getU(b, L.index),
      type: getU(b, L.type),
      memory: getU(b, L.memory),
      flags: getU(b, L.flags),
      field: getU(b, L.field),
      sequence: getU(b, L.sequence),
      timestampUs: getS(b, L['timestamp.tv_sec']) * 1e6 + getS(b, L['timestamp.tv_usec']),
      bytesused: planes.reduce((sum, p) => sum + p.bytesused, 0),
      planes,
    };
  }

  /** VIDIOC_QUERYBUF. */
  query(index: number): BufferInfo {
    this.#call('VIDIOC_QUERYBUF', () => this.#reset(index));
    return this.#read();
  }

  /** VIDIOC_QBUF: hand buffer `index` to the driver. */
  queue(index: number, options: QueueOptions = {}): void {
    this.#call('VIDIOC_QBUF', () => this.#fillQueue(index, options));
  }

  #fillQueue(index: number, options: QueueOptions): Buffer {
    const L = this.layout.structs.v4l2_buffer.fields;
    const b = this.#reset(index);
    if (options.flags !== undefined) set(b, L.flags, options.flags);
    if (options.field !== undefined) set(b, L.field, options.field);
    if (options.timestampUs !== undefined) {
      const us = Math.round(options.timestampUs);
      set(b, L['timestamp.tv_sec'], Math.floor(us / 1e6));
      set(b, L['timestamp.tv_usec'], us % 1e6);
    }
    const used = options.bytesused;
    const fds = options.fds;
    if (this.#planes) {
      const P = this.layout.structs.v4l2_plane;
      const count = Math.max(Array.isArray(used) ? used.length : 1, fds?.length ?? 1, this.planeCount ?? 1);
      set(b, L.length, count);
      for (let i = 0; i < count; i++) {
        const p = this.#planes.buf.subarray(i * P.size, (i + 1) * P.size);
        const u = Array.isArray(used) ? used[i] : i === 0 ? used : undefined;
        if (u !== undefined) set(p, P.fields.bytesused, u);
        if (this.memory === V4L2_MEMORY_DMABUF && fds) set(p, P.fields['m.fd'], fds[i]);
      }
    } else {
      const u = Array.isArray(used) ? used[0] : used;
      if (u !== undefined) set(b, L.bytesused, u);
      if (this.memory === V4L2_MEMORY_DMABUF && fds) set(b, L['m.fd'], fds[0]);
    }
    return b;
  }

  /** Planes per buffer for multi-planar queues (set from the format; 1 if unknown). */
  planeCount: number | undefined;

  /**
   * VIDIOC_DQBUF on a non-blocking fd: the next done buffer, null if none is
   * ready (EAGAIN), or 'eos' when a capture queue has returned its LAST
   * buffer and the driver answers EPIPE.
   */
  dequeue(): BufferInfo | null | 'eos' {
    try {
      this.#call('VIDIOC_DQBUF', () => this.#reset(0));
    } catch (err) {
      if (err instanceof SysError && err.errno === EAGAIN) return null;
      if (err instanceof SysError && err.errno === EPIPE) return 'eos';
      throw err;
    }
    return this.#read();
  }
}
