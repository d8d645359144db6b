// poll(2) on koffi's worker pool: waits without blocking the event loop.
// Each pending call occupies one libuv thread-pool thread (4 by default,
// UV_THREADPOOL_SIZE), so keep timeouts short and calls few. Drivers here
// do not use it: CaptureStream has its own worker and M2mDevice a PollThread.
import { libc } from '../libc/index.js';

/** Wait up to timeoutMs for `events` on fd; resolves to revents (0 on timeout or EINTR). */
export function pollAsync(fd: number, events: number, timeoutMs: number): Promise<number> {
  const fds = [{ fd, events, revents: 0 }];
  return new Promise((resolve, reject) => {
    const poll = libc().poll as unknown as { async: (...args: unknown[]) => void };
    poll.async(fds, 1, timeoutMs, (err: unknown, ready: number) => {
      // errno belongs to the pool thread and is lost here; on a valid fd the
      // only failure is EINTR, which the caller treats like a timeout.
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(ready > 0 ? fds[0].revents : 0);
    });
  });
}
