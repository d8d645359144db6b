// Modbus I/O modules over a real serial line: a socat pty pair with the
// module simulator (test/fixtures/modbus-io-sim.ts) on the far end, the
// AlarmService on top through CompositeAlarmGpio. Real time throughout: the
// bus, the polls and the simulator all run on the wall clock.
import t, { type Test } from 'tap';
import { symlinkSync } from 'node:fs';
import { SharedLines } from '../../../drivers/serial/index.js';
import {
  AlarmService,
  CompositeAlarmGpio,
  ModbusAlarmGpio,
  ModbusIoService,
  alarmsConfigSchema,
  moduleBoardLines,
  type AlarmsConfig,
} from '../../../firmware/alarms/index.js';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { Logger, type LogRecord } from '../../../firmware/core/log.js';
import { PtzService } from '../../../firmware/ptz/index.js';
import { ModbusIoSim, simCrc } from '../../fixtures/modbus-io-sim.js';
import { PtzDomeSim, ptyPair, type PtyPair } from '../../fixtures/ptz-dome-sim.js';
import { GpioStandIn } from './fixtures/gpio-stand-in.js';

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(t: Test, what: string, cond: () => boolean, timeoutMs = 4000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) {
      t.fail(`timed out waiting for ${what}`);
      return;
    }
    await sleep(5);
  }
}

interface Setup {
  pair: PtyPair;
  sim: ModbusIoSim;
  standIn: GpioStandIn;
  bus: EventBus;
  logs: LogRecord[];
  lines: SharedLines;
  io: ModbusIoService;
  alarms: AlarmService;
  of: (name: keyof BusEvents) => Record<string, unknown>[];
}

async function setup(t: Test, config: unknown, simOptions: ConstructorParameters<typeof ModbusIoSim>[0] = {}): Promise<Setup> {
  const pair = await ptyPair();
  const sim = new ModbusIoSim({ port: pair.b, address: 3, ...simOptions });
  await sim.open();
  const bus = new EventBus();
  const logs: LogRecord[] = [];
  const log = new Logger('alarms', { sink: (r) => logs.push(r), level: 'debug' });
  const cfg: AlarmsConfig = alarmsConfigSchema.parse(config);
  const lines = new SharedLines({ log });
  const io = new ModbusIoService({
    bus,
    clock: systemClock,
    log,
    lines,
    line: (name, baudRate) => (name === 'bus1' ? { path: pair.a, baudRate } : undefined),
    modules: () => cfg.modules,
    // Generous: under a loaded CI machine (QEMU guests beside it) a reply in the same process can take >100 ms.
    timeoutMs: 400,
  });
  // One GPIO chip beside the modules, to show the composite keeps it on the kernel's side.
  const CHIP = '/dev/gpiochip0';
  const standIn = new GpioStandIn(systemClock, { chips: { [CHIP]: 4 } });
  const modules = moduleBoardLines(cfg.modules);
  const alarms = new AlarmService({
    bus,
    clock: systemClock,
    log,
    gpio: new CompositeAlarmGpio(standIn, new ModbusAlarmGpio(io)),
    board: () => ({
      alarmInputs: [{ name: 'in1', chip: CHIP, line: 0, activeLow: false }, ...modules.alarmInputs],
      relays: [{ name: 'relay1', chip: CHIP, line: 1, activeLow: false }, ...modules.relays],
      buzzer: null,
    }),
    config: () => cfg,
    timezone: () => 'UTC',
  });
  const events: { name: keyof BusEvents; e: Record<string, unknown> }[] = [];
  for (const name of ['alarm', 'alarmInput', 'alarmFault', 'alarmRestored', 'alarmModuleState', 'relayState'] as const) {
    bus.on(name, (e) => events.push({ name, e: e as Record<string, unknown> }));
  }
  t.teardown(async () => {
    await alarms.stop();
    await sim.close();
    await pair.close();
  });
  return { pair, sim, standIn, bus, logs, lines, io, alarms, of: (name) => events.filter((x) => x.name === name).map((x) => x.e) };
}

const oneModule = (extra: Record<string, unknown> = {}) => ({
  inputs: [{ input: 'io1.in2', name: 'Back door', debounceMs: 30 }],
  modules: [{ id: 'io1', bus: 'bus1', address: 3, pollMs: 50, ...extra }],
});

