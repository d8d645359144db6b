// A Modbus I/O module that dies and comes back, as an installer would see it:
// the module simulator is its own process on the far end of a socat pty
// pair (killed with SIGKILL, started again with every relay off), the alarm
// service is wired as the firmware wires it on the sim board, and Home
// Assistant's view comes from a real mosquitto.
import t, { type Test } from 'tap';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SharedLines } from '../../../drivers/serial/index.js';
import type { BusEvents } from '../../../firmware/core/bus.js';
import { EventBus } from '../../../firmware/core/bus.js';
import { systemClock } from '../../../firmware/core/clock.js';
import { Logger } from '../../../firmware/core/log.js';
import { Supervisor } from '../../../firmware/core/supervisor.js';
import { loadBoardProfile } from '../../../firmware/board/profile.js';
import { ConfigStore } from '../../../firmware/config/store.js';
import { MqttService } from '../../../firmware/mqtt/service.js';
import { rs485GapMs, wireAlarms } from '../../../firmware/wiring/alarms.js';
import type { Wiring } from '../../../firmware/wiring/context.js';
import { ptyPair } from '../../fixtures/ptz-dome-sim.js';
import { spawnTs } from '../../helpers/ts-child.js';
import { Broker, retained, Watcher } from '../mqtt/broker.js';

const SIM = join(import.meta.dirname, '../../fixtures/modbus-io-sim.ts');
const STATE = 'dvr/box/module/io1/state';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(t: Test, what: string, cond: () => boolean, timeoutMs = 8000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) {
      t.fail(`timed out waiting for ${what}`);
      return false;
    }
    await sleep(10);
  }
  return true;
}

/** The module simulator's CLI: its decoded requests (with the coils after each), its errors, and its control line. */
class SimProcess {
  readonly requests: { name: string; coils: string }[] = [];
  readonly errors: string[] = [];
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;

