// BufferQueue: REQBUFS / QUERYBUF / mmap / QBUF / DQBUF / EXPBUF /
// STREAMON / STREAMOFF for one buffer type of one device.
import { mapView, O_CLOEXEC, O_RDWR, MAP_SHARED, PROT_READ, PROT_WRITE, type Pointer } from '../libc/index.js';
import { sys } from './sys.js';
import { BufferIo, type BufferInfo, type QueueOptions } from './buffer-io.js';
import { V4L2_MEMORY_MMAP } from './constants.js';
import type { V4l2Device } from './device.js';
import { getU, set } from './struct.js';

export interface MappedPlane {
  addr: Pointer;
  length: number;
  /** A view of the mapping (no copy). Invalid once the buffer is unmapped. */
  data: Buffer;
}

export interface MappedBuffer {
  index: number;
  planes: MappedPlane[];
}

export class BufferQueue {
  readonly io: BufferIo;
  /** Buffers granted by the last request(). */
  count = 0;
  /** V4L2_BUF_CAP_* from the last REQBUFS (0 from drivers older than 4.20). */
  capabilities = 0;
  /** Mapped buffers by index (after map()). */
  readonly buffers: MappedBuffer[] = [];
  #pinned = new Set<number>();
  #disposed = false;
  #streaming = false;

  constructor(
    readonly device: V4l2Device,
    readonly type: number,
    readonly memory: number,
    private readonly onDispose: () => void,
  ) {
    this.io = new BufferIo(device.fd, device.path, device.layout, type, memory);
  }

  get mplane(): boolean {
    return this.io.mplane;
  }

  get streaming(): boolean {
    return this.#streaming;
  }

  /** VIDIOC_REQBUFS. Returns how many buffers the driver allocated (may differ from `count`). */
  request(count: number): number {
    if (count > 0 && this.io.mplane) this.io.planeCount = this.device.getFormat(this.type).planes.length || 1;
    const { size, fields: f } = this.device.layout.structs.v4l2_requestbuffers;
    const buf = Buffer.alloc(size);
    set(buf, f.count, count);
    set(buf, f.type, this.type);
    set(buf, f.memory, this.memory);
    this.device.ioctl('VIDIOC_REQBUFS', buf);
    this.count = getU(buf, f.count);
    this.capabilities = getU(buf, f.capabilities);
    return this.count;
  }

  /** VIDIOC_QUERYBUF. */
  query(index: number): BufferInfo {
    return this.io.query(index);
  }

  /** QUERYBUF and mmap() every plane of every requested buffer (MMAP memory). */
  map(): MappedBuffer[] {
    if (this.memory !== V4L2_MEMORY_MMAP) throw new Error('only MMAP buffers can be mapped');
    for (let index = this.buffers.length; index < this.count; index++) {
      const info = this.io.query(index);
      const planes = info.planes.map((p) => {
        const addr = sys.mmap(p.length, PROT_READ | PROT_WRITE, MAP_SHARED, this.device.fd, p.offset, {
          path: this.device.path,
        });
        return { addr, length: p.length, data: mapView(addr, p.length) };
      });
      this.buffers.push({ index, planes });
    }
    return this.buffers;
  }

  /** VIDIOC_QBUF. */
  queue(index: number, options?: QueueOptions): void {
    this.io.queue(index, options);
  }

  /** VIDIOC_DQBUF: a done buffer, null if none yet, 'eos' after the LAST buffer (EPIPE). */
  dequeue(): BufferInfo | null | 'eos' {
    return this.io.dequeue();
  }

  /**
   * VIDIOC_EXPBUF: a DMABUF file descriptor for one plane of a buffer, to
   * queue on another device (an encoder's OUTPUT queue) without copying.
   * The caller closes it. Drivers without DMABUF export answer ENOTTY/EINVAL.
   */
  exportBuffer(index: number, plane = 0, flags = O_CLOEXEC | O_RDWR): number {
    const { size, fields: f } = this.device.layout.structs.v4l2_exportbuffer;
    const buf = Buffer.alloc(size);
    set(buf, f.type, this.type);
    set(buf, f.index, index);
    set(buf, f.plane, plane);
    set(buf, f.flags, flags);
    this.device.ioctl('VIDIOC_EXPBUF', buf);
    return getU(buf, f.fd);
  }

  /** VIDIOC_STREAMON. */
  streamOn(): void {
    const arg = Buffer.alloc(4);
    arg.writeInt32LE(this.type, 0);
    this.device.ioctl('VIDIOC_STREAMON', arg);
    this.#streaming = true;
  }

  /** VIDIOC_STREAMOFF: every buffer returns to user space, queued or done. */
  streamOff(): void {
    const arg = Buffer.alloc(4);
    arg.writeInt32LE(this.type, 0);
    this.device.ioctl('VIDIOC_STREAMOFF', arg);
    this.#streaming = false;
  }

  /** Keep buffer `index` mapped through dispose() until unpin() (a consumer still reads it). */
  pin(index: number): void {
    this.#pinned.add(index);
  }

  unpin(index: number): void {
    this.#pinned.delete(index);
    if (this.#disposed) this.#unmap(index);
  }

  #unmap(index: number): void {
    const b = this.buffers[index];
    if (!b) return;
    for (const p of b.planes) {
      if (p.length) sys.munmap(p.addr, p.length, { path: this.device.path });
      p.length = 0;
    }
  }

  /**
   * Stop streaming, unmap every buffer not pinned (pinned ones are unmapped
   * on unpin), free the buffers (REQBUFS 0). Safe to call twice.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.device.isOpen) {
      try {
        if (this.#streaming) this.streamOff();
      } catch {
        // The device may be gone (unplugged); unmapping below still matters.
      }
    }
    for (const b of this.buffers) if (!this.#pinned.has(b.index)) this.#unmap(b.index);
    if (this.#pinned.size === 0 && this.device.isOpen && this.count > 0) {
      try {
        this.request(0);
      } catch {
        // EBUSY while another process maps them; closing the fd frees them anyway.
      }
    }
    this.io.dispose();
    this.onDispose();
  }
}