t.test('module inputs are alarm inputs: a change becomes alarmInput and, armed, alarm', async (t) => {
  const { sim, standIn, alarms, of } = await setup(t, oneModule());
  sim.setInput(5, true); // already on at start: known from the first poll, not an edge
  await alarms.start();
  const names = alarms.inputs().map((i) => i.input);
  t.same(names, ['in1', ...Array.from({ length: 8 }, (_, i) => `io1.in${i + 1}`)]);
  t.match(alarms.inputs()[2], { input: 'io1.in2', name: 'Back door', active: false, armed: true, fault: null });
  t.match(alarms.inputs()[5], { input: 'io1.in5', active: true }, 'input 5 read at start');
  t.same(of('alarmInput'), []);
  t.match(of('alarm'), [{ input: 'io1.in5', active: true }], 'armed and active at start: raised at start, as for GPIO');
  t.equal(of('alarm')[0]!.source, 'modbus:io1', 'the source names the module, not GPIO');
  t.match(of('alarmModuleState'), [{ module: 'io1', bus: 'bus1', address: 3, state: 'online', previous: null }], 'its first answer says it is there');
  t.match(alarms.modules(), [{ id: 'io1', online: true, since: Number, error: null, lastError: null }]);
  const of2 = () => of('alarm').filter((e) => e.input === 'io1.in2');

  sim.setInput(2, true);
  await until(t, 'the alarm', () => of2().length > 0);
  t.match(of('alarmInput'), [{ input: 'io1.in2', active: true, armed: true }]);
  t.match(of2(), [{ input: 'io1.in2', active: true }]);
  sim.setInput(2, false);
  await until(t, 'the alarm to clear', () => of2().length > 1);
  t.match(of2()[1], { input: 'io1.in2', active: false });

  alarms.arm('io1.in3', 'disarmed');
  sim.setInput(3, true);
  await until(t, 'the disarmed input to report', () => of('alarmInput').some((e) => e.input === 'io1.in3'));
  t.match(of('alarmInput').at(-1), { input: 'io1.in3', active: true, armed: false });
  t.equal(of('alarm').filter((e) => e.input === 'io1.in3').length, 0, 'disarmed: no alarm');
  t.ok(sim.requests('read-inputs').length >= 3, 'polled');

  standIn.pull('/dev/gpiochip0', 0, true);
  await until(t, 'the GPIO alarm', () => of('alarm').some((e) => e.input === 'in1'));
  t.equal(of('alarm').find((e) => e.input === 'in1')!.source, 'gpio', 'a GPIO input keeps source gpio');
});

t.test('relays on a module: on/off reach the coils; all off at start and at stop', async (t) => {
  const { sim, alarms, of } = await setup(t, { ...oneModule(), relays: [{ relay: 'io1.out2', mode: 'momentary', pulseMs: 300 }] });
  await alarms.start();
  t.same(alarms.outputs(), ['relay1', ...Array.from({ length: 8 }, (_, i) => `io1.out${i + 1}`)]);
  await sim.waitFor((r) => r.name === 'write-coils');
  t.same(sim.coils(), new Array(8).fill(false), 'all coils written off at start');
  await alarms.relay('io1.out4', true);
  await until(t, 'coil 4 on', () => sim.coils()[3] === true);
  const crc = simCrc([3, 5, 0, 3, 0xff, 0]);
  t.equal(sim.requests('write-coil').at(-1)!.hex, `03 05 00 03 ff 00 ${hex2(crc & 0xff)} ${hex2(crc >> 8)}`, 'one coil changed: Write Single Coil');
  await alarms.relay('io1.out2', true);
  await until(t, 'coil 2 on', () => sim.coils()[1] === true);
  await until(t, 'the momentary relay to drop after 300 ms', () => sim.coils()[1] === false, 2000);
  t.match(of('relayState'), [{ relay: 'io1.out4', on: true }, { relay: 'io1.out2', on: true }, { relay: 'io1.out2', on: false }]);
  await alarms.relay('io1.out4', false);
  await until(t, 'coil 4 off', () => sim.coils()[3] === false);
  await alarms.relay('io1.out8', true);
  await until(t, 'coil 8 on', () => sim.coils()[7] === true);
  t.match(alarms.relays().find((r) => r.relay === 'io1.out8'), { on: true, fault: null });
  await alarms.stop();
  t.same(sim.coils(), new Array(8).fill(false), 'stop switched the module relays off before letting the bus go');
});

