// The capture worker: poll(), VIDIOC_DQBUF and VIDIOC_QBUF for one capture
// queue, off the main thread. It loads its own koffi/libc (modules are per
// thread) and uses the device fd the main thread opened (fds are per
// process). Frame data never passes through here: the main thread reads the
// mmap()ed buffers directly; only the v4l2_buffer fields are posted.
import { parentPort, workerData } from 'node:worker_threads';
import { ioctlBuf, poll, POLLERR, POLLIN, POLLPRI, type SysError } from '../libc/index.js';
import { BufferIo } from './buffer-io.js';
import {
  BUF_HELD,
  BUF_QUEUED,
  BUF_RELEASED,
  CTL_SIGNAL,
  CTL_STATE,
  CTL_STOP,
  type CaptureBackend,
  type WorkerConfig,
  type WorkerMessage,
} from './capture-protocol.js';
import { V4l2Device } from './device.js';
import { LAYOUTS } from './layouts.js';

/** The real backend: V4L2 ioctls and poll() on the device fd. */
function v4l2Backend(config: WorkerConfig): CaptureBackend {
  const layout = LAYOUTS[config.abi];
  const io = new BufferIo(config.fd, config.path, layout, config.type, config.memory);
  io.planeCount = config.planeCount;
  const device = V4l2Device.fromFd(config.fd, config.path, layout);
  const fds = [{ fd: config.fd, events: POLLIN, revents: 0 }];
  const streamCall = (name: 'VIDIOC_STREAMON' | 'VIDIOC_STREAMOFF') => {
    const arg = Buffer.alloc(4);
    arg.writeInt32LE(config.type, 0);
    ioctlBuf(config.fd, layout.ioctls[name], arg, { path: config.path, name });
  };
  return {
    queue: (index) => io.queue(index),
    dequeue: () => io.dequeue(),
    streamOn: () => streamCall('VIDIOC_STREAMON'),
    streamOff: () => streamCall('VIDIOC_STREAMOFF'),
    wait(timeoutMs, events) {
      fds[0].events = POLLIN | (events ? POLLPRI : 0);
      fds[0].revents = 0;
      return poll(fds, timeoutMs) === 0 ? 0 : fds[0].revents;
    },
    dequeueEvents() {
      const list = [];
      for (let e = device.dequeueEvent(); e; e = device.dequeueEvent()) {
        list.push({ type: e.type, id: e.id, sequence: e.sequence, changes: e.changes });
      }
      return list;
    },
    // libuv's hrtime is CLOCK_MONOTONIC, the clock capture drivers stamp buffers with.
    nowUs: () => Number(process.hrtime.bigint() / 1000n),
    dispose: () => io.dispose(),
  };
}

async function run(config: WorkerConfig, post: (m: WorkerMessage) => void): Promise<void> {
  const control = new Int32Array(config.control);
  let backend: CaptureBackend | undefined;
  let queued = 0;
  let streaming = false;
  // When each buffer was last queued: tells a frame the driver lost on its
  // own from one it had no buffer for (see CaptureStats.starved).
  const queuedAtUs = new Array<number>(config.count).fill(0);
  try {
    backend = config.backend
      ? ((await import(config.backend)) as { createBackend(c: WorkerConfig): CaptureBackend }).createBackend(config)
      : v4l2Backend(config);
    for (let i = 0; i < config.count; i++) {
      queuedAtUs[i] = backend.nowUs();
      backend.queue(i);
      queued++;
    }
    backend.streamOn();
    streaming = true;
    post({ t: 'started' });
    while (Atomics.load(control, CTL_STOP) === 0) {
      const signal = Atomics.load(control, CTL_SIGNAL);
      // Re-queue what the consumer gave back. A held buffer is never queued:
      // with all of them held the driver has nowhere to write and drops frames,
      // which shows as a gap in the sequence numbers.
      for (let i = 0; i < config.count; i++) {
        if (Atomics.compareExchange(control, CTL_STATE + i, BUF_RELEASED, BUF_QUEUED) === BUF_RELEASED) {
          queuedAtUs[i] = backend.nowUs();
          backend.queue(i);
          queued++;
        }
      }
      if (queued === 0 && !config.events) {
        // Nothing for the driver to fill: sleep until a release or stop.
        Atomics.wait(control, CTL_SIGNAL, signal, config.pollTimeoutMs);
        continue;
      }
      // With every buffer held only events can arrive: look for releases often.
      const revents = backend.wait(queued === 0 ? Math.min(5, config.pollTimeoutMs) : config.pollTimeoutMs, config.events);
      if (revents === 0) continue;
      if (revents & POLLPRI) for (const event of backend.dequeueEvents()) post({ t: 'event', event });
      if (revents & POLLIN) {
        for (;;) {
          const info = backend.dequeue();
          if (info === null) break;
          if (info === 'eos') {
            post({ t: 'eos' });
            return;
          }
          Atomics.store(control, CTL_STATE + info.index, BUF_HELD);
          queued--;
          post({ t: 'frame', info, queuedAtUs: queuedAtUs[info.index] });
        }
      } else if (revents & POLLERR && Atomics.load(control, CTL_STOP) === 0 && queued > 0) {
        // vb2 says POLLERR when the queue is not streaming or the driver hit an error.
        post({ t: 'error', message: `poll on ${config.path}: POLLERR (streaming stopped or device error)` });
        return;
      }
    }
  } catch (err) {
    const e = err as SysError;
    post({ t: 'error', message: e.message, code: e.code, errno: e.errno });
  } finally {
    if (streaming) {
      try {
        backend?.streamOff();
      } catch {
        // the device may be gone
      }
    }
    backend?.dispose();
    post({ t: 'stopped', queued });
  }
}

if (parentPort) {
  const port = parentPort;
  await run(workerData as WorkerConfig, (m) => port.postMessage(m));
}
