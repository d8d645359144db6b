// The bus over a real pty pair: round-robin between devices, bounded queues,
// coalescing, replies and timeouts, baud switching, and closing.
import t from 'tap';
import { SerialPort } from 'serialport';
import { BusError, SerialBus, SerialLine, type ReplyParser, type SendOutcome } from '../../../drivers/serial/index.js';
import { ptyPair, type PtyPair } from '../../fixtures/ptz-dome-sim.js';

let pair: PtyPair;
let line: SerialLine;
let far: SerialPort;
let received: Buffer[] = [];
/** Far-end behaviour: answers frames it is given a reply for. */
let responder: ((chunk: Buffer) => Buffer | undefined) | undefined;

t.before(async () => {
  pair = await ptyPair();
  line = new SerialLine({ path: pair.a, baudRate: 9600 });
  await line.open();
  far = new SerialPort({ path: pair.b, baudRate: 9600, autoOpen: false });
  await new Promise<void>((res, rej) => far.open((e) => (e ? rej(e) : res())));
  far.on('data', (c: Buffer) => {
    received.push(c);
    const reply = responder?.(c);
    if (reply) far.write(reply);
  });
});
t.teardown(async () => {
  await line.close();
  await new Promise<void>((res) => far.close(() => res()));
  await pair.close();
});
t.beforeEach(async () => {
  // Let the previous test's last frames land first: a loaded machine reads the pty late.
  for (let seen = -1; seen !== received.length; ) {
    seen = received.length;
    await new Promise((r) => setTimeout(r, 50));
  }
  received = [];
  responder = undefined;
});

const all = (): Buffer => Buffer.concat(received);
/** Received bytes as 2-byte [device, sequence] frames. */
const frames = (): string[] => {
  const b = all();
  const out: string[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) out.push(`${String.fromCharCode(b[i]!)}${b[i + 1]}`);
  return out;
};
const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};
const f = (dev: string, n: number): Buffer => Buffer.from([dev.charCodeAt(0), n]);

t.test('devices take turns: strict round-robin', async (t) => {
  const bus = new SerialBus({ line, gapMs: 1 });
  t.teardown(() => bus.close());
  const a = bus.device({ name: 'A' });
  const b = bus.device({ name: 'B' });
  const sends = [1, 2, 3].flatMap((i) => [a.send(f('A', i)), b.send(f('B', i))]);
  t.same(await Promise.all(sends), Array(6).fill('sent'));
  await until(() => all().length === 12);
  t.same(frames(), ['A1', 'B1', 'A2', 'B2', 'A3', 'B3']);
});

t.test('full queue, drop-oldest: the newest frames win, the dropped are told', async (t) => {
  const bus = new SerialBus({ line, gapMs: 1 });
  t.teardown(() => bus.close());
  const a = bus.device({ name: 'A', queueLimit: 4 });
  const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => a.send(f('A', i + 1))));
  // 1 goes out at once; 2..6 are pushed out by 7..10.
  t.same(outcomes, ['sent', 'dropped', 'dropped', 'dropped', 'dropped', 'dropped', 'sent', 'sent', 'sent', 'sent']);
  await until(() => all().length === 10);
  t.same(frames(), ['A1', 'A7', 'A8', 'A9', 'A10']);
  t.equal(a.stats.dropped, 5);
});

t.test('full queue, reject-newest: queued frames keep their order', async (t) => {
  const bus = new SerialBus({ line, gapMs: 1 });
  t.teardown(() => bus.close());
  const a = bus.device({ name: 'A', queueLimit: 2, overflow: 'reject-newest' });
  const outcomes = await Promise.all(Array.from({ length: 5 }, (_, i) => a.send(f('A', i + 1))));
  t.same(outcomes, ['sent', 'sent', 'sent', 'rejected', 'rejected']);
  await until(() => all().length === 6);
  t.same(frames(), ['A1', 'A2', 'A3']);
  // On an idle bus one frame goes out at once, two wait, and a request
  // finding the queue full is rejected outright.
  const bus2 = new SerialBus({ line, gapMs: 1 });
  t.teardown(() => bus2.close());
  const b = bus2.device({ name: 'B', queueLimit: 2, overflow: 'reject-newest' });
  const more = Array.from({ length: 3 }, () => b.send(f('B', 9)));
  await t.rejects(b.request(f('B', 9), { push: () => 1 }, 100), { code: 'EQUEUEFULL' });
  t.same(await Promise.all(more), ['sent', 'sent', 'sent']);
  await until(() => all().length === 12);
});

t.test('coalescing: a newer motion frame replaces the queued one in place', async (t) => {
  const bus = new SerialBus({ line, gapMs: 1 });
  t.teardown(() => bus.close());
  const a = bus.device({ name: 'A' });
  const p: Promise<SendOutcome>[] = [];
  p.push(a.send(f('A', 1), { coalesce: 'm' })); // goes out at once
  p.push(a.send(f('A', 2), { coalesce: 'm' })); // queued
  p.push(a.send(f('A', 3))); // another kind of frame
  p.push(a.send(f('A', 4), { coalesce: 'm' })); // replaces 2, keeps 2's place
  t.same(await Promise.all(p), ['sent', 'superseded', 'sent', 'sent']);
  await until(() => all().length === 6);
  t.same(frames(), ['A1', 'A4', 'A3']);
});