t.test('a module that stops answering: offline with why and since when, alarmFault on its lines; back: online, coils re-written', async (t) => {
  const { sim, alarms, of } = await setup(t, { ...oneModule({ pollMs: 40 }), relays: [] });
  await alarms.start();
  await alarms.relay('io1.out1', true);
  await until(t, 'coil 1 on', () => sim.coils()[0] === true);
  const silentAt = Date.now();
  sim.silent = true;
  sim.setInput(2, true); // changes while it is silent
  await until(t, 'the fault', () => of('alarmFault').length >= 16);
  t.same(of('alarmFault').map((e) => e.line), [...Array.from({ length: 8 }, (_, i) => `io1.in${i + 1}`), ...Array.from({ length: 8 }, (_, i) => `io1.out${i + 1}`)]);
  const why = /Modbus module io1 \(address 3 on bus1\) is not answering since \d{4}-\d\d-\d\dT[\d:.]+Z: device 3, read discrete inputs 0\.\.7: no reply within 400 ms/;
  t.match(of('alarmFault')[0], { source: 'modbus:io1', error: why });
  t.match(of('alarmModuleState'), [{ state: 'online', previous: null }, { module: 'io1', bus: 'bus1', address: 3, state: 'offline', previous: 'online', detail: /no reply within 400 ms/ }]);
  const [down] = alarms.modules();
  t.match(down, { id: 'io1', online: false, error: /no reply/, lastError: /no reply/ });
  t.ok(down!.since! >= silentAt && down!.since! <= Date.now(), 'since: when it was found silent');
  t.equal(of('alarmModuleState')[1]!.at, down!.since);
  t.match(alarms.inputs().find((i) => i.input === 'io1.in2'), { active: false, fault: why }, 'its inputs say why, and keep their last value');
  t.match(alarms.relays().find((r) => r.relay === 'io1.out1'), { on: true, fault: why });
  t.match(alarms.inputs().find((i) => i.input === 'in1'), { fault: null }, 'the GPIO line is not concerned');
  await alarms.relay('io1.out3', true); // resolves: kept for when it answers
  t.same(of('alarm'), [], 'nothing seen while silent');
  const polls = sim.requests('read-inputs').length;
  await sleep(400);
  t.ok(sim.requests('read-inputs').length - polls <= 1, 'lost: polled once a second, not every 40 ms, so it does not hold the shared bus');
  t.equal(of('alarmFault').length, 16, 'reported once, not at every poll');
  t.equal(of('alarmModuleState').length, 2);
  // It was power-cycled meanwhile: its relays dropped.
  sim.powerCycle();
  sim.silent = false;
  await until(t, 'the recovery', () => of('alarmRestored').length >= 16);
  t.match(of('alarmRestored')[0], { source: 'modbus:io1', line: 'io1.in1' });
  t.match(of('alarmModuleState')[2], { state: 'online', previous: 'offline' });
  await until(t, 'the change made while silent to arrive', () => of('alarm').length > 0);
  t.match(of('alarm'), [{ source: 'modbus:io1', input: 'io1.in2', active: true }]);
  t.match(of('alarmInput'), [{ input: 'io1.in2', active: true }], 'only the input that changed, not all eight');
  await until(t, 'coils 1 and 3 re-written', () => sim.coils()[0] === true && sim.coils()[2] === true);
  t.match(alarms.modules(), [{ online: true, error: null, lastError: /no reply/ }], 'the last error stays for the record');
  t.ok(alarms.modules()[0]!.since! > down!.since!);
  t.match(alarms.inputs().find((i) => i.input === 'io1.in2'), { active: true, fault: null });
  t.match(alarms.relays().find((r) => r.relay === 'io1.out1'), { on: true, fault: null });
});

