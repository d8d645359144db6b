// ReadBatcher: the rate-following SO_RCVLOWAT mark, against a stand-in
// setsockopt for the arithmetic and against the kernel on a real loopback
// TCP socket for what a user of the stream sees: fewer reads while media
// flows, and the last bytes still delivered when the stream goes quiet.
import t from 'tap';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { ReadBatcher } from '../../../../firmware/media/rtsp/read-batcher.js';

t.test('the mark follows the byte rate, drops to 1 after a silent tick, and a refusal turns it off', async (t) => {
  let now = 0;
  const marks: number[] = [];
  const b = new ReadBatcher(7, { delayMs: 30, tickMs: 200, setLowWater: (fd, n) => (t.equal(fd, 7), marks.push(n)), now: () => now });
  t.ok(b.start());
  b.stop(); // ticks are driven by hand below
  t.same(marks, [1], 'starts at 1 byte: nothing held before the rate is known');
  // 500 kB/s (4 Mbit/s) for a second: 30 ms of it is 15,000 bytes.
  for (let i = 0; i < 5; i++) {
    now += 200;
    b.onRead(100_000);
    b.tick();
  }
  t.equal(b.lowWater, 15_000);
  // A rate within a quarter of the mark leaves it alone (no system call).
  for (let i = 0; i < 5; i++) {
    now += 200;
    b.onRead(110_000);
    b.tick();
  }
  t.equal(marks.length, 2, 'no call for a 10% change');
  // A fast camera is capped at 32 KiB.
  for (let i = 0; i < 5; i++) {
    now += 200;
    b.onRead(1_000_000);
    b.tick();
  }
  t.equal(b.lowWater, 32 * 1024);
  now += 200;
  b.tick(); // no read during this tick
  t.equal(b.lowWater, 1, 'silence releases whatever sits below the mark');
  // A request going out (its answer must not wait for a silent tick): the mark drops at once, and comes back with the next window.
  for (let i = 0; i < 5; i++) {
    now += 200;
    b.onRead(100_000);
    b.tick();
  }
  t.equal(b.lowWater, 15_000);
  const calls = marks.length;
  b.release();
  t.equal(b.lowWater, 1, 'a request releases the mark');
  b.release();
  t.equal(marks.length, calls + 1, 'releasing twice makes one system call');
  for (let i = 0; i < 5; i++) {
    now += 200;
    b.onRead(100_000);
    b.tick();
  }
  t.equal(b.lowWater, 15_000, 'the next window batches again');

  const refused = new ReadBatcher(3, { delayMs: 30, setLowWater: () => { throw new Error('ENOPROTOOPT'); } });
  t.notOk(refused.start(), 'a socket without the option: batching stays off, no throw');
});

t.test('on a real TCP socket: far fewer reads while data flows, the tail arrives when it stops', async (t) => {
  // 200 bytes every 5 ms = 40 kB/s, in small writes like RTP packets.
  let feeding: NodeJS.Timeout | undefined;
  let peer: Socket | undefined;
  const server = createServer((s) => {
    peer = s;
    s.setNoDelay(true);
    feeding = setInterval(() => s.write(Buffer.alloc(200, 1)), 5);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    clearInterval(feeding);
    peer?.destroy();
    server.close();
  });
  let reads = 0;
  let bytes = 0;
  let lastReadAt = 0;
  const buffer = Buffer.alloc(64 * 1024);
  const sock = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', onread: { buffer, callback: (n: number) => (reads++, (bytes += n), (lastReadAt = performance.now()), b?.onRead(n), true) } });
  let b: ReadBatcher | undefined;
  await new Promise<void>((r) => sock.once('connect', () => r()));
  t.teardown(() => sock.destroy());
  const fd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
  t.ok(fd > 0, 'Node exposes the descriptor');

  const before = reads;
  await new Promise((r) => setTimeout(r, 1000));
  const plain = reads - before;

  b = new ReadBatcher(fd, { delayMs: 100, tickMs: 200 });
  t.ok(b.start(), 'the kernel takes SO_RCVLOWAT');
  t.teardown(() => b!.stop());
  await new Promise((r) => setTimeout(r, 1500)); // a rate window, then the mark applies
  t.ok(b.lowWater > 1000, `mark set from the measured rate (${b.lowWater} bytes)`);
  const mid = reads;
  await new Promise((r) => setTimeout(r, 1000));
  const batched = reads - mid;
  t.ok(batched * 4 < plain, `reads a second: ${plain} packet by packet, ${batched} batched`);

  // The camera goes quiet after a last small write: it must not wait for more.
  clearInterval(feeding);
  const sent = Buffer.alloc(10, 2);
  const total = bytes;
  await new Promise((r) => setTimeout(r, 50));
  const stoppedAt = performance.now();
  peer!.write(sent);
  await new Promise((r) => setTimeout(r, 700));
  t.ok(bytes > total, 'the held bytes arrived');
  t.ok(lastReadAt - stoppedAt < 500, `within one tick of going quiet (${Math.round(lastReadAt - stoppedAt)} ms)`);
  t.equal(b.lowWater, 1);
});