/** Reply parser for the test protocol: a reply is 'R' + one byte. */
const replyParser = (): ReplyParser<number> => {
  const buf: number[] = [];
  return {
    push(chunk) {
      buf.push(...chunk);
      const i = buf.indexOf(0x52);
      return i >= 0 && i + 1 < buf.length ? buf[i + 1] : undefined;
    },
  };
};

t.test('request: the reply comes back, split or not', async (t) => {
  const bus = new SerialBus({ line, gapMs: 1 });
  t.teardown(() => bus.close());
  const a = bus.device({ name: 'A' });
  responder = (c) => (c[0] === 0x41 ? Buffer.from([0x00, 0x52, c[1]! * 2]) : undefined);
  t.equal(await a.request(f('A', 21), replyParser(), 1000), 42);
  t.equal(await a.request(f('A', 50), replyParser(), 1000), 100);
  t.equal(bus.strayBytes, 0);
});

t.test('a device that never answers: ETIMEDOUT, and the bus keeps serving the others', async (t) => {
  const bus = new SerialBus({ line, gapMs: 1 });
  t.teardown(() => bus.close());
  const dead = bus.device({ name: 'dead dome' });
  const live = bus.device({ name: 'B' });
  const started = Date.now();
  const q = dead.request(f('D', 1), replyParser(), 200);
  const sends = [live.send(f('B', 1)), live.send(f('B', 2))];
  const err = await q.catch((e: unknown) => e);
  t.ok(err instanceof BusError);
  t.equal((err as BusError).code, 'ETIMEDOUT');
  t.equal((err as BusError).message, 'dead dome: no reply within 200 ms');
  t.ok(Date.now() - started >= 190, 'waited the whole timeout');
  t.same(await Promise.all(sends), ['sent', 'sent']);
  await until(() => all().length === 6);
  t.same(frames(), ['D1', 'B1', 'B2']);
  t.equal(dead.stats.timeouts, 1);
});

t.test('unsolicited bytes are counted, not fed to a later request', async (t) => {
  const bus = new SerialBus({ line, gapMs: 1 });
  t.teardown(() => bus.close());
  const a = bus.device({ name: 'A' });
  far.write(Buffer.from([0x52, 0x07])); // a reply nobody asked for
  await until(() => bus.strayBytes === 2);
  responder = (c) => (c[0] === 0x41 ? Buffer.from([0x52, 0x09]) : undefined);
  t.equal(await a.request(f('A', 1), replyParser(), 1000), 9);
});

t.test('per-device baud rate: the line is switched before each device speaks', async (t) => {
  const bus = new SerialBus({ line, gapMs: 1 });
  t.teardown(() => bus.close());
  const slow = bus.device({ name: 'slow', baudRate: 2400 });
  const fast = bus.device({ name: 'fast', baudRate: 9600 });
  const rates: number[] = [];
  await slow.send(f('S', 1));
  rates.push(line.baudRate);
  await fast.send(f('F', 1));
  rates.push(line.baudRate);
  t.same(rates, [2400, 9600]);
  t.equal(slow.baudRate, 2400);
});

t.test('inter-frame gap: frames are spaced by at least gapMs', async (t) => {
  // Timed where the bus hands frames to the line: the far end may read two frames in one go.
  const times: number[] = [];
  const timed = {
    get baudRate() {
      return line.baudRate;
    },
    write: (d: Uint8Array) => {
      times.push(performance.now());
      return line.write(d);
    },
    setBaudRate: (b: number) => line.setBaudRate(b),
    onData: (l: (c: Buffer) => void) => line.onData(l),
  };
  const bus = new SerialBus({ line: timed, gapMs: 40 });
  t.teardown(() => bus.close());
  const a = bus.device({ name: 'A' });
  await Promise.all([1, 2, 3].map((i) => a.send(f('A', i))));
  await until(() => all().length === 6);
  t.equal(times.length, 3);
  t.ok(times[1]! - times[0]! >= 39, `gap ${times[1]! - times[0]!} ms`);
  t.ok(times[2]! - times[1]! >= 39, `gap ${times[2]! - times[1]!} ms`);
});

t.test('close: queued frames end "closed", requests reject, later sends too', async (t) => {
  const bus = new SerialBus({ line, gapMs: 50 });
  const a = bus.device({ name: 'A' });
  const first = a.send(f('A', 1));
  const queued = a.send(f('A', 2));
  const req = a.request(f('A', 3), replyParser(), 1000);
  bus.close();
  t.equal(await queued, 'closed');
  await t.rejects(req, { code: 'ECLOSED' });
  t.equal(await a.send(f('A', 4)), 'closed');
  t.throws(() => bus.device({ name: 'late' }), { code: 'ECLOSED' });
  await first;
  bus.close(); // twice is fine
});

t.test('a failed write is reported and the bus goes on', async (t) => {
  const broken = {
    baudRate: 9600,
    writes: 0,
    async write(): Promise<void> {
      if (this.writes++ === 0) throw new Error('EIO: unplugged');
    },
    async setBaudRate(): Promise<void> {},
    onData: () => () => {},
  };
  const bus = new SerialBus({ line: broken, gapMs: 0 });
  const a = bus.device({ name: 'A' });
  t.equal(await a.send(Buffer.from([1])), 'failed');
  t.equal(await a.send(Buffer.from([2])), 'sent');
  await t.rejects(bus.device({ name: 'B' }).request(Buffer.from([3]), replyParser(), 10), { code: 'ETIMEDOUT' });
  t.equal(a.stats.failed, 1);
  t.throws(() => bus.device({ name: 'C', queueLimit: 0 }), /queueLimit/);
  bus.close();
});
