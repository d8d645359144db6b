import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { lastError } from './errors.js';
import { lastErrno, libc } from './load.js';

/** One struct pollfd. `revents` is filled in by poll(). */
export interface PollFd {
  fd: number;
  events: number;
  revents?: number;
}

/**
 * poll(2): wait until one of `fds` is ready or `timeoutMs` elapses (negative
 * waits forever). Sets each entry's `revents`, returns how many are non-zero.
 * This blocks the event loop, so keep timeouts short on the main thread.
 */
export function poll(fds: PollFd[], timeoutMs: number): number {
  const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
  for (;;) {
    const remaining = deadline === Infinity ? -1 : Math.max(0, Math.ceil(deadline - performance.now()));
    // A fresh copy each time: koffi writes the structs back into this array,
    // and callers' objects get only `revents` copied over below.
    const native = fds.map(({ fd, events }) => ({ fd, events, revents: 0 }));
    const ready: number = libc().poll(native, native.length, remaining);
    if (ready >= 0) {
      native.forEach((entry, i) => (fds[i].revents = entry.revents));
      return ready;
    }
    // Unlike read/write, poll is never restarted by SA_RESTART, so EINTR is
    // common here (SIGCHLD); retry with whatever time is left.
    if (lastErrno() !== constants.errno.EINTR) throw lastError('poll');
  }
}
