// wireAlarms and wirePtz on the sim board (no GPIO alarm lines, one RS-485
// line) with a Modbus module configured beside the sim board's dome: the
// alarm service runs for the module alone, and the dome and the module share
// the line's one bus. The line is a socat pty pair; both simulators listen
// on its far end.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SharedLines } from '../../../drivers/serial/index.js';
import { loadBoardProfile } from '../../../firmware/board/profile.js';
import { ConfigStore } from '../../../firmware/config/store.js';
import { EventBus, type BusEvents } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { Logger } from '../../../firmware/core/log.js';
import { Supervisor } from '../../../firmware/core/supervisor.js';
import { rs485GapMs, wireAlarms } from '../../../firmware/wiring/alarms.js';
import { wirePtz } from '../../../firmware/wiring/ptz.js';
import type { Wiring } from '../../../firmware/wiring/context.js';
import { ModbusIoSim } from '../../fixtures/modbus-io-sim.js';
import { PtzDomeSim, ptyPair } from '../../fixtures/ptz-dome-sim.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a module-only alarm service and the sim board dome on one RS-485 bus', async (t) => {
  const pair = await ptyPair();
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-modbus-wiring-'));
  mkdirSync(join(varDir, 'sim'));
  symlinkSync(pair.a, join(varDir, 'sim', 'rs485-dvr')); // where the sim board's bus1 points
  const board = loadBoardProfile('sim', varDir);
  t.same(board.gpio.alarmInputs, [], 'the sim board has no GPIO alarm lines');
  const dome = new PtzDomeSim({ protocol: 'd', addresses: [1] });
  const sim = new ModbusIoSim({ port: pair.b, address: 5, tap: (chunk) => dome.handle(chunk) });
  await sim.open();
  const bus = new EventBus();
  const log = new Logger('t', { sink: () => {} });
  const defaults = board.configDefaults as Record<string, unknown>;
  const config = new ConfigStore({
    dir: join(varDir, 'config'),
    log,
    boardDefaults: { ...defaults, alarms: { inputs: [{ input: 'gate.in1', debounceMs: 0 }], modules: [{ id: 'gate', bus: 'bus1', address: 5, pollMs: 50 }] } },
  });
  await config.load();
  const supervisor = new Supervisor({ bus, log, clock: systemClock });
  const rs485Lines = new SharedLines({ log, gapMs: (line) => rs485GapMs(config.get().alarms.modules, line) });
  const w: Wiring = { bus, clock: systemClock, log, board, config, supervisor, rs485Lines, addCommands: () => {} };
  const alarms = wireAlarms(w);
  const ptz = wirePtz(w, new Map());
  t.teardown(async () => {
    await supervisor.stop();
    await sim.close();
    await pair.close();
    rmSync(varDir, { recursive: true, force: true });
  });
  t.ok(alarms, 'the alarm service is wired for the module alone');
  t.ok(ptz);
  const seen: BusEvents['alarm'][] = [];
  bus.on('alarm', (e) => seen.push(e));
  await supervisor.start();
  t.same(alarms!.outputs(), Array.from({ length: 8 }, (_, i) => `gate.out${i + 1}`));
  t.same([...rs485Lines.users()], [['bus1', 2]], 'PTZ and the module hold the same bus');

  await ptz!.dome('dome1').gotoPreset(2);
  await dome.waitFor((c) => c.name === 'preset-goto' && c.preset === 2);
  sim.setInput(1, true);
  for (let i = 0; i < 400 && seen.length === 0; i++) await sleep(5);
  t.match(seen, [{ input: 'gate.in1', active: true }]);
  await alarms!.relay('gate.out3', true);
  for (let i = 0; i < 400 && !sim.coils()[2]; i++) await sleep(5);
  t.equal(sim.coils()[2], true);
  await supervisor.stop();
  t.same([...rs485Lines.users()], [], 'both let go; the line is closed');
  t.equal(sim.coils()[2], false, 'relays off on the way down');
});

t.test('the line gap: 5 ms, or 3.5 characters of the slowest module when longer', async (t) => {
  const m = (bus: string, baudRate: number) => ({ id: `m${baudRate}`, bus, address: 1, baudRate, inputs: 8, outputs: 8, pollMs: 100 });
  t.equal(rs485GapMs([], 'bus1'), undefined, 'no module: the bus default');
  t.equal(rs485GapMs([m('bus1', 9600)], 'bus1'), 5);
  t.equal(rs485GapMs([m('bus1', 9600), m('bus1', 2400), m('bus2', 1200)], 'bus1'), 17);
});
