// RS-485 lines whose transceiver's driver-enable is a GPIO: the firmware
// raises it around each frame. The GPIO is the drivers' stand-in kernel (the
// host has no GPIO chip), the serial line a real socat pty pair.
import t from 'tap';
import { SerialLine } from '../../../drivers/serial/index.js';
import { Logger, type LogRecord } from '../../../firmware/core/log.js';
import { loadBoardProfile, BoardProfileError } from '../../../firmware/board/profile.js';
import { releaseDirectionGpios, rs485LineOptions } from '../../../firmware/wiring/rs485.js';
import { standInKernel } from '../../drivers/gpio/fixtures/stand-in-kernel.js';
import { ptyPair } from '../../fixtures/ptz-dome-sim.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

t.test('direction gpio: the driver-enable line is high while a frame leaves, low otherwise', async (t) => {
  const kernel = standInKernel();
  t.teardown(() => {
    releaseDirectionGpios();
    kernel.restore();
  });
  const pair = await ptyPair();
  t.teardown(() => pair.close());
  const records: LogRecord[] = [];
  const log = new Logger('t', { sink: (r) => records.push(r) });
  const de = () => kernel.chips['/dev/gpiochip0']!.values[3];
  const lines = [
    { name: 'bus1', port: pair.a, direction: 'gpio' as const, directionGpio: { name: 'de', chip: '/dev/gpiochip0', line: 3, activeLow: false } },
    { name: 'bus2', port: pair.a, direction: 'gpio' as const, directionGpio: { name: 'de2', chip: '/dev/gpiochip9', line: 0, activeLow: false } },
    { name: 'bus3', port: pair.a, direction: 'kernel-rts' as const, directionGpio: null },
  ];
  const options = rs485LineOptions(lines, 'bus1', 9600, log)!;
  t.equal(de(), false, 'requested as an output, low: the bus is left to the devices');
  t.ok(options.direction, 'a direction hook for the serial line');
  const during: boolean[] = [];
  const line = new SerialLine({ ...options, direction: async (tx) => {
      await options.direction!(tx);
      during.push(de()!);
    },
  });
  const far = new SerialLine({ path: pair.b, baudRate: 9600 });
  await line.open();
  await far.open();
  t.teardown(async () => {
    await line.close();
    await far.close();
  });
  const got: Buffer[] = [];
  far.onData((c) => got.push(c));
  await line.write(Buffer.from([0xff, 0x01, 0x00, 0x08, 0x00, 0x20, 0x29]));
  t.same(during, [true, false], 'high before the bytes, low once they left the UART');
  for (let i = 0; i < 50 && Buffer.concat(got).length < 7; i++) await new Promise((r) => setTimeout(r, 20));
  t.same([...Buffer.concat(got)], [0xff, 0x01, 0x00, 0x08, 0x00, 0x20, 0x29], 'the frame arrived');

  t.equal(rs485LineOptions(lines, 'bus2', 9600, log)!.direction, undefined, 'a missing GPIO chip: no hook...');
  t.match(records.find((r) => r.level === 'error'), { msg: /direction GPIO unavailable/, line: 'bus2' }, '...and an error saying why frames cannot go out');
  t.match(rs485LineOptions(lines, 'bus3', 4800, log), { rs485: true, baudRate: 4800 }, 'kernel-rts: the kernel RS-485 mode instead');
  t.equal(rs485LineOptions(lines, 'nope', 9600, log), undefined);
});

t.test('a board profile with direction gpio but no directionGpio is refused', async (t) => {
  const dir = t.testdir();
  mkdirSync(join(dir, 'bad'));
  // The sim board's profile with its line's transceiver said to be GPIO-driven, and no GPIO given.
  const sim = JSON.parse(readFileSync(join(import.meta.dirname, '../../../board/sim/profile.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'bad', 'profile.json'), JSON.stringify({ ...sim, name: 'bad', rs485: [{ name: 'bus1', port: '/dev/ttyS1', direction: 'gpio' }] }));
  t.throws(() => loadBoardProfile('bad', dir, dir), new BoardProfileError('board "bad": RS-485 line bus1 has direction "gpio" but no directionGpio'));
});
