// GpioChip, LineRequest and EventWatcher on the host. The host kernel has no
// GPIO chips (gpio-sim.test.ts runs the binding against the real driver in
// the virtual board), so the chip ioctls here go to a stand-in kernel that
// reads and writes the same struct bytes gpiolib-cdev does. What the host can
// do for real is done for real: ENOENT and ENOTTY from the host kernel, and
// the event thread poll()ing and read()ing a real FIFO carrying
// gpio_v2_line_event records, then seeing it hang up as a removed chip does.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeEvent, EventWatcher, findLine, GpioChip, listChips, type LineEvent } from '../../../drivers/gpio/index.js';
import { close, O_NONBLOCK, O_RDONLY, open } from '../../../drivers/libc/index.js';
import { standInKernel } from './fixtures/stand-in-kernel.js';

t.test('chip info, line info, find a line by name', async (t) => {
  const k = standInKernel();
  t.teardown(k.restore);
  const chip = GpioChip.open('/dev/gpiochip0');
  t.same(chip.info(), { name: 'gpiochip0', label: 'pinctrl', lines: 4 });
  t.same(chip.lines().map((l) => l.name), ['in1', 'in2', 'relay1', '']);
  t.match(chip.findLine('relay1'), { offset: 2, used: false, direction: 'input' });
  t.equal(chip.findLine('nope'), null);
  chip.close();
  chip.close();
  t.throws(() => chip.info(), /gpiochip0 is closed/);
  t.match(findLine('pir', ['/dev/gpiochip0', '/dev/gpiochip1']), { chip: '/dev/gpiochip1', info: { offset: 1, name: 'pir' } });
  t.equal(findLine('nope', ['/dev/gpiochip0']), null);
  t.equal(k.fds.size, 0, 'every fd closed');
});

t.test('line requests: values, outputs, reconfigure, events', async (t) => {
  const k = standInKernel();
  t.teardown(k.restore);
  const chip = GpioChip.open('/dev/gpiochip0');
  const req = chip.request(
    [
      { offset: 0, direction: 'input', edge: 'both' },
      { offset: 1, direction: 'input', edge: 'both' },
      { offset: 2, direction: 'output', value: true },
    ],
    { consumer: 'test' },
  );
  t.match(chip.lineInfo(0), { used: true, consumer: 'test' });
  t.throws(() => chip.request([{ offset: 1, direction: 'input' }], { consumer: 'other' }), { code: 'EBUSY' });
  chip.close();
  t.equal(req.fd, 101);
  t.same(req.offsets, [0, 1, 2]);
  t.same([...req.getValues()], [[0, false], [1, true], [2, false]]);
  req.setValue(2, true);
  t.equal(k.chips['/dev/gpiochip0'].values[2], true, 'SET_VALUES with the right bit and mask');
  t.equal(req.getValue(2), true);
  t.throws(() => req.setValue(3, true), /line 3 is not part of this request/);
  req.reconfigure([{ offset: 0, direction: 'input', edge: 'rising' }, { offset: 1, direction: 'input' }, { offset: 2, direction: 'output' }]);
  t.equal(req.lines[0].edge, 'rising');
  t.throws(() => req.reconfigure([{ offset: 0, direction: 'input' }]), /same lines in the same order/);

  t.same(req.readEvents(), [], 'nothing queued');
  const e: LineEvent = { timestampNs: 5_000_000n, edge: 'rising', offset: 0, seqno: 1, lineSeqno: 1 };
  k.queued.get(101)!.push(encodeEvent(e), encodeEvent({ ...e, edge: 'falling', seqno: 2, lineSeqno: 2 }));
  t.same(req.readEvents(), [e, { ...e, edge: 'falling', seqno: 2, lineSeqno: 2 }]);
  k.hangup();
  t.throws(() => req.readEvents(), /the device is gone/);
  req.close();
  req.close();
  t.equal(req.fd, -1);
  t.throws(() => req.getValues(), /closed/);
  t.throws(() => req.readEvents(), /closed/);
});

