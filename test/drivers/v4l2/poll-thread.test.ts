// PollThread: poll(2) on threads of our own, so M2M encoder waits leave
// libuv's pool to fs, dns and crypto. FIFOs stand in for device fds: nobody
// writes them, so poll() blocks until a byte arrives or the timeout ends.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POLLIN } from '../../../drivers/libc/index.js';
import { PollThread, stopIdlePollThreads } from '../../../drivers/v4l2/index.js';
import { spawnTs } from '../../helpers/ts-child.js';

const dir = mkdtempSync(join(tmpdir(), 'poll-thread-'));
t.teardown(async () => {
  await stopIdlePollThreads();
  rmSync(dir, { recursive: true, force: true });
});
let fifos = 0;
/**
 * The read end of a FIFO (poll blocks until someone writes) and a write end
 * to wake it; the writer is opened non-blocking, which needs the reader first.
 */
function fifo(): { fd: number; wake: () => void } {
  const path = join(dir, `f${fifos++}`);
  execFileSync('mkfifo', [path]);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  t.teardown(() => {
    closeSync(writer);
    closeSync(fd);
  });
  return { fd, wake: () => writeSync(writer, 'x') };
}

t.test('a wait times out, or ends when the fd is ready; waits on one thread run in turn', async (t) => {
  const { fd, wake } = fifo();
  const p = PollThread.acquire();
  t.equal(await p.wait(fd, POLLIN, 0), 0, 'the thread is up (under the TypeScript loader a start takes seconds)');
  let t0 = performance.now();
  t.equal(await p.wait(fd, POLLIN, 200), 0, 'timeout: revents 0');
  t.ok(performance.now() - t0 >= 180, `blocked for the timeout (${(performance.now() - t0).toFixed(0)} ms)`);
  t0 = performance.now();
  const ready = p.wait(fd, POLLIN, 5000);
  const second = p.wait(fd, POLLIN, 5000);
  setTimeout(wake, 50);
  t.equal(await ready, POLLIN, 'a byte written: POLLIN');
  t.equal(await second, POLLIN, 'the queued wait sees it too');
  t.ok(performance.now() - t0 < 2000, `woken by the write, not the timeout (${(performance.now() - t0).toFixed(0)} ms)`);
  p.release();
  p.release();
  const again = PollThread.acquire();
  t.equal(again, p, 'a released thread is reused by the next device');
  again.release();
});

t.test('a thread released while waiting becomes idle only when its wait ends', async (t) => {
  const { fd } = fifo();
  const p = PollThread.acquire();
  const pending = p.wait(fd, POLLIN, 150);
  p.release();
  const other = PollThread.acquire();
  t.not(other, p, 'still busy: another thread');
  t.equal(await pending, 0);
  t.equal(PollThread.acquire(), p, 'idle once the wait ended');
  other.release();
  p.release();
});

t.test('a terminated thread rejects later waits; counts', async (t) => {
  const { fd } = fifo();
  const before = PollThread.counts();
  const p = PollThread.acquire();
  await p.terminate();
  await t.rejects(p.wait(fd, POLLIN, 10), /poll thread exited/);
  t.ok(PollThread.counts().started >= before.started);
});

/** Runs fixtures/pool-child.ts with a libuv pool of `pool` threads. */
function child(mode: 'thread' | 'pollAsync', count: number, waitMs: number, pool: number): Promise<{ statMs: number; pbkdf2Ms: number; waitedMs: number[] }> {
  const file = new URL('./fixtures/pool-child.ts', import.meta.url).pathname;
  const c = spawnTs(file, [mode, String(count), String(waitMs)], { env: { ...process.env, UV_THREADPOOL_SIZE: String(pool) } });
  let out = '';
  let err = '';
  c.stdout!.on('data', (d) => (out += d));
  c.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) =>
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`child exited ${code}: ${err}`)))),
  );
}

t.test('four M2M devices waiting leave a pool of 2 threads free: fs.stat and pbkdf2 answer at once', async (t) => {
  const r = await child('thread', 4, 1000, 2);
  t.ok(r.statMs < 400, `fs.stat took ${r.statMs.toFixed(1)} ms while 4 devices waited`);
  t.ok(r.pbkdf2Ms < 400, `pbkdf2 took ${r.pbkdf2Ms.toFixed(1)} ms`);
  t.ok(Math.max(...r.waitedMs) < 1900, `the waits ran side by side: ${r.waitedMs.map((x) => x.toFixed(0)).join(', ')} ms`);
  t.ok(Math.min(...r.waitedMs) >= 950, 'and each lasted its timeout (the FIFOs stay empty)');
});

t.test('control: the same waits through pollAsync starve that pool', async (t) => {
  const r = await child('pollAsync', 4, 1000, 2);
  t.ok(r.statMs > 800, `fs.stat queued behind the waits: ${r.statMs.toFixed(0)} ms`);
});