t.test('a change still settling when the module goes silent is dropped, and counted once it answers again', async (t) => {
  // The debounce outlasts the three unanswered polls (3 x 400 ms) that make the module lost.
  const { sim, alarms, of, io } = await setup(t, { inputs: [{ input: 'io1.in2', debounceMs: 3000 }], modules: [{ id: 'io1', bus: 'bus1', address: 3, pollMs: 30 }] });
  await alarms.start();
  let seen = false;
  io.module('io1').onInput((i) => (seen ||= i === 1));
  sim.setInput(2, true);
  await until(t, 'the poll to see the change', () => seen);
  sim.silent = true; // within the 3 s it must hold
  await until(t, 'the module to be lost', () => of('alarmModuleState').some((e) => e.state === 'offline'));
  await sleep(2500);
  t.same(of('alarmInput'), [], 'not accepted: nothing said it held');
  t.same(of('alarm'), []);
  t.match(alarms.inputs().find((i) => i.input === 'io1.in2'), { active: false, fault: /not answering/ });
  sim.silent = false;
  await until(t, 'the alarm once it answers and the input held', () => of('alarm').length > 0, 6000);
  t.match(of('alarmInput'), [{ input: 'io1.in2', active: true }]);
  t.match(of('alarm'), [{ source: 'modbus:io1', input: 'io1.in2', active: true }]);
});

t.test('bad bytes on the line: noise before replies, garbage between polls; nothing breaks', async (t) => {
  const { sim, alarms, of, io } = await setup(t, oneModule({ pollMs: 30 }));
  sim.replyNoise = [0x03, 0x02, 0xfa, 0x00, 0xff];
  await alarms.start();
  for (let i = 0; i < 5; i++) await sim.sendGarbage([0x03, 0x02, 0x01, 0xff, 0x12, 0x03]);
  sim.setInput(2, true);
  await until(t, 'the alarm through the noise', () => of('alarm').length > 0);
  t.same(of('alarmFault'), []);
  t.equal(io.status()[0]!.online, true);
});

t.test('a module with fewer inputs than configured: its exception is the fault', async (t) => {
  const { alarms, of } = await setup(t, { modules: [{ id: 'io1', bus: 'bus1', address: 3, inputs: 16, pollMs: 30 }] }, { inputs: 8 });
  await alarms.start();
  await until(t, 'the fault', () => of('alarmFault').length > 0);
  t.match(of('alarmFault')[0], { line: 'io1.in1', error: /exception 2 \(illegal data address\)/ });
  t.match(of('alarmModuleState'), [{ state: 'offline', previous: null, detail: /illegal data address/ }], 'never answered: offline, with no previous state');
});

t.test('configuration mistakes: an unknown line, duplicate ids or addresses', async (t) => {
  const { alarms, of, io } = await setup(t, { modules: [{ id: 'io9', bus: 'nope', address: 9 }] });
  await alarms.start();
  t.match(of('alarmFault')[0], { line: 'io9.in1', error: /RS-485 line "nope" is not on this board/ });
  t.match(alarms.modules(), [{ id: 'io9', online: false, error: /RS-485 line "nope" is not on this board/ }]);
  t.match(alarms.inputs().find((i) => i.input === 'io9.in1'), { active: null, fault: /not on this board/ }, 'lost before its lines were opened: they say so');
  t.match(alarms.inputs().find((i) => i.input === 'in1'), { fault: null }, 'the GPIO line is unaffected');
  await alarms.stop();
  const dup = new ModbusIoService({
    bus: new EventBus(),
    clock: systemClock,
    log: new Logger('x', { sink: () => {} }),
    lines: new SharedLines(),
    line: () => undefined,
    modules: () => alarmsConfigSchema.parse({ modules: [{ id: 'a', bus: 'b', address: 1 }, { id: 'c', bus: 'b', address: 1 }] }).modules,
  });
  await t.rejects(dup.start(), /"a" and "c" both have address 1 on b/);
  t.throws(() => io.module('io9'), /not started/);
  t.same(alarmsConfigSchema.parse({}).modules, [], 'no modules by default');
  t.match(alarmsConfigSchema.parse({ modules: [{ id: 'm', bus: 'bus1', address: 1 }] }).modules[0], { baudRate: 9600, inputs: 8, outputs: 8, pollMs: 100 });
  t.throws(() => alarmsConfigSchema.parse({ modules: [{ id: 'm', bus: 'bus1', address: 248 }] }));
  t.throws(() => alarmsConfigSchema.parse({ modules: [{ id: 'm', bus: 'bus1', address: 1, inputs: 33 }] }));
});

