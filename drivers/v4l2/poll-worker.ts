// The thread behind PollThread: sleeps in Atomics.wait until the main thread
// posts a request, then blocks in poll(2) on that one fd (its own koffi and
// libc; fds are per process) and posts revents back. It never touches the
// device otherwise: the ioctls stay on the main thread, where they are
// non-blocking.
import { parentPort, workerData } from 'node:worker_threads';
import { poll } from '../libc/index.js';
import { PT_EVENTS, PT_FD, PT_REQUEST, PT_STOP, PT_TIMEOUT } from './poll-protocol.js';

function run(control: Int32Array, post: (m: unknown) => void): void {
  // From 0, not from the current value: a request posted while this thread
  // was still starting has already bumped the counter.
  let seen = 0;
  for (;;) {
    Atomics.wait(control, PT_REQUEST, seen);
    seen = Atomics.load(control, PT_REQUEST);
    if (Atomics.load(control, PT_STOP)) return;
    const fds = [{ fd: Atomics.load(control, PT_FD), events: Atomics.load(control, PT_EVENTS), revents: 0 }];
    // poll() only fails on EINTR (retried inside) or on bad arguments; a
    // throw ends this thread, and PollThread fails its waits with the error.
    const revents = poll(fds, Atomics.load(control, PT_TIMEOUT)) > 0 ? fds[0].revents! : 0;
    post({ revents });
  }
}

if (parentPort) {
  const port = parentPort;
  run(new Int32Array((workerData as { control: SharedArrayBuffer }).control), (m) => port.postMessage(m));
}
