// M2mDevice: a stateful memory-to-memory encoder (vicodec, Hantro, Venus,
// bcm2835-codec, ...) as two queues on one node: OUTPUT takes raw frames in,
// CAPTURE gives coded frames out. Every call is non-blocking; wait() polls on
// the device's own PollThread, never on libuv's pool (which fs, dns and
// crypto need). Enough for an encoder backend to drive:
//
//   configure -> start -> { acquireInput + queueInput | dequeueCoded + release }* -> drain -> close
import { constants } from 'node:os';
import { POLLIN, POLLOUT, POLLPRI, SysError } from '../libc/index.js';
import { type BufferInfo, isLast, type QueueOptions } from './buffer-io.js';
import {
  V4L2_BUF_FLAG_KEYFRAME,
  V4L2_BUF_TYPE_VIDEO_CAPTURE,
  V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
  V4L2_BUF_TYPE_VIDEO_OUTPUT,
  V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE,
  V4L2_CAP_VIDEO_M2M_MPLANE,
  V4L2_ENC_CMD_STOP,
  V4L2_EVENT_EOS,
  V4L2_MEMORY_DMABUF,
  V4L2_MEMORY_MMAP,
} from './constants.js';
import { type ExtControl, type Format, type Fraction, type OpenOptions, V4l2Device, type V4l2Event } from './device.js';
import { PollThread } from './poll-thread.js';
import type { BufferQueue, MappedBuffer } from './queue.js';

const { ENOTTY, EINVAL } = constants.errno;

export interface M2mConfig {
  width: number;
  height: number;
  /** Raw pixel format on the OUTPUT queue (e.g. V4L2_PIX_FMT_NV12, _YUV420). */
  rawFormat: number;
  /** Coded format on the CAPTURE queue (V4L2_PIX_FMT_H264, _HEVC, _FWHT). */
  codedFormat: number;
  /** Size of each coded buffer; 0 lets the driver choose. */
  codedBufferSize?: number;
  /** OUTPUT frame interval (S_PARM on the OUTPUT queue), e.g. 1/25. Ignored if the driver has none. */
  timePerFrame?: Fraction;
  /** Codec controls, applied with one S_EXT_CTRLS before buffers are allocated. */
  controls?: ExtControl[];
  outputBuffers?: number;
  captureBuffers?: number;
  /** MMAP (copy raw frames in) or DMABUF (queue exported capture buffers, zero copy). */
  outputMemory?: number;
}

export interface CodedFrame extends BufferInfo {
  /** View of the coded bytes in the CAPTURE buffer (no copy; valid until release()). */
  data: Buffer;
  keyframe: boolean;
  /** The driver's last buffer after drain(). */
  last: boolean;
  /** Queue the CAPTURE buffer again. Idempotent. */
  release(): void;
}

export interface M2mReadiness {
  /** A coded frame can be dequeued. */
  coded: boolean;
  /** An OUTPUT buffer was consumed and can be reclaimed. */
  input: boolean;
  /** An event (EOS, SOURCE_CHANGE) is pending. */
  event: boolean;
}

export class M2mDevice {
  readonly device: V4l2Device;
  readonly mplane: boolean;
  readonly outputType: number;
  readonly captureType: number;
  #output: BufferQueue | undefined;
  #capture: BufferQueue | undefined;
  outputFormat: Format | undefined;
  captureFormat: Format | undefined;
  /** OUTPUT buffers not queued to the driver. */
  #freeInputs: number[] = [];
  #eos = false;
  #draining = false;
  #poller: PollThread | undefined;

  private constructor(device: V4l2Device) {
    this.device = device;
    this.mplane = (device.querycap().deviceCaps & V4L2_CAP_VIDEO_M2M_MPLANE) !== 0;
    this.outputType = this.mplane ? V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE : V4L2_BUF_TYPE_VIDEO_OUTPUT;
    this.captureType = this.mplane ? V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE : V4L2_BUF_TYPE_VIDEO_CAPTURE;
  }

  /** Open an M2M node (non-blocking). */
  static open(path: string, options?: OpenOptions): M2mDevice {
    const device = V4l2Device.open(path, options);
    try {
      return new M2mDevice(device);
    } catch (err) {
      device.close();
      throw err;
    }
  }

