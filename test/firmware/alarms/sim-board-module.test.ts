// The sim board's RS-485 line with a Modbus I/O module beside the PTZ dome
// (`make run`): both simulators on their own drops of one multi-drop line,
// the firmware's module polling and its PTZ service on the other end, and the
// module driven through its control FIFO as a developer would.
import t from 'tap';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SharedLines } from '../../../drivers/serial/index.js';
import { alarmsConfigSchema, ModbusIoService } from '../../../firmware/alarms/index.js';
import { EventBus } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { Logger } from '../../../firmware/core/log.js';
import { PtzService } from '../../../firmware/ptz/index.js';
import { simProfileModules, startSimBoard } from '../../../scripts/sim/sim-board.js';
import { freePort } from '../../helpers/firmware.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('the sim board puts its factory module on the dome\'s line', async (t) => {
  t.same(simProfileModules(), [{ address: 2, inputs: 8, outputs: 8 }]);
});

t.test('a module and a dome on one sim RS-485 line: both answer, the module follows its control FIFO', async (t) => {
  const varDir = mkdtempSync(join(tmpdir(), 'sim-board-modbus-'));
  const said: string[] = [];
  const board = await startSimBoard({ varDir, mqttPort: await freePort(), rtspPort: 0, cameras: 0, domes: [1], modules: [{ address: 2, inputs: 8, outputs: 8 }], log: (l) => said.push(l) });
  t.teardown(async () => {
    await board.stop();
    rmSync(varDir, { recursive: true, force: true });
  });
  const [m] = board.modules;
  t.match(m, { address: 2, end: join(varDir, 'sim', 'rs485-modbus-2'), control: join(varDir, 'sim', 'modbus-2.control') });
  t.equal(board.pids.length, 6, 'mosquitto, a socat per drop (firmware, dome, module), the dome and the module');

  const bus = new EventBus();
  const log = new Logger('t', { sink: () => {} });
  const lines = new SharedLines({ log });
  const io = new ModbusIoService({
    bus,
    clock: systemClock,
    log,
    lines,
    line: (_name, baudRate) => ({ path: board.rs485.firmwareEnd, baudRate }),
    modules: () => alarmsConfigSchema.parse({ modules: [{ id: 'io1', bus: 'bus1', address: 2, pollMs: 50 }] }).modules,
  });
  const ptz = new PtzService({ line: { path: board.rs485.firmwareEnd, baudRate: 9600 }, domes: [{ id: 'd1', protocol: 'd', address: 1 }], shared: { lines, name: 'bus1' } });
  t.teardown(async () => {
    await ptz.stop();
    await io.stop();
  });
  await io.start();
  await ptz.start();
  t.match(io.status(), [{ online: true }], 'the module answers through the hub');
  const edges: [number, boolean][] = [];
  io.module('io1').onInput((i, v) => edges.push([i, v]));

  appendFileSync(m!.control, 'in 3 1\n');
  for (let i = 0; i < 200 && edges.length === 0; i++) await sleep(10);
  t.same(edges, [[2, true]], 'input 3 closed from the control FIFO');
  appendFileSync(m!.control, 'in 3 banana\n'); // refused by the module, which stays on the bus
  appendFileSync(m!.control, 'in 3 0\n');
  for (let i = 0; i < 200 && edges.length < 2; i++) await sleep(10);
  t.same(edges, [[2, true], [2, false]]);
  t.ok(said.includes('[modbus-2] modbus-io-sim: in 3 takes 0 or 1, got "banana"'), 'a bad control line is refused in words');

  const dome = ptz.dome('d1');
  const before = await dome.position!();
  await dome.move(1, 0, 0);
  await sleep(300);
  await dome.stop();
  const after = await dome.position!();
  t.not(after.pan, before.pan, `the dome's answers cross the hub too (${before.pan} -> ${after.pan})`);
  t.equal(io.status()[0]!.online, true, 'the dome\'s traffic never made the module look lost');

  await ptz.stop();
  await io.stop();
  await board.stop();
  t.notOk(existsSync(board.rs485.firmwareEnd), 'the drops are gone with their socat');
});
