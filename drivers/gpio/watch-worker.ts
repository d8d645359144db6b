// The event worker: one thread poll()s the fds of every watched line request
// and reads their gpio_v2_line_event records, so the main thread never blocks
// and libuv's thread pool (4 threads shared with fs, dns and crypto) is never
// held for the life of a watch, as a koffi async poll per request would be.
// Messages from the main thread are taken synchronously between polls
// (receiveMessageOnPort), so one loop serves adds, removes and reads.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { poll, POLLERR, POLLHUP, POLLIN, POLLNVAL, read, type PollFd, type SysError } from '../libc/index.js';
import { decodeEvents, EVENT_SIZE } from './struct.js';
import { CTL_SIGNAL, CTL_STOP, type FromWorker, type ToWorker, type WatchWorkerData } from './watch-protocol.js';

function run(port: MessagePort, data: WatchWorkerData): void {
  const control = new Int32Array(data.control);
  const watched = new Map<number, { fd: number; path: string }>();
  const buf = Buffer.alloc(64 * EVENT_SIZE);
  const post = (m: FromWorker) => port.postMessage(m);
  post({ t: 'ready' });
  while (Atomics.load(control, CTL_STOP) === 0) {
    const signal = Atomics.load(control, CTL_SIGNAL);
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
      const msg = m.message as ToWorker;
      if (msg.t === 'add') watched.set(msg.id, { fd: msg.fd, path: msg.path });
      else {
        watched.delete(msg.id);
        post({ t: 'removed', id: msg.id });
      }
    }
    if (watched.size === 0) {
      Atomics.wait(control, CTL_SIGNAL, signal, 1000);
      continue;
    }
    const ids = [...watched.keys()];
    const fds: PollFd[] = ids.map((id) => ({ fd: watched.get(id)!.fd, events: POLLIN, revents: 0 }));
    if (poll(fds, data.pollTimeoutMs) === 0) continue;
    fds.forEach((p, i) => {
      const id = ids[i];
      const w = watched.get(id)!;
      const revents = p.revents ?? 0;
      try {
        if (revents & POLLIN) {
          const n = read(w.fd, buf, { path: w.path, name: 'line events' });
          if (n > 0) {
            post({ t: 'events', id, events: decodeEvents(buf, n) });
            return;
          }
        }
        if (revents & (POLLERR | POLLHUP | POLLNVAL | POLLIN)) {
          // POLLIN with nothing to read is end of file, which a line request
          // never gives while its chip exists.
          throw new Error(`line request on ${w.path}: the device is gone (poll revents 0x${revents.toString(16)})`);
        }
      } catch (err) {
        watched.delete(id);
        post({ t: 'error', id, message: (err as Error).message, code: (err as SysError).code });
      }
    });
  }
}

if (parentPort) run(parentPort, workerData as WatchWorkerData);