t.test('PTZ domes and a module on one RS-485 line: both get through a joystick flood', async (t) => {
  const pair = await ptyPair();
  const dome = new PtzDomeSim({ protocol: 'd', addresses: [1] });
  // One pty end, two devices listening on it: the module simulator hands every byte to the dome too.
  const sim = new ModbusIoSim({ port: pair.b, address: 3, tap: (chunk) => dome.handle(chunk) });
  await sim.open();
  const bus = new EventBus();
  const log = new Logger('t', { sink: () => {} });
  const lines = new SharedLines({ log });
  const io = new ModbusIoService({
    bus,
    clock: systemClock,
    log,
    lines,
    line: (_name, baudRate) => ({ path: pair.a, baudRate }),
    modules: () => alarmsConfigSchema.parse({ modules: [{ id: 'io1', bus: 'bus1', address: 3, pollMs: 50 }] }).modules,
    timeoutMs: 300,
  });
  const ptz = new PtzService({
    line: { path: pair.a, baudRate: 9600 },
    domes: [{ id: 'd1', protocol: 'd', address: 1, baudRate: 9600 }],
    shared: { lines, name: 'bus1' },
  });
  t.teardown(async () => {
    await ptz.stop();
    await io.stop();
    await sim.close();
    await pair.close();
  });
  await io.start();
  await ptz.start();
  t.same([...lines.users()], [['bus1', 2]], 'one bus, two users');
  const edges: [number, boolean][] = [];
  io.module('io1').onInput((i, v) => edges.push([i, v]));

  // A joystick streaming moves as fast as it can for a second, and presets among them.
  const controller = ptz.dome('d1');
  const end = Date.now() + 1000;
  let moves = 0;
  const flood = (async () => {
    while (Date.now() < end) {
      void controller.move(Math.sin(moves) * 0.5, 0.2, 0).catch(() => {});
      moves++;
      if (moves % 50 === 0) await controller.gotoPreset(moves / 50).catch(() => {});
      await sleep(1);
    }
  })();
  await sleep(200);
  sim.setInput(1, true);
  const t0 = Date.now();
  await until(t, 'the input edge during the flood', () => edges.length > 0, 2000);
  const latency = Date.now() - t0;
  io.module('io1').setCoil(6, true);
  await until(t, 'coil 7 during the flood', () => sim.coils()[6] === true, 2000);
  await flood;
  await controller.stop();
  await dome.waitFor((c) => c.name === 'stop');
  t.same(edges, [[0, true]]);
  t.ok(latency < 600, `input seen ${latency} ms after it changed, under a flood of ${moves} moves`);
  t.ok(dome.commands('move').length > 5, `dome got ${dome.commands('move').length} moves (coalesced from ${moves})`);
  t.ok(dome.commands('preset-goto').length >= 1, 'and its presets');
  t.ok(sim.requests('read-inputs').length >= 5, `module polled ${sim.requests('read-inputs').length} times`);
  t.equal(io.status()[0]!.online, true, 'the module never looked lost');
  t.equal(sim.requests('exception').length, 0);
  await ptz.stop();
  t.same([...lines.users()], [['bus1', 1]], 'the PTZ service let go; the module keeps the line');
  sim.setInput(1, false);
  await until(t, 'polling goes on alone', () => edges.length > 1);
  await io.stop();
  t.same([...lines.users()], [], 'last user closed the line');
});

t.test('a line that is not there yet: fault at once, then the module comes up when the line does', async (t) => {
  const pair = await ptyPair();
  const sim = new ModbusIoSim({ port: pair.b, address: 3 });
  await sim.open();
  const late = `${pair.a}-late`;
  const bus = new EventBus();
  const faults: BusEvents['alarmFault'][] = [];
  const restored: BusEvents['alarmRestored'][] = [];
  bus.on('alarmFault', (e) => faults.push(e));
  bus.on('alarmRestored', (e) => restored.push(e));
  const io = new ModbusIoService({
    bus,
    clock: systemClock,
    log: new Logger('t', { sink: () => {} }),
    lines: new SharedLines(),
    line: (_name, baudRate) => ({ path: late, baudRate }),
    modules: () => alarmsConfigSchema.parse({ modules: [{ id: 'io1', bus: 'bus1', address: 3, inputs: 2, outputs: 0, pollMs: 30 }] }).modules,
    retryMs: 100,
  });
  t.teardown(async () => {
    await io.stop();
    await sim.close();
    await pair.close();
  });
  await io.start();
  t.match(faults, [{ line: 'io1.in1', error: /RS-485 line "bus1" cannot be opened/ }, { line: 'io1.in2' }]);
  symlinkSync(pair.a, late); // the USB adapter is plugged in
  await until(t, 'the module to come up', () => restored.length === 2);
  t.equal(io.status()[0]!.online, true);
});
