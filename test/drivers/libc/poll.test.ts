import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  O_WRONLY,
  POLLHUP,
  POLLIN,
  POLLOUT,
  close,
  open,
  poll,
  read,
  write,
  type PollFd,
} from '../../../drivers/libc/index.js';

const dir = mkdtempSync(join(tmpdir(), 'libc-poll-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('poll on a FIFO: times out when empty, POLLIN when data arrives, POLLHUP when the writer leaves', async (t) => {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  // Reader first and non-blocking, so opening the writer does not block.
  const rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  t.teardown(() => close(rfd));
  const wfd = open(fifo, O_WRONLY | O_CLOEXEC);

  const entry: PollFd = { fd: rfd, events: POLLIN };
  const started = performance.now();
  t.equal(poll([entry], 80), 0, 'nothing ready');
  const waited = performance.now() - started;
  t.ok(waited >= 70, `waited for the timeout (${waited.toFixed(1)} ms)`);
  t.equal(entry.revents, 0);

  write(wfd, 'ping');
  const both: PollFd[] = [entry, { fd: wfd, events: POLLOUT }];
  t.equal(poll(both, 1000), 2, 'reader and writer both ready');
  t.equal(entry.revents, POLLIN, 'revents written back into the caller object');
  t.equal(both[1]!.revents, POLLOUT);

  const buf = Buffer.alloc(16);
  t.equal(buf.toString('utf8', 0, read(rfd, buf)), 'ping');

  close(wfd);
  t.equal(poll([entry], 1000), 1);
  t.equal(entry.revents! & POLLHUP, POLLHUP, 'hang-up after the writer closed');
});
