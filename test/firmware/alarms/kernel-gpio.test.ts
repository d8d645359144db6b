// KernelAlarmGpio (the AlarmGpio port on drivers/gpio) on the host. The host
// kernel has no GPIO chips, so the chip ioctls go to the stand-in kernel of
// the driver tests; each line request's fd is a real FIFO, so the driver's
// event thread poll()s and read()s it for real and the test writes the
// kernel's 48-byte event records into it. The same port runs against gpio-sim
// in test/drivers/gpio/gpio-sim.test.ts.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeEvent, encodeLineConfig } from '../../../drivers/gpio/index.js';
import { O_NONBLOCK, O_RDONLY, open } from '../../../drivers/libc/index.js';
import { KernelAlarmGpio, type PortEdge } from '../../../firmware/alarms/index.js';
import { standInKernel } from '../../drivers/gpio/fixtures/stand-in-kernel.js';

function fifos(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'alarm-fifo-'));
  const writers: number[] = [];
  t.teardown(() => {
    for (const w of writers) closeSync(w);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    writers,
    requestFd: () => {
      const path = join(dir, `req${writers.length}`);
      execFileSync('mkfifo', [path]);
      const fd = open(path, O_RDONLY | O_NONBLOCK);
      writers.push(openSync(path, 'w'));
      return fd;
    },
  };
}

const until = async (fn: () => boolean) => {
  for (let i = 0; i < 300 && !fn(); i++) await sleep(10);
};

t.test('inputs: one request per chip, edges from the event thread, chip removal', async (t) => {
  const f = fifos(t);
  const k = standInKernel({ requestFd: f.requestFd });
  t.teardown(k.restore);
  const gpio = new KernelAlarmGpio();
  t.teardown(() => gpio.close());
  const edges: [string, PortEdge][] = [];
  const errors: Error[] = [];
  const group = await gpio.openInputs(
    '/dev/gpiochip1',
    [
      { name: 'door', line: 0, activeLow: false, debounceUs: 20_000, pullUp: false },
      { name: 'pir', line: 1, activeLow: true, debounceUs: 0, pullUp: true },
    ],
    { edge: (n, e) => edges.push([n, e]), error: (e) => errors.push(e) },
  );
  t.equal(group.kernelDebounce, true, 'the kernel reports the debounce period it was asked for');
  t.same([...group.values()], [['door', true], ['pir', false]]);
  t.match(k.chips['/dev/gpiochip1'].used, new Map([[0, 'dvr-alarms'], [1, 'dvr-alarms']]), 'consumer dvr-alarms');
  const asked = [...k.fds.values()].find((x) => x.offsets?.join() === '0,1')?.config;
  t.same(
    asked,
    encodeLineConfig([
      { offset: 0, direction: 'input', edge: 'both', debounceUs: 20_000, bias: 'as-is' },
      { offset: 1, direction: 'input', edge: 'both', activeLow: true, bias: 'pull-up' },
    ]),
    'both edges, the debounce period, and a pull-up on the active-low line',
  );
  writeSync(
    f.writers[0],
    Buffer.concat([
      encodeEvent({ timestampNs: 10n, edge: 'falling', offset: 0, seqno: 1, lineSeqno: 1 }),
      encodeEvent({ timestampNs: 20n, edge: 'rising', offset: 1, seqno: 2, lineSeqno: 1 }),
      encodeEvent({ timestampNs: 30n, edge: 'rising', offset: 7, seqno: 3, lineSeqno: 1 }),
    ]),
  );
  await until(() => edges.length >= 2);
  await sleep(50);
  t.same(edges, [
    ['door', { value: false, timestampNs: 10n, seqno: 1, lineSeqno: 1 }],
    ['pir', { value: true, timestampNs: 20n, seqno: 2, lineSeqno: 1 }],
  ], 'edges by line name; a line not asked for is ignored');
  closeSync(f.writers.pop()!); // the chip goes away
  await until(() => errors.length > 0);
  t.match(errors[0].message, /the device is gone/);
  await group.close();
  t.ok(k.calls.some((c) => c.startsWith('close ')), 'request fd closed');
});

t.test('a kernel that takes no debounce: the service is told to debounce', async (t) => {
  const f = fifos(t);
  const k = standInKernel({ requestFd: f.requestFd });
  t.teardown(k.restore);
  k.noDebounce();
  const gpio = new KernelAlarmGpio();
  const group = await gpio.openInputs('/dev/gpiochip0', [{ name: 'in1', line: 0, activeLow: false, debounceUs: 5000, pullUp: false }], { edge: () => {}, error: () => {} });
  t.equal(group.kernelDebounce, false);
  await group.close();
  await gpio.close();
  await gpio.close();
});

t.test('outputs: initial values, set and get by name', async (t) => {
  const k = standInKernel();
  t.teardown(k.restore);
  const gpio = new KernelAlarmGpio();
  const out = await gpio.openOutputs('/dev/gpiochip0', [
    { name: 'relay1', line: 2, activeLow: false, initial: false },
    { name: 'buzzer', line: 3, activeLow: false, initial: false },
  ]);
  out.set('relay1', true);
  t.equal(k.chips['/dev/gpiochip0'].values[2], true);
  t.equal(out.get('relay1'), true);
  t.equal(out.get('buzzer'), false);
  t.throws(() => out.set('siren', true), /no output line "siren"/);
  out.close();
  t.equal(k.chips['/dev/gpiochip0'].used.get(2), 'dvr-alarms');
});

t.test('errors: a missing chip, a busy line', async (t) => {
  const f = fifos(t);
  const k = standInKernel({ requestFd: f.requestFd });
  t.teardown(k.restore);
  const gpio = new KernelAlarmGpio();
  const h = { edge: () => {}, error: () => {} };
  await t.rejects(gpio.openInputs('/dev/gpiochip7', [{ name: 'x', line: 0, activeLow: false, debounceUs: 0, pullUp: false }], h), { code: 'ENOENT' });
  await t.rejects(gpio.openOutputs('/dev/gpiochip7', [{ name: 'x', line: 0, activeLow: false, initial: false }]), { code: 'ENOENT' });
  k.chips['/dev/gpiochip0'].used.set(0, 'someone');
  await t.rejects(gpio.openInputs('/dev/gpiochip0', [{ name: 'in1', line: 0, activeLow: false, debounceUs: 0, pullUp: false }], h), { code: 'EBUSY' });
  t.equal(k.fds.size, 0, 'the chip fd is closed after a failed request');
  await gpio.close();
});