  get output(): BufferQueue {
    if (!this.#output) throw new Error('M2mDevice: configure() first');
    return this.#output;
  }

  get capture(): BufferQueue {
    if (!this.#capture) throw new Error('M2mDevice: configure() first');
    return this.#capture;
  }

  /**
   * Formats (coded CAPTURE first, as the stateful encoder interface asks),
   * frame rate, controls, then buffers on both queues.
   */
  configure(config: M2mConfig): { output: Format; capture: Format } {
    const d = this.device;
    this.captureFormat = d.setFormat(this.captureType, {
      width: config.width,
      height: config.height,
      pixelformat: config.codedFormat,
      planes: [{ sizeimage: config.codedBufferSize ?? 0, bytesperline: 0 }],
    });
    this.outputFormat = d.setFormat(this.outputType, {
      width: config.width,
      height: config.height,
      pixelformat: config.rawFormat,
    });
    if (config.timePerFrame) {
      try {
        d.setTimePerFrame(this.outputType, config.timePerFrame);
      } catch (err) {
        if (!(err instanceof SysError && (err.errno === ENOTTY || err.errno === EINVAL))) throw err;
      }
    }
    if (config.controls?.length) d.setExtControls(config.controls);
    // The capture format can change with the output one (sizeimage): read it back.
    this.captureFormat = d.getFormat(this.captureType);
    const outputMemory = config.outputMemory ?? V4L2_MEMORY_MMAP;
    this.#output = d.queue(this.outputType, outputMemory);
    this.#capture = d.queue(this.captureType, V4L2_MEMORY_MMAP);
    this.#output.request(config.outputBuffers ?? 4);
    this.#capture.request(config.captureBuffers ?? 4);
    if (outputMemory === V4L2_MEMORY_MMAP) this.#output.map();
    this.#capture.map();
    this.#freeInputs = Array.from({ length: this.#output.count }, (_, i) => i);
    return { output: this.outputFormat, capture: this.captureFormat };
  }

  /** Subscribe to EOS, queue every CAPTURE buffer, STREAMON both queues. */
  start(): void {
    try {
      this.device.subscribeEvent(V4L2_EVENT_EOS);
    } catch (err) {
      // Drivers that signal the end only with V4L2_BUF_FLAG_LAST answer EINVAL/ENOTTY.
      if (!(err instanceof SysError)) throw err;
    }
    for (let i = 0; i < this.capture.count; i++) this.capture.queue(i);
    this.output.streamOn();
    this.capture.streamOn();
    // The thread boots while the caller prepares its first frame.
    this.#poller ??= PollThread.acquire();
  }

  /**
   * A free OUTPUT buffer to write a raw frame into (MMAP memory), reclaiming
   * buffers the encoder has consumed; null if all are still with the driver.
   */
  acquireInput(): MappedBuffer | null {
    this.#reclaimInputs();
    const index = this.#freeInputs.shift();
    if (index === undefined) return null;
    return this.output.buffers[index] ?? { index, planes: [] };
  }

  #reclaimInputs(): void {
    for (let b = this.output.dequeue(); b && b !== 'eos'; b = this.output.dequeue()) this.#freeInputs.push(b.index);
  }

  /** Queue OUTPUT buffer `index` holding a raw frame (bytesused defaults to the plane sizes). */
  queueInput(index: number, options: QueueOptions = {}): void {
    this.output.queue(index, options);
  }

  /**
   * Queue a DMABUF (for instance a capture buffer exported with
   * BufferQueue.exportBuffer) as the raw frame: no copy at all.
   * Needs configure({ outputMemory: V4L2_MEMORY_DMABUF }).
   */
  queueDmabuf(index: number, fds: number[], options: Omit<QueueOptions, 'fds'> = {}): void {
    if (this.output.memory !== V4L2_MEMORY_DMABUF) throw new Error('M2mDevice: configure with outputMemory DMABUF first');
    this.output.queue(index, { ...options, fds });
  }

  /** A coded frame if one is ready; null if not yet; 'eos' once the drained encoder has nothing more. */
  dequeueCoded(): CodedFrame | null | 'eos' {
    if (this.#eos) return 'eos';
    const b = this.capture.dequeue();
    if (b === 'eos') {
      this.#eos = true;
      return 'eos';
    }
    if (!b) return null;
    const last = isLast(b);
    if (last) this.#eos = true;
    const p = b.planes[0];
    const mapped = this.capture.buffers[b.index].planes[0];
    let released = false;
    return {
      ...b,
      data: mapped.data.subarray(p.dataOffset, p.bytesused),
      keyframe: (b.flags & V4L2_BUF_FLAG_KEYFRAME) !== 0,
      last,
      release: () => {
        if (released || this.#eos || !this.capture.streaming) return;
        released = true;
        this.capture.queue(b.index);
      },
    };
  }

  /** Pending events (EOS, SOURCE_CHANGE). */
  dequeueEvent(): V4l2Event | null {
    return this.device.dequeueEvent();
  }

  /**
   * Start draining (V4L2_ENC_CMD_STOP): the encoder finishes the queued raw
   * frames, then marks its last CAPTURE buffer with V4L2_BUF_FLAG_LAST.
   */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.device.encoderCommand(V4L2_ENC_CMD_STOP);
  }

  get ended(): boolean {
    return this.#eos;
  }

  /**
   * Wait until something can be done; all false on timeout. Blocks neither
   * the event loop nor libuv's pool: the poll() runs on this device's
   * PollThread (taken by start() or the first wait, given back by close()).
   */
  async wait(timeoutMs: number): Promise<M2mReadiness> {
    const fd = this.device.fd; // throws once closed, before a thread is taken
    this.#poller ??= PollThread.acquire();
    const revents = await this.#poller.wait(fd, POLLIN | POLLOUT | POLLPRI, timeoutMs);
    return { coded: (revents & POLLIN) !== 0, input: (revents & POLLOUT) !== 0, event: (revents & POLLPRI) !== 0 };
  }

  /**
   * STREAMOFF, unmap and free both queues, close the node. STREAMOFF wakes a
   * poll() still pending on the PollThread (vb2 wakes its waiters), so the
   * thread is free again at once and goes back for the next device.
   */
  close(): void {
    try {
      this.#output?.dispose();
      this.#capture?.dispose();
      this.device.close();
    } finally {
      this.#poller?.release();
      this.#poller = undefined;
    }
  }
}