  constructor(port: string, args: string[] = []) {
    this.proc = spawnTs(SIM, ['--port', port, '--address', '2', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    let buf = '';
    this.ready = new Promise((resolve, reject) => {
      this.proc.once('exit', (code) => reject(new Error(`modbus-io-sim exited (${code}) before ready: ${this.errors.join(' ')}`)));
      this.proc.stdout!.setEncoding('utf8');
      this.proc.stdout!.on('data', (d: string) => {
        buf += d;
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const line of lines) {
          if (line === 'ready') resolve();
          else if (line.startsWith('{')) this.requests.push(JSON.parse(line) as { name: string; coils: string });
        }
      });
    });
    this.proc.stderr!.on('data', (d) => this.errors.push(String(d)));
  }

  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  /** The coils after its newest write, "1" for on, relay 1 first. */
  coils(): string | undefined {
    return this.requests.filter((r) => r.name === 'write-coil' || r.name === 'write-coils').at(-1)?.coils;
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

t.test('a module killed and started again: offline with why and since when, no input changes meanwhile; back online with its relays', async (t) => {
  const pair = await ptyPair();
  const broker = await Broker.start();
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-module-offline-'));
  mkdirSync(join(varDir, 'sim'));
  symlinkSync(pair.a, join(varDir, 'sim', 'rs485-dvr'));
  let sim = new SimProcess(pair.b);
  t.teardown(async () => {
    await sim.kill();
    await pair.close();
    await broker.stop();
    rmSync(varDir, { recursive: true, force: true });
  });
  await sim.ready;
  sim.send('in 3 1'); // a door already open before the box starts

  const board = loadBoardProfile('sim', varDir);
  const bus = new EventBus();
  const log = new Logger('t', { sink: () => {} });
  const config = new ConfigStore({
    dir: join(varDir, 'config'),
    log,
    boardDefaults: {
      ...(board.configDefaults as Record<string, unknown>),
      ptz: { domes: [], tours: [] },
      mqtt: { enabled: true, url: broker.url, deviceId: 'box' },
      alarms: { inputs: [{ input: 'io1.in3', name: 'Back door', debounceMs: 0 }], modules: [{ id: 'io1', bus: 'bus1', address: 2, pollMs: 50 }] },
    },
  });
  await config.load();
  const supervisor = new Supervisor({ bus, log, clock: systemClock });
  const mqtt = new MqttService({
    bus,
    log,
    settings: () => ({ mqtt: config.get().mqtt, systemName: config.get().system.name }),
    dataDir: join(varDir, 'data'),
    device: { model: 'sim', manufacturer: 'dvr-firmware', swVersion: '0.0.0' },
  });
  supervisor.add(mqtt);
  const rs485Lines = new SharedLines({ log, gapMs: (line) => rs485GapMs(config.get().alarms.modules, line) });
  const w: Wiring = { bus, clock: systemClock, log, board, config, supervisor, mqtt, rs485Lines, addCommands: () => {} };
  const alarms = wireAlarms(w)!;
  t.teardown(() => supervisor.stop());
  const events: { name: string; e: Record<string, unknown> }[] = [];
  for (const name of ['alarm', 'alarmInput', 'alarmFault', 'alarmRestored', 'alarmModuleState'] as const) {
    bus.on(name, (e: BusEvents[typeof name]) => events.push({ name, e: e as Record<string, unknown> }));
  }
  const of = (name: string, from = 0) => events.slice(from).filter((x) => x.name === name).map((x) => x.e);
  const watcher = await Watcher.connect(broker.url, ['dvr/box/module/#', 'homeassistant/binary_sensor/#']);
  t.teardown(() => watcher.close());

  await supervisor.start();
  t.match(alarms.modules(), [{ id: 'io1', bus: 'bus1', address: 2, online: true, since: Number, error: null }]);
  t.match(alarms.inputs().find((i) => i.input === 'io1.in3'), { name: 'Back door', active: true, alarm: true, fault: null }, 'the open door is known from the first poll');
  t.match(of('alarm'), [{ source: 'modbus:io1', input: 'io1.in3', active: true }]);
  t.match(await message(t, watcher, (topic) => topic.endsWith('/module_io1/config')), {
    name: 'Module io1',
    device_class: 'connectivity',
    state_topic: 'dvr/box/module/io1/state',
    value_template: '{{ value_json.state }}',
    payload_on: 'ON',
    payload_off: 'OFF',
  });
  t.match(await message(t, watcher, (topic) => topic === STATE), { state: 'ON', bus: 'bus1', address: 2 });

  await alarms.relay('io1.out2', true);
  await until(t, 'relay 2 on at the module', () => sim.coils() === '01000000');

  // The module loses power.
  const killedAt = Date.now();
  const mark = events.length;
  await sim.kill();
  await until(t, 'the module to be reported offline', () => of('alarmModuleState', mark).length > 0);
  t.match(of('alarmModuleState', mark), [{ module: 'io1', bus: 'bus1', address: 2, state: 'offline', previous: 'online', detail: /no reply within 150 ms/ }]);
  const [down] = alarms.modules();
  t.match(down, { online: false, error: /device 2, read discrete inputs 0\.\.7: no reply within 150 ms/ });
  t.ok(down!.since! >= killedAt, 'offline since after the kill');
  const why = /^Modbus module io1 \(address 2 on bus1\) is not answering since \d{4}-[\d-]+T[\d:.]+Z: /;
  t.match(alarms.inputs().find((i) => i.input === 'io1.in3'), { active: true, alarm: true, fault: why }, 'the door stays open in the status, with why the module is not heard');
  t.match(alarms.relays().find((r) => r.relay === 'io1.out2'), { on: true, fault: why });
  t.equal(of('alarmFault', mark).length, 16, 'every line of the module is reported once');
  t.match(await message(t, watcher, (topic, v) => topic === STATE && v['state'] === 'OFF'), { state: 'OFF', detail: /no reply/ });
  const offSeen = watcher.seen.length;
  await alarms.relay('io1.out4', true); // kept for when it is back
  await sleep(600);
  t.same([...of('alarmInput', mark), ...of('alarm', mark)], [], 'no input changes from a dead bus');
  t.equal(of('alarmModuleState', mark).length, 1, 'offline once, not at every poll');

  // Power back: a fresh module, every relay off; the door is still open.
  const back = events.length;
  sim = new SimProcess(pair.b, ['--silent']);
  await sim.ready;
  sim.send('in 3 1');
  sim.send('silent 0');
  await until(t, 'the module to be reported online', () => of('alarmModuleState', back).length > 0);
  t.match(of('alarmModuleState', back), [{ module: 'io1', state: 'online', previous: 'offline' }]);
  t.equal(of('alarmRestored', back).length, 16);
  await until(t, 'relays 2 and 4 re-applied', () => sim.coils() === '01010000');
  t.match(alarms.modules(), [{ online: true, error: null, lastError: /no reply/, lastErrorAt: Number }]);
  t.ok(alarms.modules()[0]!.since! > down!.since!);
  t.match(alarms.inputs().find((i) => i.input === 'io1.in3'), { active: true, alarm: true, fault: null });
  t.match(alarms.relays().find((r) => r.relay === 'io1.out4'), { on: true, fault: null });
  t.match(await message(t, watcher, (topic, v) => topic === STATE && v['state'] === 'ON', offSeen), { state: 'ON' });
  t.equal((await retained(broker.url, STATE))?.includes('"state":"ON"'), true, 'Home Assistant finds it connected after a restart of its own');
  await sleep(300);
  t.same([...of('alarmInput', mark), ...of('alarm', mark)], [], 'the door did not change, and nothing says it did');

  // A typo on the simulator's control line is an error there, and the module stays on the bus.
  sim.send('in 9 1');
  sim.send('silent maybe');
  await until(t, 'the simulator to refuse both', () => sim.errors.join('').split('\n').filter(Boolean).length >= 2);
  t.match(sim.errors.join(''), /no input 9 \(inputs are 1\.\.8\)[\s\S]*silent takes 0 or 1, got "maybe"/);
  sim.send('in 3 0');
  await until(t, 'the door closing to arrive', () => of('alarm', back).length > 0);
  t.match(of('alarm', back), [{ source: 'modbus:io1', input: 'io1.in3', active: false }]);
});

/** The first JSON message from `from` on that `pred` accepts. */
async function message(t: Test, w: Watcher, pred: (topic: string, v: Record<string, unknown>) => boolean, from = 0): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await until(t, 'an MQTT message', () => {
    for (const s of w.seen.slice(from)) {
      if (!s.text.startsWith('{')) continue;
      const v = JSON.parse(s.text) as Record<string, unknown>;
      if (pred(s.topic, v)) return (found = v), true;
    }
    return false;
  });
  return found ?? {};
}