t.test('the host kernel: a missing chip is ENOENT, a device that is no chip is ENOTTY', async (t) => {
  t.throws(() => GpioChip.open('/dev/gpiochip-none'), { code: 'ENOENT', path: '/dev/gpiochip-none' });
  const chip = GpioChip.open('/dev/null');
  t.throws(() => chip.info(), { code: 'ENOTTY', message: /GPIO_GET_CHIPINFO_IOCTL\) on \/dev\/null/ });
  chip.close();
});

t.test('listChips: gpiochipN in number order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gpio-list-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const n of ['gpiochip10', 'gpiochip2', 'gpiochip0', 'gpiochipX', 'ttyS0']) writeFileSync(join(dir, n), '');
  t.same(listChips(dir), ['gpiochip0', 'gpiochip2', 'gpiochip10'].map((n) => join(dir, n)));
  t.same(listChips(join(dir, 'missing')), []);
});

t.test('EventWatcher: the event thread reads records from a real fd and sees it hang up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gpio-fifo-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'events');
  execFileSync('mkfifo', [fifo]);
  const fd = open(fifo, O_RDONLY | O_NONBLOCK);
  const writer = openSync(fifo, 'w');
  const watcher = new EventWatcher(20);
  t.teardown(() => watcher.close());
  const got: LineEvent[] = [];
  const errors: Error[] = [];
  const source = { fd, chip: fifo };
  const stop = await watcher.watch(source, { events: (e) => got.push(...e), error: (e) => errors.push(e) });
  t.equal(watcher.size, 1);
  const events: LineEvent[] = [1, 2, 3].map((i) => ({ timestampNs: BigInt(i) * 1_000_000n, edge: i % 2 ? 'rising' : 'falling', offset: 4, seqno: i, lineSeqno: i }));
  writeSync(writer, Buffer.concat(events.map(encodeEvent)));
  for (let i = 0; i < 200 && got.length < 3; i++) await sleep(10);
  t.same(got, events, 'records delivered in order, decoded');
  closeSync(writer); // the hang-up a removed chip gives its requests
  for (let i = 0; i < 200 && errors.length === 0; i++) await sleep(10);
  t.match(errors[0]?.message, /the device is gone/);
  t.equal(watcher.size, 0, 'the failed watch ended');
  await stop();
  close(fd);
  await t.rejects(watcher.watch({ fd: -1, chip: 'x' }, { events: () => {}, error: () => {} }), /closed/);
});

t.test('EventWatcher: stop resolves after the worker lets go of the fd; close ends the thread', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gpio-fifo-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'events');
  execFileSync('mkfifo', [fifo]);
  const fd = open(fifo, O_RDONLY | O_NONBLOCK);
  const writer = openSync(fifo, 'w');
  const watcher = new EventWatcher(20);
  const got: LineEvent[] = [];
  const stop = await watcher.watch({ fd, chip: fifo }, { events: (e) => got.push(...e), error: () => {} });
  const second = await watcher.watch({ fd, chip: fifo }, { events: () => {}, error: () => {} });
  t.equal(watcher.size, 2);
  await stop();
  await stop();
  await second();
  t.equal(watcher.size, 0);
  writeSync(writer, encodeEvent({ timestampNs: 1n, edge: 'rising', offset: 0, seqno: 1, lineSeqno: 1 }));
  await sleep(100);
  t.same(got, [], 'nothing delivered after stop');
  await watcher.close();
  await watcher.close();
  closeSync(writer);
  close(fd);
  // The same watcher starts a new thread when asked again.
  const w2 = new EventWatcher(20);
  const fd2 = open(fifo, O_RDONLY | O_NONBLOCK);
  const stop2 = await w2.watch({ fd: fd2, chip: fifo }, { events: () => {}, error: () => {} });
  await w2.close();
  await stop2();
  close(fd2);
});
